"""The query layer: every file in queries/ runs and matches its header; a broken
file is named with its line and DuckDB's message."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from datasets import TINY, write_dataset
from kpi_core import queries, validation
from kpi_core.cli import BUNDLED_SAMPLE, main
from kpi_core.loading import open_dataset
from kpi_core.outputs import declared_family
from kpi_core.problems import QueryError
from kpi_core.read_columns import READ_COLUMNS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_dir(tmp_path):
    return write_dataset(tmp_path / "data", TINY)


@pytest.fixture
def query_copy(tmp_path, monkeypatch):
    copy = tmp_path / "queries"
    shutil.copytree(queries.QUERIES_DIR, copy)
    monkeypatch.setattr(queries, "QUERIES_DIR", copy)
    return copy


@pytest.mark.parametrize("data", ["tiny", "sample"])
def test_every_query_runs_and_matches_its_header(data, tiny_dir, capsys):
    target = tiny_dir if data == "tiny" else BUNDLED_SAMPLE
    assert main(["check", "--data", str(target)]) == 0, capsys.readouterr().err
    assert "match their headers" in capsys.readouterr().err


def test_check_on_invalid_data_names_the_data_not_the_queries(tiny_dir, capsys):
    """A key given twice would read as a query's repeated rows: the data is named first."""
    items = tiny_dir / "items.csv"
    items.write_text(items.read_text() + "i9,stem,easy,low,A,surplus\ni1,stem,easy,low,A\n")
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{items}: row 5: row has 6 fields but the header has 5",
        f"{items}: row 6, column item_id: duplicate item_id 'i1' (first at row 1)",
        f"2 problem(s) in the data {tiny_dir}: the queries are checked on valid data "
        "(fix these, or check on the bundled sample without --data)",
    ]


def test_check_runs_the_queries_on_the_data_it_validated(tiny_dir, parsed_tables, capsys):
    """A large CSV or JSONL file is parsed once, by validation, not again for the queries."""
    assert main(["check", "--data", str(tiny_dir)]) == 0, capsys.readouterr().err
    assert parsed_tables.count("annotations") == 1


def test_every_query_file_has_a_full_header():
    for path in queries.query_paths():
        query = queries.parse_file(path)
        assert query.purpose, path
        assert query.outputs, path
        assert "Grain:" in query.doc, path
        for parameter in query.parameters:
            assert parameter in query.doc.split("Grain:")[0] + query.doc, (path, parameter)


def test_parameters_are_bound_not_formatted(tiny_dir):
    dataset = open_dataset(tiny_dir)
    queries.register_models(dataset.con)
    hostile = "2026-01-14'); drop table items; --"
    with pytest.raises(QueryError):
        queries.run(dataset.con, "review_backlog", as_of=hostile)
    assert dataset.con.execute("select count(*) from items").fetchall() == [(4,)]


def test_a_syntax_error_names_the_file_and_line(tiny_dir, query_copy, capsys):
    path = query_copy / "model_lift.sql"
    lines = path.read_text().splitlines()
    broken_at = next(i for i, line in enumerate(lines) if line.startswith("select")) + 1
    lines[broken_at - 1] = "selec"
    path.write_text("\n".join(lines) + "\n")
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{broken_at}: Parser Error" in err
    assert "1 problem(s) among" in err


def test_an_unknown_column_names_the_line_it_is_on(tiny_dir, query_copy):
    path = query_copy / "model_lift.sql"
    text = path.read_text().replace(
        "        score,\n        lag(model_version)", "        scor,\n        lag(model_version)"
    )
    path.write_text(text)
    dataset = open_dataset(tiny_dir)
    with pytest.raises(QueryError) as caught:
        queries.run(dataset.con, "model_lift")
    line = next(
        n for n, text_line in enumerate(text.splitlines(), 1) if text_line.strip() == "scor,"
    )
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: Binder Error")


def test_a_header_that_lies_about_its_columns_fails_check(tiny_dir, query_copy, capsys):
    path = query_copy / "data_as_of.sql"
    path.write_text(
        path.read_text().replace("-- Output: as_of timestamp", "-- Output: as_of_at timestamp")
    )
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert (
        "declared but not returned: as_of_at; returned but not declared: as_of"
        in capsys.readouterr().err
    )


