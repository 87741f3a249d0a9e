-- Stage 2: ingest the day's raw orders (parquet) into retail.orders.
--
-- REPLACE WHERE swaps exactly the day's partition in one commit: a rerun of the same day replaces
-- what the first run wrote instead of appending a second copy (idempotent), and nothing outside
-- the day is touched. Customers and inventory are small dimensions, refreshed in full.

INSERT INTO retail.orders REPLACE WHERE order_date = DATE '${run_date}'
SELECT order_id, customer_id, sku, quantity, unit_price, amount, status, order_ts, order_date
FROM read_parquet('${input_dir}/orders/order_date=${run_date}/*.parquet');

INSERT OVERWRITE retail.customers
SELECT customer_id, name, segment, country, signup_date
FROM read_parquet('${input_dir}/customers/*.parquet');

INSERT OVERWRITE retail.inventory
SELECT sku, product_name, category, unit_price, stock_qty, warehouse
FROM read_parquet('${input_dir}/inventory/*.parquet');
