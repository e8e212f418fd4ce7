"""``kpi calibration-pack``: the files, their privacy, the CLI, and the HTML in a real browser."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import polars as pl
import pytest
from test_calibration import DISPUTE, DRIFT

from datasets import TINY, write_dataset
from kpi_core import calibration as cal
from kpi_core import calibration_pack as pack
from kpi_core.cli import BUNDLED_SAMPLE, main
from kpi_core.loading import open_dataset

CHROMIUM = Path("/usr/bin/chromium")
#: Human ids of DISPUTE and DRIFT; none may appear in a pseudonymised pack.
PEOPLE = ("g1", "g2", "g3", "g4", "s1", "n1")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """DISPUTE's items and labels plus DRIFT's: disputed items and a drifting annotator."""
    root = tmp_path_factory.mktemp("meeting")
    tables = {name: textwrap.dedent(text).strip() for name, text in DISPUTE.items()}
    drift_items = [f"{row}," for row in DRIFT["items"].strip().splitlines()[1:]]  # no gold
    tables["items"] += "\n" + "\n".join(drift_items)
    drift_labels = DRIFT["annotations"].strip().splitlines()[1:]
    tables["annotations"] += "\n" + "\n".join(drift_labels)
    drift_people = [
        row
        for row in textwrap.dedent(DRIFT["annotators"]).strip().splitlines()[1:]
        if not row.startswith(("g1,", "g2,"))
    ]
    tables["annotators"] += "\n" + "\n".join(drift_people)
    return write_dataset(root, tables)


@pytest.fixture(scope="module")
def written(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    files = pack.write_pack(data_dir, week="2026-W07", out=out, pseudonym_key="test")
    return out, files


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z0-9_-]+", text))


def test_pack_holds_the_page_the_agenda_and_every_table(written):
    out, files = written
    assert set(files) == {
        "calibration-2026-W07.html",
        "agenda-2026-W07.md",
        *(
            f"{name}-2026-W07.csv"
            for name in (
                "alpha_trend",
                "cohen_kappa_pairs",
                "annotator_agreement",
                "vendor_agreement",
                "confusion_matrices",
                "disputed_items",
                "disputed_labels",
                "disputed_reviews",
                "promoted_slices",
                "decisions",
            )
        ),
    }
    disputed = pl.read_csv(out / "disputed_items-2026-W07.csv")
    assert disputed["item_id"].to_list()[:4] == ["d1", "d4", "d3", "d2"]
    agreement = pl.read_csv(out / "annotator_agreement-2026-W07.csv")
    assert agreement.filter(pl.col("is_drifting")).height == 1


def test_agenda_has_one_line_per_disputed_item_and_drifting_annotator(written, data_dir):
    out, _ = written
    agenda = (out / "agenda-2026-W07.md").read_text(encoding="utf-8")
    view = cal.build_view(open_dataset(data_dir), "2026-W07", draws=50)
    item_lines = [line for line in agenda.splitlines() if re.match(r"^\d+\. \[ \] \*\*", line)]
    assert len(item_lines) == view.disputed.height
    assert [re.search(r"\*\*(.+?)\*\*", line).group(1) for line in item_lines] == (
        view.disputed["item_id"].to_list()
    )
    drift_section = agenda.split("## Drifting annotators")[1].split("##")[0]
    drift_lines = [line for line in drift_section.splitlines() if line.startswith("- [ ]")]
    assert len(drift_lines) == view.drifting.height == 1
    # g1: 2 of 11 labels with the consensus this week (0 of 6 on w0..w5), 6 of 6 before
    assert drift_lines[0].startswith(f"- [ ] **{cal.Pseudonyms('test').mapping(['g1'])['g1']} ")
    assert "consensus agreement 18.2% (11) vs 100.0% (6) before" in drift_lines[0]
    assert "already decided in 2026-W06: B" in agenda  # d3


def test_pack_is_pseudonymised_by_default(written):
    out, files = written
    names = cal.Pseudonyms("test").mapping(PEOPLE)
    g1 = names["g1"]
    for name, path in files.items():
        text = path.read_text(encoding="utf-8")
        if name.endswith(".html"):
            text = text.split("</script>", 1)[1]  # plotly.js itself is not ours to check
        assert not _words(text) & set(PEOPLE), name
    # the same person has the same pseudonym in every file
    agreement = pl.read_csv(out / "annotator_agreement-2026-W07.csv")
    assert agreement.filter(pl.col("is_drifting"))["annotator_id"].to_list() == [g1]
    labels = pl.read_csv(out / "disputed_labels-2026-W07.csv")
    assert g1 in labels["annotator_id"].to_list()
    assert "p1" in labels["annotator_id"].to_list()  # a program keeps its id
    assert g1 in (out / "agenda-2026-W07.md").read_text(encoding="utf-8")
    assert g1 in (out / "calibration-2026-W07.html").read_text(encoding="utf-8")


def test_real_names_on_request(data_dir, tmp_path):
    files = pack.write_pack(data_dir, week="2026-W07", out=tmp_path, pseudonymise=False)
    agreement = pl.read_csv(files["annotator_agreement-2026-W07.csv"])
    assert "g1" in agreement["annotator_id"].to_list()


def test_html_is_self_contained_and_prints_on_a4(written):
    out, _ = written
    text = (out / "calibration-2026-W07.html").read_text(encoding="utf-8")
    assert "<script src" not in text.lower()
    ours = text.split("</script>", 1)[1]  # after the inlined plotly.js
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", ours)
    assert "Plotly" in text and len(text) > 3_000_000  # plotly.js is inline
    assert "@media print" in text and "size: A4" in text
    assert text.count('class="plotly-graph-div"') == 5  # every figure of pack.figures


def test_zip_holds_the_same_files(written):
    out, files = written
    blob = pack.zip_pack({name: path.read_bytes() for name, path in files.items()}, "pack")
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert sorted(archive.namelist()) == sorted(f"pack/{n}" for n in files)
        assert (
            archive.read("pack/disputed_items-2026-W07.csv")
            == (out / "disputed_items-2026-W07.csv").read_bytes()
        )


def test_a_week_outside_the_data_is_refused_naming_the_datas_weeks(data_dir, tmp_path, capsys):
    code = main(["calibration-pack", str(data_dir), "--week", "2025-W40", "--out", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        "2025-W40 is outside the data's annotations: they run from 2026-W05 to 2026-W08"
    ), err
    assert "\n" not in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_quiet_week_within_the_data_still_makes_a_pack(data_dir, tmp_path):
    files = pack.write_pack(data_dir, week="2026-W07", out=tmp_path)
    quiet = pack.write_pack(data_dir, week="2026-W06", out=tmp_path)  # between W05 and W07
    agenda = quiet["agenda-2026-W06.md"].read_text(encoding="utf-8")
    assert "## Disputed items\n\n0 disputed items.\n" in agenda and "None this week." in agenda
    html = quiet["calibration-2026-W06.html"].read_text(encoding="utf-8")
    assert html.count('class="plotly-graph-div"') == 5
    assert not set(files) & set(quiet)  # two packs in one folder keep apart


# -------------------------------------------------------------------------------- CLI


def test_cli_writes_the_pack(data_dir, tmp_path, capsys):
    out = tmp_path / "pack"
    assert (
        main(
            [
                "calibration-pack",
                str(data_dir),
                "--week",
                "2026-W07",
                "--domain",
                "coding",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert (out / "calibration-2026-W07-coding.html").is_file()
    assert (out / "agenda-2026-W07-coding.md").is_file()
    assert pl.read_csv(out / "disputed_items-2026-W07-coding.csv")["item_id"].to_list() == [
        "d4",
        "d3",
    ]


@pytest.mark.parametrize("team_key", [None, "our team's secret"])
def test_packs_of_two_weeks_share_pseudonyms_only_under_a_team_key(tmp_path, monkeypatch, team_key):
    if team_key:
        monkeypatch.setenv(cal.PSEUDONYM_KEY_ENV, team_key)
    else:
        monkeypatch.delenv(cal.PSEUDONYM_KEY_ENV, raising=False)
    names = []
    for week in ("2026-W06", "2026-W07"):
        out = tmp_path / week
        assert (
            main(["calibration-pack", str(BUNDLED_SAMPLE), "--week", week, "--out", str(out)]) == 0
        )
        names.append(set(pl.read_csv(out / f"annotator_agreement-{week}.csv")["annotator_id"]))
    # the sample's annotators work every week: with a team key, they are recognisable
    assert bool(names[0] & names[1]) == bool(team_key)


def test_cli_names_the_week_as_iso_writes_it(data_dir, tmp_path, capsys):
    out = tmp_path / "pack"
    assert main(["calibration-pack", str(data_dir), "--week", " 2026-W07", "--out", str(out)]) == 0
    assert capsys.readouterr().err.startswith("wrote the 2026-W07 calibration pack (")


@pytest.mark.parametrize("week", ["2026-7", "W07", "2026-W99", "2025-W53"])
def test_cli_malformed_week_is_one_line(data_dir, tmp_path, capsys, week):
    code = main(["calibration-pack", str(data_dir), "--week", week, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("--week: ") and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_cli_text_labels_at_a_numeric_level_are_one_line(tmp_path, capsys):
    # TINY's labels are letters (the meeting's: each annotator's latest, up to W02):
    # ordinal alpha cannot read them. It was a polars traceback.
    data = write_dataset(tmp_path / "tiny", TINY)
    args = ["--week", "2026-W02", "--level", "ordinal", "--out", str(tmp_path / "pack")]
    assert main(["calibration-pack", str(data), *args]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "annotations: column label: level ordinal reads labels as finite numbers, "
        "but these are not: 'A', 'B', 'Y'"
    ]


def test_cli_unknown_domain_and_missing_directory_are_one_line(data_dir, tmp_path, capsys):
    assert (
        main(
            [
                "calibration-pack",
                str(data_dir),
                "--week",
                "2026-W07",
                "--domain",
                "law",
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "law" in err
    assert (
        main(
            [
                "calibration-pack",
                str(tmp_path / "nope"),
                "--week",
                "2026-W07",
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not found" in err


# ---------------------------------------------------------------------------- browser


def _chromium() -> Path:
    """Debian's Chromium; the test skips without it unless KPI_REQUIRE_BROWSER=1."""
    if not CHROMIUM.exists():
        if os.environ.get("KPI_REQUIRE_BROWSER") == "1":
            pytest.fail("KPI_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("no /usr/bin/chromium")
    return CHROMIUM


@pytest.mark.browser
def test_html_opens_offline_in_headless_chromium_and_shows_every_chart(written, tmp_path):
    chromium = _chromium()
    pytest.importorskip("playwright.sync_api")
    out, _ = written
    shot = tmp_path / "calibration-pack.png"
    # A child process: Playwright's sync API will not start where another test left
    # an event loop (the session-wide browser of tests/browser, Streamlit's AppTest).
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parent / "render_html.py"),
            str(chromium),
            str(out / "calibration-2026-W07.html"),
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    outside, errors, charts = result["outside"], result["errors"], result["charts"]
    print_widths, print_page_width = result["print_widths"], result["print_page_width"]
    expected = result["expected"]
    assert outside == [] and errors == []
    assert len(charts) == expected == 5
    for chart in charts:
        assert chart["svg"] >= 2 and chart["marks"] >= 1, chart  # drawn, with something in it
        assert chart["height"] > 100, chart
    # printed on A4 every chart and every table fits the page width
    assert max(print_widths) <= 703
    assert print_page_width <= 703
    assert result["is_pdf"] and result["pdf_pages"] >= 3
    assert shot.stat().st_size > 50_000
    artifacts = Path(__file__).parent / "artifacts"
    if artifacts.is_dir():
        shutil.copy(shot, artifacts / "calibration-pack.png")


