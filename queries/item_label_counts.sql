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

human_annotations as (
    select
        item_id,
        annotator_id,
        domain,
        difficulty,
        risk_class,
        dataset_version,
        vendor,
        tier,
        label,
        submitted_at,
        row_number() over (
            partition by item_id, annotator_id
            order by submitted_at desc, annotation_id desc
        ) as recency,
        max(submitted_at) over (partition by item_id) as item_latest_at
    from annotation_facts
    where is_human
),

final as (
    select
        item_id,
        domain,
        difficulty,
        risk_class,
        dataset_version,
        cast(date_trunc('week', item_latest_at) as date) as week_start,
        vendor,
        tier,
        label,
        count(*) as n_annotators
    from human_annotations
    where recency = 1
    group by
        item_id, domain, difficulty, risk_class, dataset_version,
        date_trunc('week', item_latest_at), vendor, tier, label
)

select * from final
