-- Stage 4: the day's orders enriched with customer and product attributes.
--
-- customers (1e5 rows) and inventory (1e3 rows) are small next to orders, so they are broadcast:
-- each is collected once and every partition of orders probes it, with no shuffle of the big
-- side (EXPLAIN shows HashJoinExec mode=CollectLeft with the dimension as build side). Without
-- the hint DataFusion decides from size estimates, and a big dimension gets a partitioned join.
--
-- The day's partition is rebuilt from retail.orders as it stands after the day's MERGE (stage 5
-- runs before this one). Rebuilding only the day, rather than CREATE OR REPLACE of the whole
-- table, keeps runs for different days independent: a whole-table rebuild by one run could read
-- another day's partition halfway through that day's run and commit a stale copy of it.

INSERT INTO retail.orders_enriched REPLACE WHERE order_date = DATE '${run_date}'
SELECT /*+ BROADCAST(c), BROADCAST(i) */
       o.order_id, o.order_date, o.customer_id, c.segment, c.country,
       o.sku, i.category, o.quantity, o.amount, o.status
FROM retail.orders o
JOIN retail.customers c ON o.customer_id = c.customer_id
JOIN retail.inventory i ON o.sku = i.sku
WHERE o.order_date = DATE '${run_date}';
