-- name: item_label_counts()
-- How many distinct human annotators gave each label on each item: the value
-- counts that disagreement, pairwise agreement and Krippendorff's alpha need.
-- An annotator who labelled an item more than once counts once, with their
-- latest label (ties: the later annotation_id). An item's week is the week of
-- its latest human annotation.
-- Grain: one row per item x vendor x tier x label.
-- Key: item_id, vendor, tier, label
-- Output: item_id varchar, domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, week_start date, vendor varchar, tier varchar,
--   label varchar, n_annotators bigint
with

-- latest_labels and labelled_items are models (queries/models/): the same
-- units, labels and item groups as agreement_marginals.sql.
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
    inner join labelled_items as items on counted.item_id = items.item_id
)

select * from final