def test_an_edit_is_picked_up_on_the_next_run(tiny_dir, query_copy):
    dataset = open_dataset(tiny_dir)
    assert queries.run(dataset.con, "model_lift").height == 2
    path = query_copy / "model_lift.sql"
    path.write_text(
        path.read_text().replace(
            "    from benchmarks\n", "    from benchmarks where score > 0.62\n"
        )
    )
    import os

    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert queries.run(dataset.con, "model_lift").height == 1


def test_a_file_named_unlike_its_query_is_refused(query_copy):
    path = query_copy / "oops.sql"
    path.write_text(
        "-- name: something_else()\n-- x\n-- Grain: x\n-- Output: a int\nselect 1 as a\n"
    )
    with pytest.raises(QueryError, match="named 'something_else' but the file is 'oops.sql'"):
        queries.parse_file(path)


def test_a_missing_table_names_the_line_it_is_read_on(tiny_dir, query_copy):
    path = query_copy / "model_lift.sql"
    text = path.read_text().replace("    from benchmarks\n", "    from benchmark\n")
    path.write_text(text)
    dataset = open_dataset(tiny_dir)
    with pytest.raises(QueryError) as caught:
        queries.run(dataset.con, "model_lift")
    line = next(
        n for n, text_line in enumerate(text.splitlines(), 1) if text_line == "    from benchmark"
    )
    assert caught.value.line == line


def test_line_numbers_count_comment_lines_inside_the_sql(tiny_dir, query_copy):
    path = query_copy / "model_lift.sql"
    text = (
        path.read_text()
        .replace("final as (\n", "-- an analyst's note\n-- and another\nfinal as (\n")
        .replace("        score - previous_score as lift", "        score - - as lift")
    )
    path.write_text(text)
    dataset = open_dataset(tiny_dir)
    with pytest.raises(QueryError) as caught:
        queries.run(dataset.con, "model_lift")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "score - - as lift" in row)
    assert caught.value.line == line


@pytest.mark.parametrize(
    "comment",
    [
        "    /* why the rows are kept:\n       reviews only,\n       not audits\n    */\n",
        "    /* one line */\n",
    ],
    ids=["over-lines", "on-one-line"],
)
def test_line_numbers_count_block_comments_inside_the_sql(tiny_dir, query_copy, comment):
    """aiosql cuts /* */ comments out, lines and all: the file's line is still named."""
    path = query_copy / "turnaround_hours.sql"
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, t in enumerate(lines) if t.strip() == "from decided")
    lines[at:at] = [comment]
    text = "".join(lines).replace("from decided", "frm decided")
    path.write_text(text)
    broken = 1 + text.splitlines().index("    frm decided")
    with pytest.raises(QueryError) as error:
        queries.run(open_dataset(tiny_dir).con, "turnaround_hours")
    assert error.value.line == broken


def test_comments_inside_the_sql_stay_out_of_the_header(query_copy):
    path = query_copy / "model_lift.sql"
    path.write_text(path.read_text().replace("final as (\n", "-- not: header\nfinal as (\n"))
    query = queries.parse_file(path)
    assert "not: header" not in query.doc
    assert query.output_columns[-1] == "lift"


def test_a_type_with_a_comma_in_its_parentheses_is_one_column(tmp_path):
    path = tmp_path / "totals.sql"
    path.write_text(
        "-- name: totals()\n-- Output: domain varchar, cost decimal(38,10),\n"
        "--   n bigint\nselect 'stem' as domain, 1.5::decimal(38,10) as cost, 1 as n\n"
    )
    assert queries.parse_file(path).outputs == (
        ("domain", "varchar"),
        ("cost", "decimal(38,10)"),
        ("n", "bigint"),
    )


def test_models_are_tables_unless_their_header_says_materialize_no(tiny_dir):
    dataset = open_dataset(tiny_dir)
    queries.register_models(dataset.con, materialize=True)
    kinds = dict(
        dataset.con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_name in ('annotation_facts', 'latest_labels', 'labelled_items')"
        ).fetchall()
    )
    assert kinds == {
        "annotation_facts": "LOCAL TEMPORARY",
        "latest_labels": "VIEW",
        "labelled_items": "VIEW",
    }
    # g1 labelled i2 twice (a4 X, then a5 Y): one row, the latest label
    rows = dataset.con.execute(
        "select label from latest_labels where item_id = 'i2' and annotator_id = 'g1'"
    ).fetchall()
    assert rows == [("Y",)]


