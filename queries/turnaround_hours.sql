-- name: turnaround_hours()
-- How long annotations wait for their decision (latest review): the frequency
-- of each turnaround, in hours, for exact medians and p90s in any grouping.
-- Keep the definition in step with turnaround_quantiles.sql (the report's).
-- Grain: one row per slice x dataset_version x vendor x tier x annotator x ISO week
--   (of submitted_at) x turnaround_h.
-- Key: domain, difficulty, risk_class, dataset_version, vendor, tier,
--   annotator_id, week_start, turnaround_h
-- Output: domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, vendor varchar, tier varchar, annotator_id varchar, week_start date,
--   turnaround_h double, n_annotations bigint
with

decided as (
    select
        domain,
        difficulty,
        risk_class,
        dataset_version,
        vendor,
        tier,
        annotator_id,
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
        dataset_version,
        vendor,
        tier,
        annotator_id,
        week_start,
        turnaround_h,
        count(*) as n_annotations
    from decided
    group by
        domain, difficulty, risk_class, dataset_version, vendor, tier, annotator_id, week_start,
        turnaround_h
)

select * from final
