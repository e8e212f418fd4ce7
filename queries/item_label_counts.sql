-- name: item_label_counts()
-- How many distinct human annotators gave each label on each item: the value
-- counts that disagreement, pairwise agreement and Krippendorff's alpha need.
-- An annotator who labelled an item more than once counts once, with their
-- latest label (ties: the later annotation_id). An item's week is the week of
-- its latest human annotation.
-- Grain: one row per item x vendor x tier x label.
-- Output: item_id varchar, domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, week_start date, vendor varchar, tier varchar,
--   label varchar, n_annotators bigint
with

-- Each step reads the human annotations from annotation_facts itself: a shared
-- CTE read three times would be materialized, a copy of every annotation.
-- One label per annotator per item: the latest (ties: the later annotation_id).
-- The largest grouping of all, so it carries nothing else; the item's and the
-- annotator's attributes are joined back to the (fewer) counted rows.
latest_labels as (
    select
        item_id,
        annotator_id,
        max_by(label, struct_pack(at := submitted_at, id := annotation_id)) as label
    from annotation_facts
    where is_human
    group by item_id, annotator_id
),

-- Slice and dataset version belong to the item, vendor and tier to the annotator.
items as (
    select
        item_id,
        any_value(domain) as domain,
        any_value(difficulty) as difficulty,
        any_value(risk_class) as risk_class,
        any_value(dataset_version) as dataset_version,
        cast(date_trunc('week', max(submitted_at)) as date) as week_start
    from annotation_facts
    where is_human
    group by item_id
),

annotators as (
    select annotator_id, any_value(vendor) as vendor, any_value(tier) as tier
    from annotation_facts
    where is_human
    group by annotator_id
),

counted as (
    select
        latest_labels.item_id,
        annotators.vendor,
        annotators.tier,
        latest_labels.label,
        count(*) as n_annotators
    from latest_labels
    inner join annotators on latest_labels.annotator_id = annotators.annotator_id
    group by latest_labels.item_id, annotators.vendor, annotators.tier, latest_labels.label
),

final as (
    select
        counted.item_id,
        items.domain,
        items.difficulty,
        items.risk_class,
        items.dataset_version,
        items.week_start,
        counted.vendor,
        counted.tier,
        counted.label,
        counted.n_annotators
    from counted
    inner join items on counted.item_id = items.item_id
)

select * from final
