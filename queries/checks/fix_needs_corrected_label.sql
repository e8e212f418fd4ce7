-- name: fix_needs_corrected_label()
-- A `fix` verdict must say what the label should be.
-- Grain: one row per review whose verdict is fix and whose corrected_label is empty.
-- Output: file varchar, row bigint, column varchar, reason varchar
with

fixes as (
    select
        _file,
        _row,
        corrected_label,
    from reviews
    where verdict = 'fix'
),

final as (
    select
        _file as file,
        _row as row,
        'corrected_label' as "column",
        'verdict is fix but corrected_label is empty' as reason,
    from fixes
    where nullif(trim(corrected_label), '') is null
)

select * from final
