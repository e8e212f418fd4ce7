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

-- One label per annotator per item: the latest (ties: the later annotation_id).
-- Slice and vendor depend on the item and annotator alone, so max() just carries them.
latest_labels as (
    select
        item_id,
        annotator_id,
        max(domain) as domain,
        max(difficulty) as difficulty,
        max(risk_class) as risk_class,
        max(dataset_version) as dataset_version,
        max(vendor) as vendor,
        max(tier) as tier,
        max_by(label, struct_pack(at := submitted_at, id := annotation_id)) as label,
        max(submitted_at) as latest_at
    from annotation_facts
    where is_human
    group by item_id, annotator_id
),

item_weeks as (
    select
        item_id,
        cast(date_trunc('week', max(latest_at)) as date) as week_start
    from latest_labels
    group by item_id
),

final as (
    select
        latest_labels.item_id,
        max(latest_labels.domain) as domain,
        max(latest_labels.difficulty) as difficulty,
        max(latest_labels.risk_class) as risk_class,
        max(latest_labels.dataset_version) as dataset_version,
        max(item_weeks.week_start) as week_start,
        latest_labels.vendor,
        latest_labels.tier,
        latest_labels.label,
        count(*) as n_annotators
    from latest_labels
    inner join item_weeks on latest_labels.item_id = item_weeks.item_id
    group by latest_labels.item_id, latest_labels.vendor, latest_labels.tier, latest_labels.label
)

select * from final
