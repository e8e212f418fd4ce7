-- name: annotation_facts()
-- Everything the KPIs need to know about each annotation, joined once.
-- Grain: one row per annotation (programmatic ones included).
-- Key: annotation_id
-- A model: registered as a view of the same name that the KPI queries read.
-- Decision = latest review by reviewed_at (ties: later review_id).
-- Truth = latest audit's is_error (ties: later audit_id); else label != gold,
-- where gold is items.gold_label, or else the item's latest calibration
-- decision for annotations submitted at or after it was recorded.
-- Costs fall back to duration_s / 3600 * hourly_rate; what cannot be derived
-- counts 0 and is counted in n_cost_missing. Costs are summed as decimal(38, 18)
-- (exact to 1e-18 of a currency unit): a sum of doubles depends on the order of
-- its terms, which parallel aggregation does not fix, so a report would change in
-- its last digits from one run to the next.
-- first_reviewed_at, first_precheck_accept_at and first_final_at (the earliest
-- review, accepting precheck and final review) say what was waiting at any
-- as-of time without going back to the reviews. n_reviews and n_audits count
-- the reviews and audits that found their annotation (queries/cross_table_integrity.sql
-- compares them with the tables).
-- Output: annotation_id varchar, item_id varchar, annotator_id varchar,
--   domain varchar, difficulty varchar, risk_class varchar, dataset_version varchar,
--   vendor varchar, tier varchar, is_human boolean, week_start date,
--   submitted_at timestamp, label varchar, decision_verdict varchar,
--   decided_at timestamp, truth_is_error boolean, gold_label varchar,
--   cost decimal(38,18), n_cost_missing bigint, n_precheck bigint,
--   n_precheck_accept bigint, latest_final_verdict varchar,
--   first_reviewed_at timestamp, first_precheck_accept_at timestamp,
--   first_final_at timestamp, n_reviews bigint, n_audits bigint
with

items as (
    select
        item_id,
        domain,
        coalesce(difficulty, 'unknown') as difficulty,
        coalesce(risk_class, 'unknown') as risk_class,
        coalesce(dataset_version, 'unknown') as dataset_version,
        gold_label
    from items
),

annotators as (
    select
        annotator_id,
        tier,
        coalesce(vendor, 'unknown') as vendor,
        hourly_rate
    from annotators
),

costed_reviews as (
    select
        reviews.annotation_id,
        reviews.review_id,
        reviews.stage,
        reviews.verdict,
        reviews.reviewed_at,
        cast(
            coalesce(reviews.cost, reviews.duration_s / 3600.0 * reviewers.hourly_rate)
            as decimal(38, 18)
        ) as cost
    from reviews
    left join annotators as reviewers on reviews.reviewer_id = reviewers.annotator_id
),

-- The latest review is found in two steps, both exact. arg_max on reviewed_at
-- alone cannot tell two reviews at an annotation's latest time apart, and that
-- takes two reviews at one instant: n_reviews = 2 with first_reviewed_at =
-- decided_at, or more than two reviews (then a tie is possible, not certain).
-- Those few annotations are decided again in tie_broken, on a (time, id) key;
-- the key costs more than the rest of the rollup, so the others skip it.
-- The same rule covers latest_final_verdict: final reviews are among them.
review_rollup as (
    select
        annotation_id,
        arg_max(verdict, reviewed_at) as decision_verdict,
        max(reviewed_at) as decided_at,
        arg_max(
            case when stage = 'final' then verdict end,
            case when stage = 'final' then reviewed_at end
        ) as latest_final_verdict,
        sum(coalesce(cost, 0)) as cost,
        count(case when cost is null then 1 end) as n_cost_missing,
        count(case when stage = 'precheck' then 1 end) as n_precheck,
        count(case when stage = 'precheck' and verdict = 'accept' then 1 end)
            as n_precheck_accept,
        min(reviewed_at) as first_reviewed_at,
        min(case when stage = 'precheck' and verdict = 'accept' then reviewed_at end)
            as first_precheck_accept_at,
        min(case when stage = 'final' then reviewed_at end) as first_final_at,
        count(*) as n_reviews
    from costed_reviews
    group by annotation_id
),

possibly_tied as (
    select annotation_id
    from review_rollup
    where n_reviews > 2 or (n_reviews = 2 and first_reviewed_at = decided_at)
),

