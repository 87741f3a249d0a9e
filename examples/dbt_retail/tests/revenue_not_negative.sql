-- A singular test: no customer has negative revenue.
select customer_id from {{ ref('customer_revenue') }} where revenue < 0
