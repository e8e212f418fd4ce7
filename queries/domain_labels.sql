-- name: domain_labels()
-- Which labels are in use in each domain: the labels of the domain's annotations
-- and the corrected labels of its `fix` reviews. A calibration decision must agree
-- on one of them (kpi_core.decisions.record_decisions), so a typo never
-- becomes an item's gold label.
-- Grain: one row per domain x label.
-- Key: domain, label
-- Output: domain varchar, label varchar, n_uses bigint
with

annotation_labels as (
    select annotations.item_id, annotations.label
    from annotations
),

corrected_labels as (
    select annotations.item_id, reviews.corrected_label as label
    from reviews
    inner join annotations on reviews.annotation_id = annotations.annotation_id
    where reviews.verdict = 'fix' and reviews.corrected_label is not null
),

used as (
    select item_id, label from annotation_labels
    union all
    select item_id, label from corrected_labels
),

final as (
    select items.domain, used.label, count(*) as n_uses
    from used
    inner join items on used.item_id = items.item_id
    group by items.domain, used.label
)

select * from final
