"""``kpi report``: the JSON shape of interfaces.md, markdown and HTML, errors."""

from __future__ import annotations

import json
import os
import re

import pytest
from independent_kpis import RATES_WITH_CI

from datasets import TINY, write_dataset
from kpi_core.catalog import KPIS
from kpi_core.cli import BUNDLED_SAMPLE, main

REQUIRED_KPIS = (
    "accepted_label_error_rate",
    "disagreement_rate",
    "pairwise_agreement",
    "krippendorff_alpha",
    "gold_accuracy",
    "rework_rate",
    "cost_per_accepted_label",
    "accepted",
    "review_backlog",
    "programmatic_accuracy",
    "specialist_review_time_median_s",
    "specialist_review_time_p90_s",
)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("tiny"), TINY)


def run_report(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["report", *args, "--quiet"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def report(tiny_dir):
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["report", str(tiny_dir), "--quiet"]) == 0
    return json.loads(buffer.getvalue())


def test_json_has_the_shape_of_interfaces_md(report):
    assert report["as_of"] == "2026-01-14T11:00:00Z"
    assert report["level"] == "nominal"
    for kpi in REQUIRED_KPIS:
        assert kpi in report["overall"], kpi
    for row in report["slices"]:
        assert {"domain", "difficulty", "risk_class"} <= set(row)
        assert set(REQUIRED_KPIS) <= set(row)
    for row in report["weeks"]:
        assert re.fullmatch(r"\d{4}-W\d{2}", row["week"])
        assert set(REQUIRED_KPIS) <= set(row)
    assert isinstance(report["promoted_slices"], list)


def test_every_rate_with_an_interval_has_its_bounds(report):
    for row in [report["overall"], *report["slices"], *report["weeks"]]:
        for kpi in RATES_WITH_CI:
            low, high = row[f"{kpi}_ci_low"], row[f"{kpi}_ci_high"]
            if row[kpi] is None:
                assert low is None and high is None
            else:
                assert low <= row[kpi] <= high


def test_values_equal_the_hand_checked_ones(report):
    overall = report["overall"]
    assert overall["accepted"] == 4
    assert overall["cost_per_accepted_label"] == pytest.approx(6.25)
    assert overall["krippendorff_alpha"] == pytest.approx(0.5)
    assert overall["domain_coverage"] == 0.5
    assert [w["week"] for w in report["weeks"]] == ["2026-W02", "2026-W03"]
    # The report's medians and p90s come from DuckDB (test_metrics checks the same
    # hand-worked numbers on the dashboard's path).
    assert overall["specialist_review_time_median_s"] == 150.0
    assert overall["specialist_review_time_p90_s"] == pytest.approx(264.0)
    assert overall["turnaround_median_h"] == pytest.approx(13.0)
    assert overall["turnaround_p90_h"] == pytest.approx(73.0)
    w2, w3 = report["weeks"]
    assert (w2["specialist_review_time_median_s"], w3["specialist_review_time_median_s"]) == (
        90.0,
        240.0,
    )
    assert report["warnings"] and "2 annotation, review or audit cost" in report["warnings"][0]


def test_promotion_needs_k_weeks_above_target_with_n_known(tmp_path, capsys):
    # One slice, three weeks, each with 2 accepted labels of known truth, one wrong:
    # error 50% > 5% every week. With min_known 2 it is promoted; with 3 it is not.
    rows = ["annotation_id,item_id,annotator_id,label,submitted_at"]
    reviews = ["review_id,annotation_id,reviewer_id,stage,verdict,corrected_label,reviewed_at"]
    for week, day in enumerate(("2026-01-05", "2026-01-12", "2026-01-19")):
        for k, label in enumerate(("A", "B")):
            aid = f"a{week}{k}"
            rows.append(f"{aid},i1,g1,{label},{day}T10:00:00Z")
            reviews.append(f"r{week}{k},{aid},s1,final,accept,,{day}T12:00:00Z")
    tables = {
        "items": "item_id,domain,difficulty,risk_class,gold_label\ni1,medicine,hard,high,A",
        "annotators": "annotator_id,tier\ng1,generalist\ns1,specialist",
        "annotations": "\n".join(rows),
        "reviews": "\n".join(reviews),
    }
    root = write_dataset(tmp_path / "data", tables)
    for min_known, promoted in ((2, True), (3, False)):
        targets = tmp_path / f"targets{min_known}.toml"
        targets.write_text(f"[promotion]\nweeks = 3\nmin_known = {min_known}\n")
        code, out, _ = run_report(capsys, str(root), "--targets", str(targets))
        assert code == 0
        result = json.loads(out)["promoted_slices"]
        assert bool(result) is promoted
        if promoted:
            assert result[0]["domain"] == "medicine"
            assert [w["week"] for w in result[0]["weeks"]] == ["2026-W02", "2026-W03", "2026-W04"]
            assert all(w["accepted_label_error_rate"] == 0.5 for w in result[0]["weeks"])


def test_as_of_moves_the_backlog(tiny_dir, capsys):
    code, out, _ = run_report(capsys, str(tiny_dir), "--as-of", "2026-01-05T12:30:00+00:00")
    assert code == 0
    report = json.loads(out)
    assert report["as_of"] == "2026-01-05T12:30:00Z"
    assert report["overall"]["review_backlog"] == 1


def one_item(root, *, annotations: str, reviews: str):
    """Item i1 (stem), generalist g1 and specialist s1, with these annotations and reviews."""
    return write_dataset(
        root,
        {
            "items": "item_id,domain\ni1,stem",
            "annotators": "annotator_id,tier\ng1,generalist\ns1,specialist",
            "annotations": annotations,
            "reviews": reviews,
        },
    )


def test_the_printed_as_of_is_the_moment_used_to_the_microsecond(tmp_path, capsys):
    """a2 waits 0.05 s at the default as-of (its own submission): printed without its
    fraction, the as-of read back would leave a2 out of the backlog."""
    data = one_item(
        tmp_path,
        annotations="""
            annotation_id,item_id,annotator_id,label,submitted_at
            a1,i1,g1,A,2026-02-10T12:00:00.300Z
            a2,i1,g1,A,2026-02-10T12:00:00.650Z
        """,
        reviews="""
            review_id,annotation_id,reviewer_id,stage,verdict,reviewed_at
            r1,a1,s1,final,accept,2026-02-10T12:00:00.600Z
        """,
    )
    _, out, _ = run_report(capsys, str(data))
    default = json.loads(out)
    assert default["as_of"] == "2026-02-10T12:00:00.65Z"
    assert default["overall"]["review_backlog"] == 1
    _, again, _ = run_report(capsys, str(data), "--as-of", default["as_of"])
    assert again == out
    _, out, _ = run_report(capsys, str(data), "--as-of", "2026-02-10T12:00:00.649999Z")
    assert json.loads(out)["as_of"] == "2026-02-10T12:00:00.649999Z"
    assert json.loads(out)["overall"]["review_backlog"] == 0


def test_a_week_with_only_a_review_counts_0_and_rates_null(tmp_path, capsys):
    """W03 exists only through r1's reviewed_at (specialist review time's week)."""
    data = one_item(
        tmp_path,
        annotations="""
            annotation_id,item_id,annotator_id,label,submitted_at
            a1,i1,g1,A,2026-01-05T10:00:00Z
        """,
        reviews="""
            review_id,annotation_id,reviewer_id,stage,verdict,reviewed_at,duration_s
            r1,a1,s1,final,accept,2026-01-13T10:00:00Z,60
        """,
    )
    _, out, _ = run_report(capsys, str(data))
    first, review_only = json.loads(out)["weeks"]
    assert (first["week"], review_only["week"]) == ("2026-W02", "2026-W03")
    assert review_only["specialist_review_time_median_s"] == 60
    for count in ("accepted", "review_backlog", "n_annotations", "n_decided", "cost", "n_pairs"):
        assert review_only[count] == 0, count
    assert review_only["throughput"] == 0  # the week's accepted count
    for rate in ("rework_rate", "cost_per_accepted_label", "disagreement_rate"):
        assert review_only[rate] is None, rate
    assert first["n_items_multi"] == 0 and first["disagreement_rate"] is None


def test_without_reviews_coverage_is_not_available_not_a_breach(tmp_path, capsys):
    """No label is accepted without a review: coverage of the targets is unknown, not 0."""
    data = str(write_dataset(tmp_path, TINY, drop=("reviews",)))
    _, out, _ = run_report(capsys, data)
    report = json.loads(out)
    assert report["overall"]["domain_coverage"] is None
    assert report["domain_coverage"] == []
    assert report["status"].get("domain_coverage") is None
    _, markdown, _ = run_report(capsys, data, "--format", "markdown")
    section = markdown.split("## Domain coverage\n", 1)[1].split("##", 1)[0]
    assert section.strip() == "Not available: the data has no reviews table."


def test_an_out_path_that_cannot_be_written_is_one_line(tiny_dir, tmp_path, capsys):
    code, _, err = run_report(capsys, str(tiny_dir), "--out", str(tmp_path))
    assert code == 1
    assert err == f"kpi report: {tmp_path}: Is a directory\n"


@pytest.mark.parametrize("as_of", ["yesterday", ""])
def test_bad_as_of_is_one_line_without_traceback(tiny_dir, capsys, as_of):
    code, out, err = run_report(capsys, str(tiny_dir), "--as-of", as_of)
    assert code == 1
    assert err.strip() == f"--as-of: not a valid ISO 8601 timestamp: {as_of!r}"


def test_quiet_writes_the_report_and_nothing_else(tiny_dir, tmp_path, capsys):
    out = tmp_path / "report.json"
    code, stdout, err = run_report(capsys, str(tiny_dir), "--out", str(out))
    assert (code, stdout, err) == (0, "", "")
    assert json.loads(out.read_text())["overall"]["accepted"] > 0
    assert main(["report", str(tiny_dir), "--out", str(out)]) == 0  # not quiet: says where
    assert capsys.readouterr().err.endswith(f"wrote json report to {out}\n")


def test_invalid_data_is_reported_not_computed(tmp_path, capsys):
    tables = dict(TINY)
    tables["reviews"] = TINY["reviews"].replace("r2,a1,s1,final,accept", "r2,a1,s1,final,acept")
    code, out, err = run_report(capsys, str(write_dataset(tmp_path, tables)))
    assert code == 1 and out == ""
    assert "reviews.csv: row 2, column verdict" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("table", "old", "new"),
    [
        ("reviews", "r2,a1,s1,final,accept", "r2,a9,s1,final,accept"),
        ("annotations", "a1,i1,g1", "a1,i9,g1"),
        ("reviews", "final,accept,,2026-01-06T12:00:00Z", "final,accept,,2026-01-04T12:00:00Z"),
    ],
    ids=["orphan review", "unknown item", "review before submission"],
)
def test_cross_table_problems_are_named_as_kpi_validate_names_them(
    tmp_path, capsys, table, old, new
):
    tables = dict(TINY)
    assert old in tables[table]
    tables[table] = tables[table].replace(old, new)
    data = str(write_dataset(tmp_path, tables))
    assert main(["validate", data]) == 1
    expected = capsys.readouterr().err.splitlines()[:-1]
    code, out, err = run_report(capsys, data)
    assert code == 1 and out == ""
    assert err.splitlines() == expected