def test_the_agenda_gives_a_promoted_slices_weekly_error_rates_as_percent(tmp_path):
    files = pack.write_pack(BUNDLED_SAMPLE, week="2026-W08", out=tmp_path)
    agenda = files["agenda-2026-W08.md"].read_text(encoding="utf-8")
    section = agenda.split("## Slices promoted to specialist review")[1].split("##")[0]
    assert re.search(r"medicine / hard / high.*: error rate by week 2026-W06 \d+\.\d%, ", section)


def test_a_cut_agreement_chart_says_so_and_keeps_the_new_annotators():
    view = cal.build_view(open_dataset(BUNDLED_SAMPLE), "2026-W07", draws=20)
    labelled = view.annotators.filter(pl.col("n_consensus_week") > 0)
    assert labelled.height > pack.MAX_CHART_ANNOTATORS  # the sample's week is a big one
    figure = pack.agreement_figure(view, "consensus")
    assert f"{pack.MAX_CHART_ANNOTATORS} of {labelled.height} annotators" in (
        figure.layout.title.text
    )
    shown = {name for trace in figure.data for name in (trace.y or ())}
    new = set(labelled.filter(pl.col("is_new"))["annotator_id"])
    assert new and new <= shown


def test_a_drifter_is_painted_as_drifting_only_on_the_measure_that_dropped():
    # in the sample's 2026-W08, bluepeak-g003's consensus agreement dropped, not its gold
    view = cal.build_view(open_dataset(BUNDLED_SAMPLE), "2026-W08", draws=20)
    drifter = view.drifting.filter(pl.col("annotator_id") == "bluepeak-g003").row(0, named=True)
    assert drifter["drifted_on"] == "consensus" and drifter["n_gold_week"] > 0
    painted = {}
    for measure in ("consensus", "gold"):
        figure = pack.agreement_figure(view, measure)
        painted[measure] = next(
            trace.name.split(": ", 1)[1]
            for trace in figure.data
            if trace.name
            and trace.name.startswith(view.week)
            and drifter["annotator_id"] in (trace.y or ())
        )
    assert painted == {"consensus": "drifting", "gold": "drifting on the other measure"}


