-- name: turnaround_quantiles()
-- Median and p90 hours from submission to decision (the latest review) for
-- the report's groupings: overall, per slice and per ISO week (of
-- submitted_at). Computed here so the turnarounds never leave the
-- database (the frequency table turnaround_hours serves the dashboard's free
-- groupings). quantile_cont interpolates linearly between order statistics,
-- as kpis.md asks; SQLGlot writes it as Spark's exact percentile_cont.
-- In a row, the columns its grouping leaves out are NULL (domain and
-- week_start are never NULL in the data; missing difficulty and risk_class
-- read 'unknown').
-- Keep the definition in step with turnaround_hours.sql (the dashboard's).
-- Grain: one row per grouping x group.
-- Key: domain, difficulty, risk_class, week_start
-- Output: domain varchar, difficulty varchar, risk_class varchar, week_start date,
--   turnaround_median_h double, turnaround_p90_h double
with

decided as (
    select
        domain,
        difficulty,
        risk_class,
        week_start,
        extract(epoch from (decided_at - submitted_at)) / 3600.0 as turnaround_h
    from annotation_facts
    where decided_at is not null
),

final as (
    select
        domain,
        difficulty,
        risk_class,
        week_start,
        quantile_cont(turnaround_h, 0.5) as turnaround_median_h,
        quantile_cont(turnaround_h, 0.9) as turnaround_p90_h
    from decided
    group by grouping sets (
        (),
        (domain, difficulty, risk_class),
        (week_start)
    )
)

select * from final
