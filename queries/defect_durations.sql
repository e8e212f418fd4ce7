-- name: defect_durations(as_of)
-- Each data-defect incident with how long it took to resolve, or how old it
-- is when still open at :as_of (resolved after :as_of counts as open).
-- Parameters: as_of timestamp (UTC).
-- Grain: one row per defect opened at or before :as_of.
-- Key: defect_id
-- Output: defect_id varchar, domain varchar, severity varchar, week_start date,
--   opened_at timestamp, resolved_at timestamp, is_open boolean,
--   resolution_h double, age_h double
with

defects as (
    select
        defect_id,
        coalesce(domain, 'unknown') as domain,
        severity,
        opened_at,
        case when resolved_at <= :as_of then resolved_at end as resolved_at
    from defects
    where opened_at <= :as_of
),

final as (
    select
        defect_id,
        domain,
        severity,
        cast(date_trunc('week', opened_at) as date) as week_start,
        opened_at,
        resolved_at,
        resolved_at is null as is_open,
        extract(epoch from (resolved_at - opened_at)) / 3600.0 as resolution_h,
        case
            when resolved_at is null
                then extract(epoch from (cast(:as_of as timestamp) - opened_at)) / 3600.0
        end as age_h
    from defects
)

select * from final
order by opened_at, defect_id
