-- name: review_backlog(as_of)
-- What is waiting for review at the as-of time, and for how long.
-- awaiting_review: submitted at or before :as_of with no review at or before it
--   (this is the review_backlog KPI). awaiting_final: with an accepting precheck
--   at or before :as_of but no final review at or before it.
-- Age = as_of - submitted_at, in buckets <1 d, 1-3 d, 3-7 d, >7 d, read as
--   written: under 24 h; 24 h to under 72 h; 72 h to 168 h; over 168 h (so an
--   age of exactly 7 days is not "> 7 d").
-- Parameters: as_of timestamp (UTC).
-- Grain: one row per stage x slice x dataset_version x vendor x tier x annotator x ISO week.
-- Key: stage, domain, difficulty, risk_class, dataset_version, vendor, tier,
--   annotator_id, week_start
-- Output: stage varchar, domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, vendor varchar, tier varchar, annotator_id varchar, week_start date,
--   n_backlog bigint, n_age_lt_1d bigint, n_age_1_3d bigint, n_age_3_7d bigint,
--   n_age_gt_7d bigint, oldest_age_h double
with

waiting as (
    select
        case
            when first_reviewed_at is null or first_reviewed_at > :as_of
                then 'awaiting_review'
            when first_precheck_accept_at <= :as_of
                and (first_final_at is null or first_final_at > :as_of)
                then 'awaiting_final'
        end as stage,
        domain,
        difficulty,
        risk_class,
        dataset_version,
        vendor,
        tier,
        annotator_id,
        week_start,
        extract(epoch from (cast(:as_of as timestamp) - submitted_at)) / 3600.0 as age_h
    from annotation_facts
    where submitted_at <= :as_of
),

final as (
    select
        stage,
        domain,
        difficulty,
        risk_class,
        dataset_version,
        vendor,
        tier,
        annotator_id,
        week_start,
        count(*) as n_backlog,
        count(case when age_h < 24 then 1 end) as n_age_lt_1d,
        count(case when age_h >= 24 and age_h < 72 then 1 end) as n_age_1_3d,
        count(case when age_h >= 72 and age_h <= 168 then 1 end) as n_age_3_7d,
        count(case when age_h > 168 then 1 end) as n_age_gt_7d,
        max(age_h) as oldest_age_h
    from waiting
    where stage is not null
    group by
        stage, domain, difficulty, risk_class, dataset_version, vendor, tier, annotator_id,
        week_start
)

select * from final