def test_an_unknown_parameter_is_refused_not_bound_as_null(query_copy):
    """:asof for :as_of would read as "no as-of time": a backlog of 0, and no error."""
    path = query_copy / "review_backlog.sql"
    text = path.read_text().replace("review_backlog(as_of)", "review_backlog(asof)")
    path.write_text(text.replace(":as_of", ":asof"))
    with pytest.raises(QueryError) as error:
        queries.parse_file(path)
    assert "unknown parameter :asof; the tools bind :as_of (the as-of time)" in str(error.value)
    assert error.value.line == 1  # the name line declares it


def test_a_parameter_the_name_line_does_not_declare_is_named_on_its_line(query_copy):
    path = query_copy / "review_backlog.sql"
    lines = path.read_text().splitlines()
    at = next(i for i, t in enumerate(lines) if ":as_of" in t and not t.startswith("--"))
    lines[at] = lines[at].replace(":as_of", ":as_off", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(QueryError) as error:
        queries.parse_file(path)
    assert error.value.line == at + 1
    assert "parameter :as_off is not declared on the name line" in error.value.reason
    assert ":as_of (the as-of time)" in error.value.reason


def test_a_parameter_dropped_from_the_name_line_is_named_where_it_is_used(query_copy):
    """Not at a header comment that mentions it."""
    path = query_copy / "review_backlog.sql"
    text = path.read_text().replace("review_backlog(as_of)", "review_backlog()", 1)
    path.write_text(text)
    with pytest.raises(QueryError) as error:
        queries.parse_file(path)
    lines = text.splitlines()
    assert ":as_of" in lines[error.value.line - 1] and not lines[error.value.line - 1].startswith(
        "--"
    )


def test_a_second_statement_is_named_at_its_semicolon_not_in_a_string(query_copy):
    path = query_copy / "checks" / "target_slice_once.sql"
    text = path.read_text().rstrip("\n") + ";\nselect 1\n"
    assert "'); keep one row per slice'" in text  # a ';' in a string: not a statement's end
    path.write_text(text)
    with pytest.raises(QueryError) as error:
        queries.parse_file(path)
    assert error.value.line == len(text.splitlines()) - 1


def test_a_misspelt_qualified_column_is_named_on_its_line(tiny_dir, query_copy):
    """'Values list "accepted_per_slice" does not have a column named ...': the column's
    line, not the line defining the table."""
    path = query_copy / "domain_coverage.sql"
    lines = path.read_text().splitlines()
    at = next(i for i, t in enumerate(lines) if "accepted_per_slice.difficulty =" in t)
    lines[at] = lines[at].replace("accepted_per_slice.difficulty", "accepted_per_slice.dificulty")
    path.write_text("\n".join(lines) + "\n")
    dataset = open_dataset(tiny_dir)
    try:
        queries.register_models(dataset.con)
        with pytest.raises(QueryError) as error:
            queries.run(dataset.con, "domain_coverage")
    finally:
        dataset.con.close()
    assert error.value.line == at + 1, error.value


def test_a_model_with_a_parameter_says_models_take_none(tiny_dir, query_copy, capsys):
    path = query_copy / "models" / "labelled_items.sql"
    text = path.read_text().replace("labelled_items()", "labelled_items(as_of)", 1)
    path.write_text(text.replace("where is_human", "where is_human and submitted_at <= :as_of"))
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1: a model takes no parameters" in err


def test_a_byte_order_mark_from_an_editor_is_read_past(query_copy):
    path = query_copy / "model_lift.sql"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert queries.parse_file(path).name == "model_lift"


def test_a_statement_that_is_not_a_select_is_refused_not_run(query_copy):
    """Run on the shared connection, it would break every other query."""
    path = query_copy / "model_lift.sql"
    header = [t for t in path.read_text().splitlines() if t.startswith("--")]
    path.write_text("\n".join([*header, "drop view annotators"]) + "\n")
    with pytest.raises(QueryError) as error:
        queries.parse_file(path)
    assert error.value.line == len(header) + 1
    assert "this one is a DROP statement, which is not run" in error.value.reason


def test_a_name_line_without_its_space_still_parses(query_copy):
    path = query_copy / "model_lift.sql"
    path.write_text(path.read_text().replace("-- name: model_lift()", "--name: model_lift()"))
    assert queries.parse_file(path).name == "model_lift"


def test_two_files_of_one_name_are_refused_naming_both(tiny_dir, query_copy, capsys):
    """A draft copy in a sub-folder would otherwise silently replace the real query."""
    (query_copy / "drafts").mkdir()
    shutil.copy(query_copy / "model_lift.sql", query_copy / "drafts" / "model_lift.sql")
    with pytest.raises(QueryError, match="another file has the same name"):
        queries.load("model_lift")
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("another file has the same name") == 1  # once, not per file
    assert "drafts/model_lift.sql" in err


def test_a_column_of_another_type_than_declared_fails_check_and_the_dashboards_fetch(
    tiny_dir, query_copy, capsys
):
    from kpi_core import aggregates

    path = query_copy / "turnaround_hours.sql"
    text = path.read_text()
    hours = "extract(epoch from (decided_at - submitted_at)) / 3600.0 as turnaround_h"
    assert hours in text
    path.write_text(
        text.replace(hours, hours.replace(" as turnaround_h", " || 'h' as turnaround_h"))
    )
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert "turnaround_h is declared double but the result's is text" in capsys.readouterr().err
    # the dashboard's fetch keeps it as that file's error, not a polars failure on a page
    aggs = aggregates.fetch(open_dataset(tiny_dir))
    assert "turnaround_h is declared double" in str(aggs.errors["turnaround_hours"])
    assert "turnaround_hours" not in aggs.frames and "review_backlog" in aggs.frames


def test_a_count_written_as_a_decimal_sum_reaches_readers_as_a_whole_number(
    tiny_dir, query_copy, capsys
):
    """sum(1) is a decimal in DuckDB: the report's JSON took it and failed."""
    path = query_copy / "annotation_kpi_counts.sql"
    count = "count(*) as n_annotations"
    assert count in path.read_text()
    path.write_text(path.read_text().replace(count, "sum(1) as n_annotations"))
    report = json.loads(_report_json(tiny_dir, capsys))
    assert report["overall"]["n_annotations"] == len(TINY["annotations"].strip().splitlines()) - 1
    path.write_text(path.read_text().replace("sum(1) as", "sum(1.5) as"))
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert (
        "n_annotations is declared bigint but the result's numbers may have fractions "
        "(decimal(38,1))" in capsys.readouterr().err
    )


def _report_json(data: Path, capsys) -> str:
    assert main(["report", str(data), "--quiet"]) == 0
    return capsys.readouterr().out


def test_a_model_reading_another_is_created_after_it_whatever_its_name(tiny_dir, query_copy):
    (query_copy / "models" / "accepted_facts.sql").write_text(
        "-- name: accepted_facts()\n"
        "-- The accepted annotations.\n"
        "-- Grain: one row per accepted annotation.\n"
        "-- Output: annotation_id varchar\n"
        "select annotation_id from annotation_facts where decision_verdict = 'accept'\n"
    )
    dataset = open_dataset(tiny_dir)
    assert queries.register_available_models(dataset.con) == {}
    assert dataset.con.execute("select count(*) from accepted_facts").fetchall()[0][0] > 0


def test_a_broken_model_blames_itself_once_and_spares_what_does_not_read_it(
    tiny_dir, query_copy, capsys
):
    from kpi_core import aggregates

    path = query_copy / "models" / "latest_labels.sql"
    text = path.read_text()
    line = 1 + text.splitlines().index("    where is_human")
    path.write_text(text.replace("    where is_human", "    where is_humann"))
    names = ("item_label_counts", "agreement_marginals", "review_backlog", "defect_durations")
    aggs = aggregates.fetch(open_dataset(tiny_dir), names=(*names, "model_lift"))
    # what reads it (agreement, directly or through labelled_items) fails with its error
    for name in names[:2]:
        error = aggs.errors[name]
        assert (error.file, error.line) == (str(path), line), name
    # what does not read it still runs
    assert {"review_backlog", "defect_durations", "model_lift"} <= set(aggs.frames)
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count(f"latest_labels.sql:{line}:") == 1
    assert "does not exist" not in err  # no healthy file blamed for the missing model
    not_run = next(line for line in err.splitlines() if line.startswith("not run"))
    assert not_run == (
        "not run, as they read a model that failed: agreement_marginals.sql, item_label_counts.sql"
    )  # the model itself failed, and has its own line


def test_a_note_after_the_output_lines_is_not_read_as_columns(query_copy):
    path = query_copy / "turnaround_hours.sql"
    text = path.read_text().replace(
        "--   turnaround_h double, n_annotations bigint\n",
        "--   turnaround_h double, n_annotations bigint\n-- Changed 2026-03: not the decision.\n",
    )
    path.write_text(text)
    assert queries.parse_file(path).output_columns[-2:] == ["turnaround_h", "n_annotations"]


@pytest.mark.parametrize(
    ("edit", "located", "reason"),
    [
        (lambda t: t + ";\nselect 1 as x;\n", True, "one query per file: a second statement"),
        (lambda t: t + "\n-- name: other()\nselect 1\n", True, "a second '-- name:' line"),
        (lambda t: t.split("\nwith")[0] + "\n", False, "no SQL after the header"),
        (lambda t: t.replace("select", "selct", 1), True, "syntax error"),
    ],
    ids=["two statements", "two names", "no sql", "syntax error"],
)
def test_a_malformed_file_is_one_line_naming_it(
    tiny_dir, query_copy, capsys, edit, located, reason
):
    path = query_copy / "turnaround_quantiles.sql"
    path.write_text(edit(path.read_text()))
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    line = next(t for t in err.splitlines() if "turnaround_quantiles.sql" in t)
    assert reason in line and "Traceback" not in err
    assert bool(re.search(r"turnaround_quantiles\.sql:\d+: ", line)) == located, line


def test_a_byte_that_is_not_utf8_is_named_with_its_line(query_copy):
    path = query_copy / "model_lift.sql"
    text = path.read_bytes()
    path.write_bytes(text.replace(b"\n", b"\n-- caf\xe9\n", 1))
    with pytest.raises(QueryError, match="not UTF-8 text: byte 0xe9") as error:
        queries.parse_file(path)
    assert error.value.line == 2


def test_a_column_dropped_before_the_final_select_is_blamed_where_it_is_missing(
    tiny_dir, query_copy
):
    """submitted_at is valid in the first step and not in the last: the last mention."""
    path = query_copy / "turnaround_hours.sql"
    text = path.read_text()
    assert "        turnaround_h,\n        count(*) as n_annotations" in text
    text = text.replace(
        "        turnaround_h,\n        count(*) as n_annotations",
        "        turnaround_h,\n        submitted_at,\n        count(*) as n_annotations",
    )
    path.write_text(text)
    dataset = open_dataset(tiny_dir)
    queries.register_models(dataset.con)
    with pytest.raises(QueryError) as caught:
        queries.run(dataset.con, "turnaround_hours")
    assert caught.value.line == 1 + text.splitlines().index("        submitted_at,")
    assert "Candidate bindings" in caught.value.reason  # DuckDB's hint is kept


def test_the_files_the_tools_need_are_those_the_code_names():
    """queries.NEEDED, which kpi check holds a folder to, is every query file the code
    names (a model is read by name in another file's SQL)."""
    code = "\n".join(
        path.read_text() for folder in ("src", "app") for path in (REPO / folder).rglob("*.py")
    )
    models = {p.stem for p in queries.model_paths()}
    named = {
        str(path.relative_to(queries.QUERIES_DIR))
        for path in queries.query_paths()
        if path.parent.name != "checks" and (f'"{path.stem}"' in code or path.stem in models)
    }
    assert set(queries.NEEDED) == named


def test_check_names_a_needed_file_that_is_gone(tiny_dir, query_copy, capsys):
    (query_copy / "model_lift.sql").unlink()
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert f"{query_copy / 'model_lift.sql'}: missing" in capsys.readouterr().err


def test_a_misspelt_type_in_the_header_fails_check(tiny_dir, query_copy, capsys):
    path = query_copy / "model_lift.sql"
    assert "score double" in path.read_text()
    path.write_text(path.read_text().replace("score double", "score dubble"))
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert "score is declared dubble, which is not a DuckDB type" in capsys.readouterr().err


def test_a_cte_nothing_reads_fails_check_at_its_line(tiny_dir, query_copy, capsys):
    """DuckDB binds only what the query reads: the misspelt column in this CTE would
    pass, and the analyst's new figure would show nowhere, without a word."""
    path = query_copy / "domain_coverage.sql"
    lines = path.read_text().splitlines()
    at = lines.index("with") + 1
    unread = [
        "by_vendor as (",
        "    select vendr, count(*) as n",
        "    from annotation_facts",
        "    group by vendr",
        "),",
    ]
    path.write_text("\n".join([*lines[:at], *unread, *lines[at:]]) + "\n")
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{path}:{at + 1}: CTE by_vendor is never read, so it shows nowhere and DuckDB does "
        "not check it: read it from the final select (or a CTE it reads), or delete it"
    )


