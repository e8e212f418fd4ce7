-- name: calibration_decisions_log(domain, up_to_week)
-- Every decision calibration meetings recorded up to a meeting's week, with its item's
-- domain, marking the item's latest decision among them (by recorded_at, ties: the
-- later decision_id): the one whose agreed label counts as gold for annotations
-- submitted from its recorded_at on. A later meeting's decision is not this one's.
-- Parameters: domain varchar; null means every domain. up_to_week varchar (YYYY-Www,
--   the meeting's week: ISO weeks written so sort as text); null means every week.
-- Grain: one row per calibration decision.
-- Key: decision_id
-- Output: decision_id varchar, week varchar, item_id varchar, domain varchar,
--   agreed_label varchar, note varchar, recorded_at timestamp, is_latest boolean
with

decisions as (
    select
        decision_id,
        week,
        item_id,
        agreed_label,
        note,
        recorded_at
    from calibration_decisions
    where (:up_to_week is null or week <= :up_to_week)
),

items as (
    select
        item_id,
        domain
    from items
),

final as (
    select
        decisions.decision_id,
        decisions.week,
        decisions.item_id,
        items.domain,
        decisions.agreed_label,
        decisions.note,
        decisions.recorded_at,
        row_number() over (
            partition by decisions.item_id
            order by decisions.recorded_at desc, decisions.decision_id desc
        ) = 1 as is_latest
    from decisions
    inner join items on decisions.item_id = items.item_id
    where (:domain is null or items.domain = :domain)
)

select * from final
order by recorded_at, decision_id
