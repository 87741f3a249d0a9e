-- Revenue per day and segment, labelled from the seed.
select
    o.order_date,
    s.label as segment,
    s.priority,
    count(*) as orders,
    sum(o.amount) as revenue
from {{ ref('stg_orders') }} o
join {{ ref('stg_customers') }} c on c.customer_id = o.customer_id
join {{ ref('segments') }} s on s.segment = c.segment
where o.status <> 'returned'
group by o.order_date, s.label, s.priority
