-- Stage 3: orders per customer and day: the join that is skewed on customer_1.
--
-- 60% of the orders belong to customer_1. In a partitioned hash join all of them hash to one
-- partition, so one task does most of the work while the others wait (EXPLAIN ANALYZE flags it:
-- "SKEW: one partition holds ...x the median rows"). The SKEW hint salts customer_1's orders into
-- deltagres.skew.salt_buckets buckets and replicates customer_1's row of customers once per
-- bucket, so the hot key is spread over all partitions; the rows are exactly the plain join's.

INSERT INTO retail.customer_orders REPLACE WHERE order_date = DATE '${run_date}'
SELECT /*+ SKEW('o', 'customer_id', ('customer_1')) */
       o.order_date, o.customer_id, c.segment, count(*) AS orders, sum(o.amount) AS amount
FROM retail.orders o
JOIN retail.customers c ON o.customer_id = c.customer_id
WHERE o.order_date = DATE '${run_date}'
GROUP BY o.order_date, o.customer_id, c.segment;

-- The same join salted by hand, as the seed's Spark job did it: a random salt in [0, n) on the
-- big side, the small side exploded n times, and the salt added to the join key. It needs no
-- hint, but it changes the query's text and its randomness makes every run's plan different.
-- The check below proves both forms give the same rows (assert_true fails the stage otherwise).
SELECT assert_true(count(*) = 0, 'the hand-salted join differs from the SKEW-hinted join') AS same_rows
FROM (
    (SELECT customer_id, segment, orders, amount FROM retail.customer_orders
     WHERE order_date = DATE '${run_date}'
     EXCEPT
     SELECT customer_id, segment, count(*), sum(amount) FROM (
         SELECT o.customer_id, c.segment, o.amount
         FROM (SELECT *, CAST(floor(random() * 8) AS BIGINT) AS salt FROM retail.orders
               WHERE order_date = DATE '${run_date}') o
         JOIN (SELECT c.*, s.salt FROM retail.customers c CROSS JOIN generate_series(0, 7) AS s(salt)) c
           ON concat_ws('#', o.customer_id, o.salt) = concat_ws('#', c.customer_id, c.salt)
     ) salted GROUP BY customer_id, segment)
    UNION ALL
    (SELECT customer_id, segment, count(*), sum(amount) FROM (
         SELECT o.customer_id, c.segment, o.amount
         FROM (SELECT *, CAST(floor(random() * 8) AS BIGINT) AS salt FROM retail.orders
               WHERE order_date = DATE '${run_date}') o
         JOIN (SELECT c.*, s.salt FROM retail.customers c CROSS JOIN generate_series(0, 7) AS s(salt)) c
           ON concat_ws('#', o.customer_id, o.salt) = concat_ws('#', c.customer_id, c.salt)
     ) salted GROUP BY customer_id, segment
     EXCEPT
     SELECT customer_id, segment, orders, amount FROM retail.customer_orders
     WHERE order_date = DATE '${run_date}')
) differences;
