-- name: spaced_values()
-- Text with spaces before or after it, in the columns whose values the KPIs
-- group by or compare: valid text, kept as written, but almost always an export
-- slip, and a value of its own (' stem' is another domain, so another slice that
-- no target matches; '4 ' another label, so a disagreement). Validation cannot
-- refuse it, as any text is a valid string; the tools warn about it instead.
-- Per table and column that has such values: how many rows, and the first
-- (by file and row), to quote.
-- Grain: one row per table x column with spaced values.
-- Key: table_name, column_name
-- Output: table_name varchar, column_name varchar, n_rows bigint,
--   first_file varchar, first_row bigint, first_value varchar
with

text_values as (
    select 'items' as table_name, 'domain' as column_name, _file, _row, domain as value
    from items
    union all
    select 'items', 'dataset_version', _file, _row, dataset_version from items
    union all
    select 'items', 'gold_label', _file, _row, gold_label from items
    union all
    select 'annotators', 'vendor', _file, _row, vendor from annotators
    union all
    select 'annotations', 'label', _file, _row, label from annotations
    union all
    select 'reviews', 'corrected_label', _file, _row, corrected_label from reviews
    union all
    select 'calibration_decisions', 'agreed_label', _file, _row, agreed_label
    from calibration_decisions
    union all
    select 'targets', 'domain', _file, _row, domain from targets
    union all
    select 'defects', 'domain', _file, _row, domain from defects
    union all
    select 'benchmarks', 'domain', _file, _row, domain from benchmarks
    union all
    select 'benchmarks', 'benchmark', _file, _row, benchmark from benchmarks
    union all
    select 'benchmarks', 'model_version', _file, _row, model_version from benchmarks
),

spaced as (
    select
        table_name,
        column_name,
        _file,
        _row,
        value,
        count(*) over (partition by table_name, column_name) as n_rows,
        row_number() over (partition by table_name, column_name order by _file, _row) as rank
    from text_values
    where value <> trim(value)
),

final as (
    select
        table_name,
        column_name,
        n_rows,
        _file as first_file,
        _row as first_row,
        value as first_value
    from spaced
    where rank = 1
)

select * from final
