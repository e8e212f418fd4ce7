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

candidates as (
    select
        reviewed._file,
        reviewed._row,
        reviewed.annotation_id,
        reviewed.reviewed_at,
    from reviewed
    inner join submitted
        on reviewed.annotation_id = submitted.annotation_id
    where reviewed.reviewed_at < submitted.submitted_at
),

-- A duplicated annotation_id (reported by its unique rule) is judged by its first
-- row only, as everywhere else: a later copy's time must not make a review "early".
-- Only the few ids among the candidates are looked up again.
first_submitted as (
    select
        annotation_id,
        submitted_at,
    from annotations
    where annotation_id in (select annotation_id from candidates)
    qualify row_number() over (partition by annotation_id order by _file, _row) = 1
),

too_early as (
    select distinct
        candidates._file,
        candidates._row,
        candidates.annotation_id,
        candidates.reviewed_at,
        first_submitted.submitted_at,
    from candidates
    inner join first_submitted
        on candidates.annotation_id = first_submitted.annotation_id
    where candidates.reviewed_at < first_submitted.submitted_at
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
