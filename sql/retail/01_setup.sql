-- Stage 1: schemas and Delta tables of the retail pipeline.
--
-- Idempotent (IF NOT EXISTS), so every run starts with it. retail.orders is partitioned by
-- order_date: each day's load replaces exactly one partition (stage 2), and concurrent runs for
-- different days write to different partitions, so their commits do not conflict.

CREATE SCHEMA IF NOT EXISTS retail;

CREATE TABLE IF NOT EXISTS retail.customers (
    customer_id TEXT NOT NULL,
    name        TEXT,
    segment     TEXT,
    country     TEXT,
    signup_date DATE
);

CREATE TABLE IF NOT EXISTS retail.inventory (
    sku          TEXT NOT NULL,
    product_name TEXT,
    category     TEXT,
    unit_price   DECIMAL(10, 2),
    stock_qty    INT,
    warehouse    TEXT
);

CREATE TABLE IF NOT EXISTS retail.orders (
    order_id    BIGINT NOT NULL,
    customer_id TEXT,
    sku         TEXT,
    quantity    INT,
    unit_price  DECIMAL(10, 2),
    amount      DECIMAL(12, 2),
    status      TEXT,
    order_ts    TIMESTAMP,
    order_date  DATE
) PARTITIONED BY (order_date);

-- Per customer and day, from the skewed join of stage 3.
CREATE TABLE IF NOT EXISTS retail.customer_orders (
    order_date  DATE NOT NULL,
    customer_id TEXT NOT NULL,
    segment     TEXT,
    orders      BIGINT,
    amount      DECIMAL(22, 2)
) PARTITIONED BY (order_date);

CREATE TABLE IF NOT EXISTS retail.orders_enriched (
    order_id    BIGINT NOT NULL,
    order_date  DATE,
    customer_id TEXT,
    segment     TEXT,
    country     TEXT,
    sku         TEXT,
    category    TEXT,
    quantity    INT,
    amount      DECIMAL(12, 2),
    status      TEXT
) PARTITIONED BY (order_date);

CREATE TABLE IF NOT EXISTS retail.daily_revenue (
    order_date DATE NOT NULL,
    segment    TEXT NOT NULL,
    orders     BIGINT,
    revenue    DECIMAL(22, 2)
);
