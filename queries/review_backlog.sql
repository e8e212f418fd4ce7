-- name: review_backlog(as_of)
-- What is waiting for review at the as-of time, and for how long.
-- awaiting_review: submitted at or before :as_of with no review at or before it
--   (this is the review_backlog KPI). awaiting_final: with an accepting precheck
--   at or before :as_of but no final review at or before it.
-- Age = as_of - submitted_at, in buckets <1 d, 1-3 d, 3-7 d, >7 d.
-- Parameters: as_of timestamp (UTC).
-- Grain: one row per stage x slice x dataset_version x vendor x tier x annotator x ISO week.
-- Output: stage varchar, domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, vendor varchar, tier varchar, annotator_id varchar, week_start date,
--   n_backlog bigint, n_age_lt_1d bigint, n_age_1_3d bigint, n_age_3_7d bigint,
--   n_age_gt_7d bigint, oldest_age_h double
with

reviews_so_far as (
    select
        annotation_id,
        count(*) as n_reviews,
        count(case when stage = 'precheck' and verdict = 'accept' then 1 end)
            as n_precheck_accept,
        count(case when stage = 'final' then 1 end) as n_final
    from reviews
    where reviewed_at <= :as_of
    group by annotation_id
),

waiting as (
    select
        case
            when reviews_so_far.annotation_id is null then 'awaiting_review'
            when reviews_so_far.n_precheck_accept > 0 and reviews_so_far.n_final = 0
                then 'awaiting_final'
        end as stage,
        facts.domain,
        facts.difficulty,
        facts.risk_class,
        facts.dataset_version,
        facts.vendor,
        facts.tier,
        facts.annotator_id,
        facts.week_start,
        extract(epoch from (cast(:as_of as timestamp) - facts.submitted_at)) / 3600.0 as age_h
    from annotation_facts as facts
    left join reviews_so_far on facts.annotation_id = reviews_so_far.annotation_id
    where facts.submitted_at <= :as_of
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
        count(case when age_h >= 72 and age_h < 168 then 1 end) as n_age_3_7d,
        count(case when age_h >= 168 then 1 end) as n_age_gt_7d,
        max(age_h) as oldest_age_h
    from waiting
    where stage is not null
    group by
        stage, domain, difficulty, risk_class, dataset_version, vendor, tier, annotator_id,
        week_start
)

select * from final