-- max_by with a (time, id) key picks the latest row, ties to the later id, in one
-- pass (a window per annotation would sort every review twice).
tie_broken as (
    select
        annotation_id,
        max_by(verdict, struct_pack(at := reviewed_at, id := review_id)) as decision_verdict,
        max_by(
            case when stage = 'final' then verdict end,
            case when stage = 'final' then struct_pack(at := reviewed_at, id := review_id) end
        ) as latest_final_verdict
    from reviews
    where annotation_id in (select annotation_id from possibly_tied)
    group by annotation_id
),

audit_rollup as (
    select
        annotation_id,
        max_by(is_error, struct_pack(at := audited_at, id := audit_id)) as is_error,
        sum(coalesce(cast(cost as decimal(38, 18)), 0)) as cost,
        count(case when cost is null then 1 end) as n_cost_missing,
        count(*) as n_audits
    from audits
    group by annotation_id
),

latest_decisions as (
    select item_id, agreed_label, recorded_at
    from (
        select
            item_id,
            agreed_label,
            recorded_at,
            row_number() over (
                partition by item_id order by recorded_at desc, decision_id desc
            ) as recency
        from calibration_decisions
    ) as ranked
    where recency = 1
),

joined as (
    select
        annotations.annotation_id,
        annotations.item_id,
        annotations.annotator_id,
        items.domain,
        items.difficulty,
        items.risk_class,
        items.dataset_version,
        annotators.vendor,
        annotators.tier,
        annotators.tier in ('generalist', 'specialist') as is_human,
        cast(date_trunc('week', annotations.submitted_at) as date) as week_start,
        annotations.submitted_at,
        annotations.label,
        coalesce(tie_broken.decision_verdict, review_rollup.decision_verdict)
            as decision_verdict,
        review_rollup.decided_at,
        case
            when tie_broken.annotation_id is not null then tie_broken.latest_final_verdict
            else review_rollup.latest_final_verdict
        end as latest_final_verdict,
        coalesce(
            items.gold_label,
            case
                when annotations.submitted_at >= latest_decisions.recorded_at
                    then latest_decisions.agreed_label
            end
        ) as gold_label,
        audit_rollup.is_error as audit_is_error,
        cast(
            coalesce(annotations.cost, annotations.duration_s / 3600.0 * annotators.hourly_rate)
            as decimal(38, 18)
        ) as annotation_cost,
        coalesce(review_rollup.cost, 0) + coalesce(audit_rollup.cost, 0) as attached_cost,
        coalesce(review_rollup.n_cost_missing, 0) + coalesce(audit_rollup.n_cost_missing, 0)
            as attached_cost_missing,
        coalesce(review_rollup.n_precheck, 0) as n_precheck,
        coalesce(review_rollup.n_precheck_accept, 0) as n_precheck_accept,
        review_rollup.first_reviewed_at,
        review_rollup.first_precheck_accept_at,
        review_rollup.first_final_at,
        coalesce(review_rollup.n_reviews, 0) as n_reviews,
        coalesce(audit_rollup.n_audits, 0) as n_audits
    from annotations
    inner join items on annotations.item_id = items.item_id
    inner join annotators on annotations.annotator_id = annotators.annotator_id
    left join review_rollup on annotations.annotation_id = review_rollup.annotation_id
    left join tie_broken on annotations.annotation_id = tie_broken.annotation_id
    left join audit_rollup on annotations.annotation_id = audit_rollup.annotation_id
    left join latest_decisions on annotations.item_id = latest_decisions.item_id
),

final as (
    select
        annotation_id,
        item_id,
        annotator_id,
        domain,
        difficulty,
        risk_class,
        dataset_version,
        vendor,
        tier,
        is_human,
        week_start,
        submitted_at,
        label,
        decision_verdict,
        decided_at,
        coalesce(
            audit_is_error,
            case when gold_label is not null then label <> gold_label end
        ) as truth_is_error,
        gold_label,
        coalesce(annotation_cost, 0) + attached_cost as cost,
        case when annotation_cost is null then 1 else 0 end + attached_cost_missing
            as n_cost_missing,
        n_precheck,
        n_precheck_accept,
        latest_final_verdict,
        first_reviewed_at,
        first_precheck_accept_at,
        first_final_at,
        n_reviews,
        n_audits
    from joined
)

select * from final
