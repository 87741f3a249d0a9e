-- Stage 5: apply the day's change feed to retail.orders with one MERGE.
--
-- Status changes and amount corrections update the matched order, op = 'delete' removes it, and
-- late orders (ids the table has not seen) are inserted. Matching on order_date as well as
-- order_id lets the merge read only the day's partition, so runs for different days do not
-- conflict. WITH SCHEMA EVOLUTION adds the feed's new column updated_on to the table. Rerunning
-- the day (stage 2 reloads the partition first) gives the same rows.

MERGE WITH SCHEMA EVOLUTION INTO retail.orders t
USING (
    SELECT order_id, customer_id, sku, quantity, unit_price, amount, status, order_ts, order_date, op,
           DATE '${run_date}' AS updated_on
    FROM read_parquet('${input_dir}/updates/order_date=${run_date}/*.parquet')
) s
ON t.order_id = s.order_id AND t.order_date = s.order_date AND t.order_date = DATE '${run_date}'
WHEN MATCHED AND s.op = 'delete' THEN DELETE
WHEN MATCHED THEN UPDATE SET
    status = s.status, amount = s.amount, quantity = s.quantity, updated_on = s.updated_on
WHEN NOT MATCHED AND s.op <> 'delete' THEN INSERT
    (order_id, customer_id, sku, quantity, unit_price, amount, status, order_ts, order_date, updated_on)
    VALUES (s.order_id, s.customer_id, s.sku, s.quantity, s.unit_price, s.amount, s.status,
            s.order_ts, s.order_date, s.updated_on);
