-- name: annotation_kpi_counts(by_annotator)
-- The additive counts behind every annotation-level KPI, at the finest grain
-- any dashboard grouping needs, so polars can roll them up to any grouping.
-- Parameters: by_annotator boolean: true keeps the dashboard's grain; false (or
--   NULL) leaves dataset_version, vendor, tier and annotator_id NULL, so rows
--   are per slice x week alone: all the report groups by, and far fewer rows.
-- Grain: one row per slice x dataset_version x vendor x tier x annotator x ISO week
--   (week of the annotation's submitted_at, as week_start, a Monday).
-- Key: domain, difficulty, risk_class, dataset_version, vendor, tier, annotator_id, week_start
-- Output: domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, vendor varchar, tier varchar, annotator_id varchar,
--   week_start date, n_annotations bigint, n_decided bigint, n_accepted bigint,
--   n_rework bigint, n_accepted_known bigint, n_accepted_wrong bigint,
--   n_gold bigint, n_gold_right bigint, n_programmatic_known bigint,
--   n_programmatic_right bigint, cost decimal(38,18), n_cost_missing bigint,
--   n_precheck bigint, n_precheck_accept bigint, n_overturn_base bigint,
--   n_overturned bigint
with

facts as (
    select
        domain,
        difficulty,
        risk_class,
        case when :by_annotator then dataset_version end as dataset_version,
        case when :by_annotator then vendor end as vendor,
        case when :by_annotator then tier end as tier,
        case when :by_annotator then annotator_id end as annotator_id,
        week_start,
        is_human,
        label,
        gold_label,
        decision_verdict,
        truth_is_error,
        cost,
        n_cost_missing,
        n_precheck,
        n_precheck_accept,
        latest_final_verdict
    from annotation_facts
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
        count(*) as n_annotations,
        count(decision_verdict) as n_decided,
        count(case when decision_verdict = 'accept' then 1 end) as n_accepted,
        count(case when decision_verdict in ('reject', 'fix') then 1 end) as n_rework,
        count(case when decision_verdict = 'accept' and truth_is_error is not null then 1 end)
            as n_accepted_known,
        count(case when decision_verdict = 'accept' and truth_is_error then 1 end)
            as n_accepted_wrong,
        count(case when is_human and gold_label is not null then 1 end) as n_gold,
        count(case when is_human and label = gold_label then 1 end) as n_gold_right,
        count(case when not is_human and truth_is_error is not null then 1 end)
            as n_programmatic_known,
        count(case when not is_human and not truth_is_error then 1 end)
            as n_programmatic_right,
        sum(cost) as cost,
        cast(sum(n_cost_missing) as bigint) as n_cost_missing,
        cast(sum(n_precheck) as bigint) as n_precheck,
        cast(sum(n_precheck_accept) as bigint) as n_precheck_accept,
        count(case when n_precheck_accept > 0 and latest_final_verdict is not null then 1 end)
            as n_overturn_base,
        count(
            case
                when n_precheck_accept > 0 and latest_final_verdict <> 'accept' then 1
            end
        ) as n_overturned
    from facts
    group by
        domain, difficulty, risk_class, dataset_version, vendor, tier, annotator_id, week_start
)

select * from final
