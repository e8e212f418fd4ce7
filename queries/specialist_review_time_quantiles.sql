-- name: specialist_review_time_quantiles()
-- Median and p90 of final-stage review durations for the report's groupings:
-- overall, per slice and per ISO week (of reviewed_at). Computed here so the
-- durations never leave the database (the frequency table
-- specialist_review_times serves the dashboard's free groupings).
-- quantile_cont interpolates linearly between order statistics, as kpis.md
-- asks; SQLGlot writes it as Spark's exact percentile_cont. A final review
-- without a duration counts in no median, but its week is still a group (its
-- median NULL), as it is of every other grouping of the rows.
-- In a row, the columns its grouping leaves out are NULL (domain and
-- week_start are never NULL in the data; missing difficulty and risk_class
-- read 'unknown').
-- Keep the definition in step with specialist_review_times.sql (the dashboard's).
-- Grain: one row per grouping x group.
-- Key: domain, difficulty, risk_class, week_start
-- Output: domain varchar, difficulty varchar, risk_class varchar, week_start date,
--   specialist_review_time_median_s double, specialist_review_time_p90_s double
with

final_reviews as (
    select
        annotation_id,
        duration_s,
        cast(date_trunc('week', reviewed_at) as date) as week_start
    from reviews
    where stage = 'final'
),

sliced as (
    select
        facts.domain,
        facts.difficulty,
        facts.risk_class,
        final_reviews.week_start,
        final_reviews.duration_s
    from final_reviews
    inner join annotation_facts as facts on final_reviews.annotation_id = facts.annotation_id
),

final as (
    select
        domain,
        difficulty,
        risk_class,
        week_start,
        quantile_cont(duration_s, 0.5) as specialist_review_time_median_s,
        quantile_cont(duration_s, 0.9) as specialist_review_time_p90_s
    from sliced
    group by grouping sets (
        (),
        (domain, difficulty, risk_class),
        (week_start)
    )
)

select * from final
