-- name: calibration_item_reviews(window_start, window_end, domain)
-- Every review decision on the annotations of the items a calibration meeting looks
-- at (items with a human annotation submitted in [:window_start, :window_end)), with
-- who reviewed and whether the review is its annotation's decision (latest by
-- reviewed_at, ties: the later review_id).
-- Parameters: window_start date, window_end date (exclusive), domain varchar;
--   null means no bound / every domain.
-- Grain: one row per review.
-- Key: review_id
-- Output: item_id varchar, annotation_id varchar, annotator_id varchar,
--   review_id varchar, reviewer_id varchar, reviewer_tier varchar, stage varchar,
--   verdict varchar, corrected_label varchar, reviewed_at timestamp,
--   is_decision boolean
with

facts as (
    select
        annotation_id,
        item_id,
        annotator_id,
        is_human,
        submitted_at
    from annotation_facts
    where (:domain is null or domain = :domain)
),

window_items as (
    select item_id
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

final as (
    select
        facts.item_id,
        facts.annotation_id,
        facts.annotator_id,
        reviews.review_id,
        reviews.reviewer_id,
        reviewers.tier as reviewer_tier,
        reviews.stage,
        reviews.verdict,
        reviews.corrected_label,
        reviews.reviewed_at,
        row_number() over (
            partition by reviews.annotation_id
            order by reviews.reviewed_at desc, reviews.review_id desc
        ) = 1 as is_decision
    from reviews
    inner join facts on reviews.annotation_id = facts.annotation_id
    inner join window_items on facts.item_id = window_items.item_id
    left join annotators as reviewers on reviews.reviewer_id = reviewers.annotator_id
)

select * from final
order by item_id, annotation_id, reviewed_at, review_id
