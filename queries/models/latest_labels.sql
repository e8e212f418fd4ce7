-- name: latest_labels()
-- Each human annotator's label on each item: the latest one when they labelled
-- it more than once (ties: the later annotation_id), so an annotator counts once.
-- The units and coders of every agreement KPI.
-- Materialize: no (a view: each query that reads it reads it once)
-- Grain: one row per item x human annotator.
-- Key: item_id, annotator_id
-- Output: item_id varchar, annotator_id varchar, label varchar
with

final as (
    select
        item_id,
        annotator_id,
        max_by(label, struct_pack(at := submitted_at, id := annotation_id)) as label
    from annotation_facts
    where is_human
    group by item_id, annotator_id
)

select * from final
