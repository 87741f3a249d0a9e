select
    customer_id,
    name as customer_name,
    segment,
    country,
    signup_date
from {{ source('retail', 'customers') }}
