-- One row per order, typed and named for the marts.
select
    order_id,
    customer_id,
    sku,
    quantity,
    amount,
    status,
    order_ts,
    order_date
from {{ source('retail', 'orders') }}
