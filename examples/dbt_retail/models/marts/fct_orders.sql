-- Orders with their customer's segment, built incrementally: each run merges the orders placed
-- or changed since the last one (a late status change updates the row in place).
{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='merge'
    )
}}
select
    o.order_id,
    o.order_date,
    o.order_ts,
    o.customer_id,
    c.segment,
    o.status,
    o.quantity,
    o.amount
from {{ ref('stg_orders') }} o
left join {{ ref('stg_customers') }} c on c.customer_id = o.customer_id
{% if is_incremental() %}
where o.order_date >= (select max(order_date) from {{ this }})
{% endif %}
