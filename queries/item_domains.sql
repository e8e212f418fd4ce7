-- name: item_domains(item_ids)
-- The domain of each item a calibration decision names. A decision is checked
-- against it before it is written (kpi_core.decisions.record_decisions): its item
-- must exist, and its agreed label must be in use in that domain (domain_labels.sql).
-- Parameters: item_ids varchar[]; null means none.
-- Grain: one row per named item that is in items.
-- Key: item_id
-- Output: item_id varchar, domain varchar
select
    items.item_id,
    items.domain
from items
where items.item_id in (select unnest(:item_ids))
