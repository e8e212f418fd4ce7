"""Tests that keep the docs true: every verb, query and KPI is in the README,
and CI runs exactly the README's test command."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from kpi_core.catalog import KPIS
from kpi_core.cli import build_parser, main
from kpi_core.queries import PARAMETERS, QUERIES_DIR, query_paths

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_verb_is_documented():
    verbs = build_parser()._subparsers._group_actions[0].choices
    for verb in verbs:
        assert f"kpi {verb}" in README, verb


def test_every_query_file_is_documented():
    for path in query_paths():
        relative = path.relative_to(QUERIES_DIR).as_posix()
        documented = f"`{relative}`" in README or (
            relative.startswith("checks/") and "`checks/*.sql`" in README
        )
        assert documented, relative


def test_every_query_parameter_is_documented():
    for name in PARAMETERS:
        assert f"`:{name}`" in README, name


def test_every_kpi_is_documented():
    for name in KPIS:
        assert f"`{name}`" in README, name


def test_ci_runs_the_readme_test_command():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_verb_has_help_with_an_example(capsys):
    parser = build_parser()
    for verb in parser._subparsers._group_actions[0].choices:
        with contextlib.suppress(SystemExit):
            parser.parse_args([verb, "--help"])
        assert "example:" in capsys.readouterr().out, verb


def test_an_unknown_option_is_told_with_the_verbs_own_usage(capsys):
    with contextlib.suppress(SystemExit):
        main(["validate", "data", "--bogus"])
    err = capsys.readouterr().err
    assert err.startswith("usage: kpi validate [-h]")
    assert "kpi validate: error: unrecognized arguments: --bogus" in err


def test_version_and_an_empty_path_are_answered_in_one_line(capsys):
    with contextlib.suppress(SystemExit):
        main(["--version"])
    assert re.fullmatch(r"kpi \S+\n", capsys.readouterr().out)
    with contextlib.suppress(SystemExit):
        main(["report", "data", "--out", ""])  # would have quietly meant stdout
    assert "argument --out: an empty path" in capsys.readouterr().err
