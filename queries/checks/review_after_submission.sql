-- name: review_after_submission()
-- A review cannot judge a label before the label was submitted.
-- Grain: one row per review whose reviewed_at is before its annotation's submitted_at.
-- Output: file varchar, row bigint, column varchar, reason varchar
with

reviewed as (
    select
        _file,
        _row,
        annotation_id,
        reviewed_at,
    from reviews
    where reviewed_at is not null
),

submitted as (
    select
        _file,
        _row,
        annotation_id,
        submitted_at,
    from annotations
    where submitted_at is not null
),

too_early as (
    select
        reviewed._file,
        reviewed._row,
        reviewed.annotation_id,
        reviewed.reviewed_at,
        submitted.submitted_at,
    from reviewed
    inner join submitted
        on reviewed.annotation_id = submitted.annotation_id
    where reviewed.reviewed_at < submitted.submitted_at
    -- a duplicated annotation_id (reported by its unique rule) names its first row only
    qualify row_number() over (
        partition by reviewed._file, reviewed._row
        order by submitted._file, submitted._row
    ) = 1
),

final as (
    select
        _file as file,
        _row as row,
        'reviewed_at' as "column",
        'reviewed_at ' || cast(reviewed_at as varchar) || ' UTC is before annotation '''
        || annotation_id || ''' was submitted ('
        || cast(submitted_at as varchar) || ' UTC)' as reason,
    from too_early
)

select * from final
