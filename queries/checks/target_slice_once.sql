-- name: target_slice_once()
-- A slice has one target: a second targets row for the same domain, difficulty
-- and risk_class (an empty one, "any", the same as another empty one) would give
-- the slice two coverages, or, with equal targets, count its items twice.
-- Grain: one row per targets row whose slice an earlier row already has.
-- Output: file varchar, row bigint, column varchar, reason varchar
with

numbered as (
    select
        _file,
        _row,
        domain,
        difficulty,
        risk_class,
        row_number() over slice_rows as nth,
        first_value(_file) over slice_rows as first_file,
        first_value(_row) over slice_rows as first_row
    from targets
    window slice_rows as (partition by domain, difficulty, risk_class order by _file, _row)
),

final as (
    select
        _file as file,
        _row as row,
        'domain, difficulty, risk_class' as "column",
        'the slice ' || coalesce(domain, '(empty)') || ' / ' || coalesce(difficulty, 'any')
        || ' / ' || coalesce(risk_class, 'any') || ' already has a target (row '
        || cast(first_row as varchar)
        || case when first_file <> _file then ' of ' || first_file else '' end
        || '); keep one row per slice' as reason
    from numbered
    where nth > 1
)

select * from final
