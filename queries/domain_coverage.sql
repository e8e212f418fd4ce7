-- name: domain_coverage()
-- How far each target slice is from its target of accepted items.
-- A target's empty difficulty or risk_class matches any; an item counts when
-- at least one of its annotations is accepted.
-- Grain: one row per row of targets (checks/target_slice_once.sql: one per slice).
-- Key: domain, difficulty, risk_class
-- Output: domain varchar, difficulty varchar, risk_class varchar,
--   target_accepted_items bigint, n_accepted_items bigint, domain_coverage double
with

-- An item lies in exactly one slice, so a target's distinct items are the sum
-- of its slices' (counting distinct items once per slice, not once per target).
accepted_per_slice as (
    select domain, difficulty, risk_class, count(distinct item_id) as n_accepted_items
    from annotation_facts
    where decision_verdict = 'accept'
    group by domain, difficulty, risk_class
),

counted as (
    select
        targets.domain,
        targets.difficulty,
        targets.risk_class,
        targets.target_accepted_items,
        cast(coalesce(sum(accepted_per_slice.n_accepted_items), 0) as bigint) as n_accepted_items
    from targets
    left join accepted_per_slice
        on accepted_per_slice.domain = targets.domain
        and (targets.difficulty is null or accepted_per_slice.difficulty = targets.difficulty)
        and (targets.risk_class is null or accepted_per_slice.risk_class = targets.risk_class)
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
