-- Revenue per customer over all orders that were not returned.
select
    c.customer_id,
    c.customer_name,
    c.segment,
    count(o.order_id) as orders,
    coalesce(sum(o.amount), 0) as revenue,
    min(o.order_date) as first_order_date,
    max(o.order_date) as last_order_date
from {{ ref('stg_customers') }} c
left join {{ ref('stg_orders') }} o
    on o.customer_id = c.customer_id and o.status <> 'returned'
group by c.customer_id, c.customer_name, c.segment
