-- name: calibration_item_annotations(window_start, window_end, domain)
-- Every label given on the items a calibration meeting looks at: items with a human
-- annotation submitted in [:window_start, :window_end), with every annotation on them
-- (human and programmatic, whenever submitted), who gave it and what review made of it.
-- is_item_label marks the label an item-level view counts: human, and the annotator's
-- latest on the item (ties: the later annotation_id). The specialist's final decision
-- is the latest `final` review (ties: the later review_id): its corrected_label for a
-- fix, the label itself for an accept, null for a reject or when there is none.
-- gold_label is the gold that judges this annotation (items.gold_label, else the
-- item's latest calibration decision for annotations submitted at or after it).
-- annotator_first_at is the annotator's first annotation in scope (the domain filter).
-- Parameters: window_start date, window_end date (exclusive), domain varchar;
--   null means no bound / every domain.
-- Grain: one row per annotation.
-- Key: annotation_id
-- Output: item_id varchar, domain varchar, difficulty varchar, risk_class varchar,
--   item_gold_label varchar, item_week_start date, annotation_id varchar,
--   annotator_id varchar, tier varchar, vendor varchar, is_human boolean,
--   is_item_label boolean, label varchar, submitted_at timestamp, week_start date,
--   gold_label varchar, decision_verdict varchar, final_verdict varchar,
--   final_label varchar, annotator_first_at timestamp
with

facts as (
    select *
    from annotation_facts
    where (:domain is null or domain = :domain)
),

items as (
    select
        item_id,
        gold_label as item_gold_label
    from items
),

window_items as (
    select
        item_id,
        cast(date_trunc('week', max(submitted_at)) as date) as item_week_start
    from facts
    where is_human
    group by item_id
    having count(
        case
            when (:window_start is null or submitted_at >= :window_start)
                and (:window_end is null or submitted_at < :window_end)
                then 1
        end
    ) > 0
),

ranked_finals as (
    select
        annotation_id,
        verdict,
        corrected_label,
        row_number() over (
            partition by annotation_id order by reviewed_at desc, review_id desc
        ) as recency
    from reviews
    where stage = 'final'
),

finals as (
    select
        annotation_id,
        verdict as final_verdict,
        corrected_label
    from ranked_finals
    where recency = 1
),

first_seen as (
    select
        annotator_id,
        min(submitted_at) as annotator_first_at
    from facts
    group by annotator_id
),

labelled as (
    select
        facts.*,
        row_number() over (
            partition by facts.item_id, facts.annotator_id
            order by facts.submitted_at desc, facts.annotation_id desc
        ) as recency
    from facts
    inner join window_items on facts.item_id = window_items.item_id
),

final as (
    select
        labelled.item_id,
        labelled.domain,
        labelled.difficulty,
        labelled.risk_class,
        items.item_gold_label,
        window_items.item_week_start,
        labelled.annotation_id,
        labelled.annotator_id,
        labelled.tier,
        labelled.vendor,
        labelled.is_human,
        labelled.is_human and labelled.recency = 1 as is_item_label,
        labelled.label,
        labelled.submitted_at,
        labelled.week_start,
        labelled.gold_label,
        labelled.decision_verdict,
        finals.final_verdict,
        case
            when finals.final_verdict = 'fix' then finals.corrected_label
            when finals.final_verdict = 'accept' then labelled.label
        end as final_label,
        first_seen.annotator_first_at
    from labelled
    inner join window_items on labelled.item_id = window_items.item_id
    inner join items on labelled.item_id = items.item_id
    left join finals on labelled.annotation_id = finals.annotation_id
    left join first_seen on labelled.annotator_id = first_seen.annotator_id
)

select * from final
order by item_id, submitted_at, annotation_id
