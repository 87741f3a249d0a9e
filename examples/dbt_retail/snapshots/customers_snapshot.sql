-- Customers as slowly changing dimension (type 2): a segment or country change closes the old
-- row (dbt_valid_to) and opens a new one.
{% snapshot customers_snapshot %}
{{
    config(
        target_schema=env_var('DBT_DELTAGRES_SCHEMA', 'analytics') ~ '_snapshots',
        unique_key='customer_id',
        strategy='check',
        check_cols=['segment', 'country'],
    )
}}
select customer_id, name, segment, country from {{ source('retail', 'customers') }}
{% endsnapshot %}