def test_markdown_and_html(tiny_dir, tmp_path, capsys):
    code, out, _ = run_report(capsys, str(tiny_dir), "--format", "markdown")
    assert code == 0
    assert "| Accepted-label error rate | 66.7% |" in out
    rows = {line.split(" | ")[0].lstrip("| "): line for line in out.splitlines()}
    # W02: i1 (A, B, A) disagrees, i2 (Y, Y) agrees -> 50% > 30%; W03 has no item
    # with two human annotators, so W02 is the latest week with a value.
    # (its Wilson interval: two items is weak evidence)
    assert rows["Disagreement rate"].endswith(
        "| since 2026-W02 (50.0% in 2026-W02, 95% 9.5% – 90.5%) |"
    )
    # rework breaches over the data (1/3) and in W02 (1/2) but not in W03 (0/1)
    assert rows["Rework rate"].endswith("| ⛔ breach |  |")
    # coverage, least covered first: coding hard/high has i3 and i4 accepted (2 of 4);
    # stem (any difficulty, any risk) has i1 and i2 (2 of 1)
    assert (
        "| coding | hard | high | 4 | 2 | 2 | 50.0% |\n| stem | any | any | 1 | 2 | 0 | 100.0% |"
        in out
    )
    html_file = tmp_path / "report.html"
    code, _, err = run_report(capsys, str(tiny_dir), "--format", "html", "--out", str(html_file))
    assert (code, err) == (0, "")
    html = html_file.read_text()
    assert "<script" in html and "cdn.plot.ly" not in html.split("</head>")[0]
    assert "breaching every week since 2026-W02 (50.0% in 2026-W02, 95% 9.5% – 90.5%)" in html
    assert "<h2>Domain coverage</h2>" in html and "<td>coding</td><td>hard</td>" in html
    assert "<h2>By slice</h2>" in html
    for kpi in KPIS.values():
        assert kpi.title.replace("'", "&#x27;") in html or kpi.title in html