def test_the_agenda_lists_the_weeks_decisions(data_dir, tmp_path):
    files = pack.write_pack(data_dir, week="2026-W06", out=tmp_path)  # c1 was decided in W06
    agenda = files["agenda-2026-W06.md"].read_text(encoding="utf-8")
    section = agenda.split("## Decisions recorded for 2026-W06 (1)")[1].split("---")[0]
    assert "- d3 → B: guideline 3.1, second case" in section
    quiet = pack.write_pack(data_dir, week="2026-W07", out=tmp_path)
    text = quiet["agenda-2026-W07.md"].read_text(encoding="utf-8")
    assert "## Decisions recorded for 2026-W07 (0)\n\nNone yet" in text


def test_a_packs_decisions_stop_at_its_week(data_dir, tmp_path):
    """c1 was decided in 2026-W06: a 2026-W05 pack, written later, does not list it."""
    earlier = pack.write_pack(data_dir, week="2026-W05", out=tmp_path)
    assert pl.read_csv(earlier["decisions-2026-W05.csv"]).height == 0
    later = pack.write_pack(data_dir, week="2026-W07", out=tmp_path)
    assert pl.read_csv(later["decisions-2026-W07.csv"])["decision_id"].to_list() == ["c1"]


def test_the_agenda_of_a_week_without_a_shared_item_reads_as_a_sentence(tmp_path):
    # In W03 of TINY plus n1 (new, one label on i4), no item has two human annotators.
    tables = {
        **TINY,
        "annotators": TINY["annotators"].rstrip() + "\n        n1,generalist,acme,30",
        "annotations": TINY["annotations"].rstrip()
        + "\n        a10,i4,n1,B,2026-01-14T09:00:00Z,,1.0",
    }
    data = write_dataset(tmp_path / "data", tables)
    files = pack.write_pack(data, week="2026-W03", out=tmp_path / "pack", pseudonymise=False)
    agenda = files["agenda-2026-W03.md"].read_text(encoding="utf-8")
    assert "Fleiss' kappa n/a as no item of the week has two or more annotators." in agenda
    assert "- n1 (generalist, acme): 1 label this week" in agenda