def test_a_query_past_the_time_limit_is_stopped_naming_its_file(tiny_dir, query_copy, monkeypatch):
    """An analyst's join without its condition must not hold every page for ever."""
    path = query_copy / "model_lift.sql"
    header = [t for t in path.read_text().splitlines() if t.startswith("--")]
    endless = "select count(*) as n from range(100000000) as a, range(100000000) as b"
    path.write_text("\n".join([*header, endless]) + "\n")
    monkeypatch.setenv("KPI_QUERY_TIMEOUT_S", "0.5")
    con = open_dataset(tiny_dir).con
    started = time.monotonic()
    with pytest.raises(QueryError, match=r"stopped after 0\.5 s") as error:
        queries.run(con, "model_lift")
    assert error.value.file == str(path)
    assert time.monotonic() - started < 30
    assert queries.run(con, "data_as_of").height == 1  # the connection still works


def test_a_division_by_zero_is_the_files_error_not_an_infinite_kpi(tiny_dir, query_copy):
    from kpi_core import aggregates

    path = query_copy / "annotation_kpi_counts.sql"
    total = "sum(cost) as cost"
    assert total in path.read_text()
    path.write_text(path.read_text().replace(total, "sum(cost) / 0.0 as cost"))
    aggs = aggregates.fetch(open_dataset(tiny_dir))
    assert "cost holds infinity or NaN" in aggs.errors["annotation_kpi_counts"].reason