def test_levels_other_than_nominal_need_numeric_labels(tiny_dir, capsys):
    code, _, err = run_report(capsys, str(tiny_dir), "--level", "ordinal")
    assert code == 1
    assert "level ordinal reads labels as finite numbers" in err


@pytest.mark.parametrize("bad", ["inf", "-Infinity", "nan"])
def test_labels_that_are_no_finite_number_are_refused_at_numeric_levels(tmp_path, capsys, bad):
    # inf makes every distance infinite (alpha null), and nan dropped out unseen.
    annotations = TINY["annotations"]
    for letter, number in zip("ABXYZ", "12345", strict=True):
        annotations = annotations.replace(f",{letter},2026", f",{number},2026")
    numeric = write_dataset(tmp_path / "numeric", {**TINY, "annotations": annotations})
    assert run_report(capsys, str(numeric), "--level", "interval")[0] == 0
    annotations = annotations.replace("a2,i1,g2,2,", f"a2,i1,g2,{bad},")
    data = write_dataset(tmp_path / "bad", {**TINY, "annotations": annotations})
    code, _, err = run_report(capsys, str(data), "--level", "interval")
    assert code == 1
    assert f"level interval reads labels as finite numbers, but these are not: '{bad}'" in err


@pytest.mark.parametrize("fmt", ["json", "markdown", "html"])
def test_the_report_is_the_same_bytes_run_after_run(capsys, fmt):
    # Costs are summed as decimals and agreement's fractions in one order (a float sum
    # changes in its last digits with the order parallel aggregation adds in); the
    # charts have fixed ids (plotly's are random).
    runs = {run_report(capsys, str(BUNDLED_SAMPLE), "--format", fmt)[1] for _ in range(2)}
    assert len(runs) == 1


