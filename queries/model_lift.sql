-- name: model_lift()
-- How much each model version moved each benchmark in each domain.
-- Versions are ordered by evaluated_at; lift = score - the previous version's score.
-- Grain: one row per benchmarks row (a version evaluated twice has two).
-- Output: domain varchar, benchmark varchar, model_version varchar,
--   evaluated_at timestamp, score double, previous_model_version varchar, lift double
with

ordered as (
    select
        domain,
        benchmark,
        model_version,
        evaluated_at,
        score,
        lag(model_version) over (
            partition by domain, benchmark order by evaluated_at, model_version
        ) as previous_model_version,
        lag(score) over (
            partition by domain, benchmark order by evaluated_at, model_version
        ) as previous_score
    from benchmarks
),

final as (
    select
        domain,
        benchmark,
        model_version,
        evaluated_at,
        score,
        previous_model_version,
        score - previous_score as lift
    from ordered
)

select * from final
order by domain, benchmark, evaluated_at, model_version
