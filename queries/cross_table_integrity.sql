-- name: cross_table_integrity()
-- Do annotations, reviews and audits hang together? How many rows break a
-- cross-table rule of the input contract, counted from annotation_facts, whose
-- joins found (or missed) each row's partner anyway. kpi report checks these
-- instead of hashing every key a second time in validation, and validates in
-- full, naming each row, only when a count is not 0. The counts are exact once
-- every key column is known to be unique and present (validation's per-table
-- rules, which run first).
-- annotations_unmatched: annotations whose item_id or annotator_id is not found
--   (annotation_facts joins both with an inner join).
-- reviews_unmatched, audits_unmatched: reviews and audits whose annotation_id is
--   not found.
-- reviews_before_submission: annotations with a review before their submission.
-- Grain: one row.
-- Output: annotations_unmatched bigint, reviews_unmatched bigint,
--   audits_unmatched bigint, reviews_before_submission bigint
with

facts as (
    select
        count(*) as n_annotations,
        coalesce(sum(n_reviews), 0) as n_reviews,
        coalesce(sum(n_audits), 0) as n_audits,
        count(case when first_reviewed_at < submitted_at then 1 end) as n_reviewed_too_early
    from annotation_facts
),

tables as (
    select
        (select count(*) from annotations) as n_annotations,
        (select count(*) from reviews) as n_reviews,
        (select count(*) from audits) as n_audits
),

final as (
    select
        cast(tables.n_annotations - facts.n_annotations as bigint) as annotations_unmatched,
        cast(tables.n_reviews - facts.n_reviews as bigint) as reviews_unmatched,
        cast(tables.n_audits - facts.n_audits as bigint) as audits_unmatched,
        cast(facts.n_reviewed_too_early as bigint) as reviews_before_submission
    from facts
    cross join tables
)

select * from final
