-- name: domain_coverage()
-- How far each target slice is from its target of accepted items.
-- A target's empty difficulty or risk_class matches any; an item counts when
-- at least one of its annotations is accepted.
-- Grain: one row per row of targets.
-- Output: domain varchar, difficulty varchar, risk_class varchar,
--   target_accepted_items bigint, n_accepted_items bigint, domain_coverage double
with

accepted_items as (
    select distinct item_id, domain, difficulty, risk_class
    from annotation_facts
    where decision_verdict = 'accept'
),

counted as (
    select
        targets.domain,
        targets.difficulty,
        targets.risk_class,
        targets.target_accepted_items,
        count(distinct accepted_items.item_id) as n_accepted_items
    from targets
    left join accepted_items
        on accepted_items.domain = targets.domain
        and (targets.difficulty is null or accepted_items.difficulty = targets.difficulty)
        and (targets.risk_class is null or accepted_items.risk_class = targets.risk_class)
    group by targets.domain, targets.difficulty, targets.risk_class, targets.target_accepted_items
),

final as (
    select
        domain,
        difficulty,
        risk_class,
        target_accepted_items,
        n_accepted_items,
        least(1.0, n_accepted_items * 1.0 / target_accepted_items) as domain_coverage
    from counted
)

select * from final
order by domain, difficulty nulls first, risk_class nulls first
