-- Stage 7: daily revenue per customer segment, and checks that stop the pipeline on bad data.
--
-- The MERGE recomputes the day from retail.orders and upserts it, deleting segments that no
-- longer have orders that day, so a rerun leaves the same rows. The checks fail the task (and fire
-- on_failure) when an amount is negative or an order names a customer we do not know.

MERGE INTO retail.daily_revenue t
USING (
    SELECT o.order_date, c.segment, count(*) AS orders, sum(o.amount) AS revenue
    FROM retail.orders o JOIN retail.customers c ON o.customer_id = c.customer_id
    WHERE o.order_date = DATE '${run_date}'
    GROUP BY o.order_date, c.segment
) s
ON t.order_date = s.order_date AND t.segment = s.segment
WHEN MATCHED THEN UPDATE SET orders = s.orders, revenue = s.revenue
WHEN NOT MATCHED THEN INSERT (order_date, segment, orders, revenue)
    VALUES (s.order_date, s.segment, s.orders, s.revenue)
WHEN NOT MATCHED BY SOURCE AND t.order_date = DATE '${run_date}' THEN DELETE;

SELECT assert_true(count(*) = 0, 'orders with a negative amount on ${run_date}') AS no_negative_amounts
FROM retail.orders WHERE order_date = DATE '${run_date}' AND amount < 0;

SELECT assert_true(count(*) = 0, 'orders of ${run_date} name customers missing from retail.customers') AS no_orphans
FROM retail.orders o
WHERE o.order_date = DATE '${run_date}'
  AND NOT EXISTS (SELECT 1 FROM retail.customers c WHERE c.customer_id = o.customer_id);
