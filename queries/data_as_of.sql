-- name: data_as_of()
-- The default as-of time: the latest timestamp in any timestamp column of any table.
-- Grain: one row.
-- Output: as_of timestamp
with

latest as (
    select max(created_at) as latest_at from items
    union all select max(submitted_at) from annotations
    union all select max(reviewed_at) from reviews
    union all select max(audited_at) from audits
    union all select max(opened_at) from defects
    union all select max(resolved_at) from defects
    union all select max(evaluated_at) from benchmarks
    union all select max(recorded_at) from calibration_decisions
),

final as (
    select max(latest_at) as as_of from latest
)

select * from final
