-- Stage 6: compact the day's small files and cluster them for the filters people run.
--
-- ZORDER BY (customer_id, order_date) sorts rows along a curve through both columns, so each
-- file covers a narrow range of customers: a filter on customer_id (or on order_date) then reads
-- a small share of the files (DESCRIBE DETAIL and EXPLAIN ANALYZE's "files=.. of=.. pruned=.."
-- show it). order_date is the partition column, so within a day the key is customer_id. VACUUM
-- removes files no version within the retention needs.

OPTIMIZE retail.orders WHERE order_date = DATE '${run_date}' ZORDER BY (customer_id, order_date);
OPTIMIZE retail.orders_enriched WHERE order_date = DATE '${run_date}' ZORDER BY (customer_id, order_date);
VACUUM retail.orders RETAIN ${vacuum_retain_hours} HOURS;
