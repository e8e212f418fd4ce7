-- name: item_slices()
-- The slices of the data: every (domain, difficulty, risk_class) its items fall
-- in, labelled or not. An item falls in its slice even with no annotation
-- (kpis.md), so a slice with nothing labelled yet still shows, its counts 0 and
-- its rates n/a, instead of missing from the list.
-- Missing difficulty or risk_class reads 'unknown', as in models/annotation_facts.sql;
-- dataset_version is kept for the dashboard's filter.
-- Grain: one row per slice x dataset_version.
-- Key: domain, difficulty, risk_class, dataset_version
-- Output: domain varchar, difficulty varchar, risk_class varchar, dataset_version varchar
select distinct
    domain,
    coalesce(difficulty, 'unknown') as difficulty,
    coalesce(risk_class, 'unknown') as risk_class,
    coalesce(dataset_version, 'unknown') as dataset_version
from items
