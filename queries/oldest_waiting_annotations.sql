-- name: oldest_waiting_annotations(as_of)
-- Which annotations have waited longest for review at the as-of time, to chase by id?
-- Stages as in review_backlog: awaiting_review (no review at or before :as_of) and
-- awaiting_final (an accepting precheck but no final review by then).
-- Keeps the 20 oldest per stage x domain x vendor x tier, so any dashboard
-- filter on those still finds its oldest.
-- Parameters: as_of timestamp (UTC).
-- Grain: one row per waiting annotation (at most 20 per stage x domain x vendor x tier).
-- Key: stage, annotation_id
-- Output: stage varchar, annotation_id varchar, item_id varchar, domain varchar,
--   difficulty varchar, risk_class varchar, dataset_version varchar, vendor varchar,
--   tier varchar, annotator_id varchar, week_start date, submitted_at timestamp,
--   age_h double
with

waiting as (
    select
        case
            when first_reviewed_at is null or first_reviewed_at > :as_of
                then 'awaiting_review'
            when first_precheck_accept_at <= :as_of
                and (first_final_at is null or first_final_at > :as_of)
                then 'awaiting_final'
        end as stage,
        annotation_id,
        item_id,
        domain,
        difficulty,
        risk_class,
        dataset_version,
        vendor,
        tier,
        annotator_id,
        week_start,
        submitted_at,
        extract(epoch from (cast(:as_of as timestamp) - submitted_at)) / 3600.0 as age_h
    from annotation_facts
    where submitted_at <= :as_of
),

ranked as (
    select
        *,
        row_number() over (
            partition by stage, domain, vendor, tier
            order by age_h desc, annotation_id
        ) as age_rank
    from waiting
    where stage is not null
),

final as (
    select
        stage,
        annotation_id,
        item_id,
        domain,
        difficulty,
        risk_class,
        dataset_version,
        vendor,
        tier,
        annotator_id,
        week_start,
        submitted_at,
        age_h
    from ranked
    where age_rank <= 20
)

select * from final
