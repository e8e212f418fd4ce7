-- name: labelled_items()
-- The items humans labelled, with what describes them as a group: slice,
-- dataset version and week, which is the ISO week of the item's latest human
-- annotation.
-- Materialize: no (a view: each query that reads it reads it once)
-- Grain: one row per item with a human annotation.
-- Key: item_id
-- Output: item_id varchar, domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, week_start date
with

final as (
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
)

select * from final