def test_a_deleted_model_is_blamed_not_the_queries_that_read_it(tiny_dir, query_copy, capsys):
    from kpi_core import aggregates

    (query_copy / "models" / "labelled_items.sql").unlink()
    aggs = aggregates.fetch(open_dataset(tiny_dir))
    assert aggs.errors["item_label_counts"].file == str(query_copy / "models/labelled_items.sql")
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("labelled_items.sql: missing") == 1 and "Catalog Error" not in err


def test_check_blames_a_slow_model_once_not_each_query_reading_it(
    tiny_dir, query_copy, monkeypatch, capsys
):
    path = query_copy / "models" / "annotation_facts.sql"
    slow = "select * from final where (select count(*) from range(100000000) a, range(100000000) b) > 0"
    path.write_text(path.read_text().replace("select * from final", slow))
    monkeypatch.setenv("KPI_QUERY_TIMEOUT_S", "0.5")
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("stopped after 0.5 s") == 1 and "annotation_facts.sql" in err


def test_rows_repeated_by_an_edit_are_the_files_error_not_a_doubled_kpi(tiny_dir, query_copy):
    from kpi_core import aggregates

    path = query_copy / "annotation_kpi_counts.sql"
    assert path.read_text().rstrip().endswith("select * from final")
    path.write_text(path.read_text().rstrip() + " union all select * from final\n")
    aggs = aggregates.fetch(open_dataset(tiny_dir))
    assert "share their Key" in aggs.errors["annotation_kpi_counts"].reason


