-- name: calibration_week_is_iso_week()
-- A calibration decision names the ISO week of its meeting as YYYY-Www, a week that exists.
-- Grain: one row per calibration decision whose week is not an ISO week.
-- Output: file varchar, row bigint, column varchar, reason varchar
with

decisions as (
    select
        _file,
        _row,
        week,
        regexp_full_match(week, '[0-9]{4}-W[0-9]{2}') as is_written_as_week,
    from calibration_decisions
    -- an empty week is reported by its required rule
    where nullif(trim(week), '') is not null
),

weeks as (
    select
        *,
        case when is_written_as_week then cast(left(week, 4) as integer) end as iso_year,
        case when is_written_as_week then cast(right(week, 2) as integer) end as iso_week,
        -- 28 December always falls in the last ISO week of its year
        case
            when is_written_as_week then week(make_date(cast(left(week, 4) as integer), 12, 28))
        end as n_weeks_in_year,
    from decisions
),

final as (
    select
        _file as file,
        _row as row,
        'week' as "column",
        case
            when not is_written_as_week
                then 'week ''' || week || ''' is not an ISO week written YYYY-Www'
            else 'week ''' || week || ''' does not exist: ' || iso_year || ' has '
                || n_weeks_in_year || ' ISO weeks'
        end as reason,
    from weeks
    where not is_written_as_week or iso_week not between 1 and n_weeks_in_year
)

select * from final
