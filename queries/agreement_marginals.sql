-- name: agreement_marginals()
-- Nominal agreement's sufficient statistics per item group and label: what
-- disagreement rate, pairwise agreement and Krippendorff's alpha need for any
-- grouping by the item's slice, dataset version and week, summed in polars.
-- The report reads these instead of item_label_counts (a row per item), which
-- the dashboard keeps for its vendor and tier filters; a test holds both paths
-- to the same values. Labels and items as in item_label_counts: each human
-- annotator's latest label (models/latest_labels.sql), and the item's week
-- that of its latest human annotation (models/labelled_items.sql).
-- Over the items with at least 2 annotators (m annotators, n_c of them giving
-- label c), per label c and m:
--   n_c = sum of n_c (alpha's unit share is n_c / m, its coincidence o_cc
--   n_ordered_pairs_agree / (m - 1): polars takes those fractions, so every sum
--   here is of integers, exact in any order, and the report the same each run);
--   n_ordered_pairs = sum of n_c (m - 1), n_ordered_pairs_agree = sum of
--   n_c (n_c - 1) (summed over labels: an item's m (m - 1) ordered pairs of
--   annotators, and those with equal labels);
--   n_items_multi, n_items_disagree = items, and items whose labels are not
--   all equal, each counted on its first label in sort order only.
-- Grain: one row per item group x label x m.
-- Key: domain, difficulty, risk_class, dataset_version, week_start, label, m
-- Output: domain varchar, difficulty varchar, risk_class varchar,
--   dataset_version varchar, week_start date, label varchar, m bigint, n_c bigint,
--   n_ordered_pairs bigint, n_ordered_pairs_agree bigint, n_items_multi bigint,
--   n_items_disagree bigint
with

-- latest_labels and labelled_items are models (queries/models/), shared with
-- item_label_counts.sql.
label_counts as (
    select item_id, label, count(*) as n
    from latest_labels
    group by item_id, label
),

multi_items as (
    select item_id, sum(n) as m, count(*) as n_labels, min(label) as first_label
    from label_counts
    group by item_id
    having sum(n) >= 2
),

final as (
    select
        items.domain,
        items.difficulty,
        items.risk_class,
        items.dataset_version,
        items.week_start,
        label_counts.label,
        cast(multi_items.m as bigint) as m,
        cast(sum(label_counts.n) as bigint) as n_c,
        cast(sum(label_counts.n * (multi_items.m - 1)) as bigint) as n_ordered_pairs,
        cast(sum(label_counts.n * (label_counts.n - 1)) as bigint) as n_ordered_pairs_agree,
        count(case when label_counts.label = multi_items.first_label then 1 end)
            as n_items_multi,
        count(
            case
                when label_counts.label = multi_items.first_label and multi_items.n_labels > 1
                    then 1
            end
        ) as n_items_disagree
    from label_counts
    inner join multi_items on label_counts.item_id = multi_items.item_id
    inner join labelled_items as items on label_counts.item_id = items.item_id
    group by
        items.domain,
        items.difficulty,
        items.risk_class,
        items.dataset_version,
        items.week_start,
        label_counts.label,
        multi_items.m
)

select * from final
