-- Quickstart: create, fill, change and query a Delta table through deltagres.
-- Run with:  psql -h 127.0.0.1 -p 5433 -v ON_ERROR_STOP=1 -f sql/examples/quickstart.sql

CREATE SCHEMA IF NOT EXISTS demo;

-- A partitioned Delta table: one folder per order_date under data/demo/orders/.
CREATE TABLE IF NOT EXISTS demo.orders (
    order_id    BIGINT NOT NULL,
    customer_id TEXT   NOT NULL,
    amount      DECIMAL(12,2),
    status      TEXT,
    order_date  DATE   NOT NULL
) USING DELTA PARTITIONED BY (order_date)
  TBLPROPERTIES ('owner' = 'demo');

-- Each statement commits one Delta version.
INSERT INTO demo.orders VALUES
    (1, 'customer_1', 10.50, 'placed',  DATE '2024-01-01'),
    (2, 'customer_2', 20.00, 'placed',  DATE '2024-01-01'),
    (3, 'customer_1',  5.25, 'shipped', DATE '2024-01-02');

UPDATE demo.orders SET status = 'delivered' WHERE order_id = 3;
DELETE FROM demo.orders WHERE order_id = 2;

SELECT customer_id, count(*) AS orders, sum(amount) AS revenue
FROM demo.orders
GROUP BY customer_id
ORDER BY customer_id;

-- A derived table, rebuilt on every run.
CREATE OR REPLACE TABLE demo.revenue_by_day AS
SELECT order_date, sum(amount) AS revenue FROM demo.orders GROUP BY order_date;

SELECT * FROM demo.revenue_by_day ORDER BY order_date;