def test_check_of_a_queries_folder_that_is_not_there_says_so_once(
    tiny_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path / "nowhere")
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"{tmp_path / 'nowhere'}: no such folder of query files (is KPI_QUERIES_DIR right?)"
    )


@pytest.mark.parametrize("check", ["review_after_submission", "fix_needs_corrected_label"])
@pytest.mark.parametrize("verb", ["validate", "report"])
def test_a_broken_check_stops_validate_and_report(
    tiny_dir, query_copy, monkeypatch, capsys, check, verb
):
    # The report counts review_after_submission from the facts instead of running it;
    # its file is still bound, so a broken one stops the report as it stops validate.
    monkeypatch.setattr(validation, "CHECKS_DIR", query_copy / "checks")
    path = query_copy / "checks" / f"{check}.sql"
    path.write_text(path.read_text().replace("select", "selec", 1))
    assert main([verb, str(tiny_dir)]) == 1
    assert f"{path}:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("-- Output: as_of timestamp\n", "", "header has no 'Output:' line"),
        (" as as_of", " as as_of, 1 as extra", "returned but not declared: extra"),
    ],
    ids=["no Output line", "extra column"],
)
def test_data_as_of_is_held_to_its_header_like_every_query(
    tiny_dir, query_copy, capsys, old, new, reason
):
    path = query_copy / "data_as_of.sql"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    assert main(["report", str(tiny_dir), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"{path}: " in err and reason in err


def test_the_columns_the_tools_read_are_the_shipped_headers():
    # READ_COLUMNS is the code's side of each header: a change to one changes the other.
    shipped = {}
    for needed in queries.NEEDED:
        query = queries.parse_file(queries.QUERIES_DIR / needed)
        shipped[query.name] = {c: declared_family(t) for c, t in query.outputs}
    assert shipped == READ_COLUMNS
    assert all(list(shipped[name]) == list(READ_COLUMNS[name]) for name in shipped)  # order


#: A column the tools read, changed in a file's header and its select together: the
#: header check passes, and the tools' readers would fail far from the file. Per case:
#: the file, its edits (old, new) and what the error says after the header's line.
READ_COLUMN_EDITS = {
    "cut": (
        "annotation_kpi_counts.sql",
        (
            ("--   n_rework bigint, n_accepted_known", "--   n_accepted_known"),
            (
                "        count(case when decision_verdict in ('reject', 'fix') then 1 end)"
                " as n_rework,\n",
                "",
            ),
        ),
        "the report and the dashboard read n_rework from this query, which no longer",
    ),
    "cut from a model": (
        "models/annotation_facts.sql",
        (
            ("truth_is_error boolean, gold_label varchar,", "truth_is_error boolean,"),
            (
                "        ) as truth_is_error,\n        gold_label,\n",
                "        ) as truth_is_error,\n",
            ),
        ),
        "the report and the dashboard read gold_label from this query, which no longer",
    ),
    "hours as text": (
        "turnaround_quantiles.sql",
        (
            ("turnaround_median_h double", "turnaround_median_h varchar"),
            (
                "quantile_cont(turnaround_h, 0.5) as turnaround_median_h",
                "cast(quantile_cont(turnaround_h, 0.5) as varchar) as turnaround_median_h",
            ),
        ),
        "the report and the dashboard read turnaround_median_h as number, not text",
    ),
    "a model's cost as text": (
        "models/annotation_facts.sql",
        (
            ("--   cost decimal(38,18),", "--   cost varchar,"),
            (
                "        coalesce(annotation_cost, 0) + attached_cost as cost,",
                "        cast(coalesce(annotation_cost, 0) + attached_cost as varchar) as cost,",
            ),
        ),
        "the report and the dashboard read cost as number, not text",
    ),
}


@pytest.mark.parametrize("case", READ_COLUMN_EDITS)
def test_a_column_the_tools_read_changed_in_header_and_query_is_named_at_its_header(
    tiny_dir, query_copy, capsys, case
):
    file, edits, reason = READ_COLUMN_EDITS[case]
    path = query_copy / file
    text = path.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "Output:" in t)
    where = f"{path}:{line}: {reason}"
    assert main(["check", "--data", str(tiny_dir)]) == 1
    assert where in capsys.readouterr().err
    assert main(["report", str(tiny_dir), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(where) and "Traceback" not in err


def test_a_type_may_be_spelled_in_several_words():
    assert [declared_family(t) for t in ("DOUBLE PRECISION", "timestamp with time zone")] == [
        "number",
        "timestamp",
    ]


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        (
            "models/annotation_facts.sql",
            "    left join latest_decisions on annotations.item_id = latest_decisions.item_id\n",
            "    left join latest_decisions on annotations.item_id = latest_decisions.item_id\n"
            "    left join reviews as any_review"
            " on annotations.annotation_id = any_review.annotation_id\n",
        ),
        (
            "domain_coverage.sql",
            "select * from final",
            "select * from final union all select * from final",
        ),
    ],
    ids=["a model", "a KPI query"],
)
def test_check_names_the_file_whose_join_repeats_rows(tiny_dir, query_copy, capsys, file, old, new):
    path = query_copy / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    assert main(["check", "--data", str(tiny_dir)]) == 1
    err = capsys.readouterr().err
    assert f"{path}: " in err and "rows share their Key" in err


def test_an_empty_time_limit_in_the_environment_reads_as_unset(monkeypatch):
    monkeypatch.setenv("KPI_QUERY_TIMEOUT_S", "")
    assert queries.time_limit() == 600


def test_the_report_with_no_folder_of_queries_says_so(tiny_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(queries, "QUERIES_DIR", tmp_path / "nowhere")
    assert main(["report", str(tiny_dir), "--quiet"]) == 1
    assert f"{tmp_path / 'nowhere'}: no such folder of query files" in capsys.readouterr().err
