-- name: defect_resolved_after_opened()
-- A defect cannot be resolved before it was opened.
-- Grain: one row per defect whose resolved_at is before its opened_at.
-- Output: file varchar, row bigint, column varchar, reason varchar
with

defects_resolved as (
    select
        _file,
        _row,
        opened_at,
        resolved_at,
    from defects
    where resolved_at is not null and opened_at is not null
),

final as (
    select
        _file as file,
        _row as row,
        'resolved_at' as "column",
        'resolved_at ' || cast(resolved_at as varchar) || ' UTC is before opened_at '
        || cast(opened_at as varchar) || ' UTC' as reason,
    from defects_resolved
    where resolved_at < opened_at
)

select * from final