def test_the_report_is_the_same_bytes_whatever_the_file_format(tmp_path, capsys):
    from kpi_core.sampling import write_sample

    reports = {}
    for fmt in ("csv", "jsonl", "parquet"):
        write_sample(tmp_path / fmt, 3_000, seed=11, fmt=fmt, progress=False)
        code, out, _ = run_report(capsys, str(tmp_path / fmt))
        assert code == 0
        reports[fmt] = out
    assert reports["csv"] == reports["parquet"]
    assert reports["jsonl"] == reports["parquet"]


@pytest.mark.parametrize(
    ("as_of", "note"),
    [
        (
            "2020-01-01",
            "--as-of 2020-01-01T00:00:00Z is before the week of the first annotation (2026-01-05T00:00:00Z)",
        ),
        (
            "2026-03-01",
            "--as-of 2026-03-01T00:00:00Z is after the latest timestamp in the data (2026-01-14T11:00:00Z)",
        ),
        ("2026-01-10", None),
    ],
)
def test_an_as_of_outside_the_data_is_said_not_silently_taken(tiny_dir, capsys, as_of, note):
    code, out, _ = run_report(capsys, str(tiny_dir), "--as-of", as_of)
    assert code == 0
    said = [w for w in json.loads(out)["warnings"] if w.startswith("--as-of")]
    # on stderr too, unless --quiet: a report written to a file hides its warnings
    assert main(["report", str(tiny_dir), "--as-of", as_of, "--out", os.devnull]) == 0
    err = capsys.readouterr().err
    if note:
        assert len(said) == 1 and said[0].startswith(note)
        assert f"warning: {note}" in err
    else:
        assert said == [] and "warning: --as-of" not in err
