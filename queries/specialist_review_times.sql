-- name: specialist_review_times()
-- How long final-stage (specialist) reviews take: the frequency of each
-- duration, so medians and p90s can be computed exactly for any grouping.
-- Reviews without a duration are a row of NULL duration_s: they count in no
-- median, but the groups they fall in are still listed.
-- Keep the definition in step with specialist_review_time_quantiles.sql (the report's).
-- Grain: one row per slice x dataset_version x vendor x tier x annotator x ISO week
--   (of reviewed_at) x duration_s. Vendor and tier are the annotation's.
-- Key: domain, difficulty, risk_class, dataset_version, vendor, tier,
--   annotator_id, week_start, duration_s
-- Output: domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, vendor varchar, tier varchar, annotator_id varchar, week_start date,
--   duration_s double, n_reviews bigint
with

final_reviews as (
    select
        annotation_id,
        duration_s,
        cast(date_trunc('week', reviewed_at) as date) as week_start
    from reviews
    where stage = 'final'
),

final as (
    select
        facts.domain,
        facts.difficulty,
        facts.risk_class,
        facts.dataset_version,
        facts.vendor,
        facts.tier,
        facts.annotator_id,
        final_reviews.week_start,
        final_reviews.duration_s,
        count(*) as n_reviews
    from final_reviews
    inner join annotation_facts as facts on final_reviews.annotation_id = facts.annotation_id
    group by
        facts.domain, facts.difficulty, facts.risk_class, facts.dataset_version,
        facts.vendor, facts.tier, facts.annotator_id, final_reviews.week_start,
        final_reviews.duration_s
)

select * from final
