"""The ``kpi`` command: sample, validate, check, report, serve, calibration-pack.

Every verb prints problems with the input as one line each on stderr and exits
non-zero; a traceback is never what a user sees for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kpi_core.problems import DataError, Problem, QueryError

if TYPE_CHECKING:
    from kpi_core.loading import Dataset

BUNDLED_SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLE_SEED = 7
SAMPLE_ANNOTATIONS = 20_000


def _sample(args: argparse.Namespace) -> int:
    from kpi_core.sampling import write_sample

    write_sample(
        Path(args.out_dir),
        args.annotations,
        seed=args.seed,
        fmt=args.format,
        progress=not args.quiet,
    )
    if not args.quiet:
        print(
            f"wrote sample data ({args.annotations:,} annotations, seed {args.seed}) "
            f"to {args.out_dir}",
            file=sys.stderr,
        )
    return 0


def _advance(bar, name: str) -> None:
    bar.set_postfix_str(name)
    bar.update()


def _validate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kpi_core.spacing import spaced_values
    from kpi_core.validation import steps, validate

    # Read from the valid data while it is open (a CSV or JSONL file is parsed once);
    # said last, after the problems or rows set aside.
    spaced: list[Problem] = []

    def note_spaced_values(dataset: Dataset) -> None:
        spaced.extend(spaced_values(dataset))

    def warn() -> None:
        for note in spaced:
            print(f"warning: {note}", file=sys.stderr)

    if args.quarantine:
        from kpi_core.quarantine import rows_to_leave_out, summary

        aside = rows_to_leave_out(
            Path(args.data_dir), Path(args.quarantine), on_valid=note_spaced_values
        )
        for problem in aside:
            print(problem, file=sys.stderr)
        warn()
        print(summary(aside, Path(args.quarantine)), file=sys.stderr)
        return 0
    # On a terminal only: a script reading stderr gets the problem lines and nothing else.
    with tqdm(
        total=steps(), desc="validate", unit="step", file=sys.stderr, leave=False, disable=None
    ) as bar:
        problems = validate(
            Path(args.data_dir),
            on_step=lambda name: _advance(bar, name),
            on_valid=note_spaced_values,
        )
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found in {args.data_dir}", file=sys.stderr)
        return 1
    warn()
    print(f"{args.data_dir}: valid", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    from kpi_core.loading import open_dataset
    from kpi_core.queries import QUERIES_DIR, check, query_paths, run
    from kpi_core.validation import validate

    data = Path(args.data) if args.data else BUNDLED_SAMPLE
    failures: list[str] = []

    def check_queries(dataset: Dataset) -> None:
        try:
            as_of = run(dataset.con, "data_as_of").item(0, "as_of")
        except QueryError:
            as_of = None  # check() reports the broken file itself
        failures.extend(check(dataset.con, as_of=as_of))

    if args.data:
        # On data that breaks the contract a query's odd result (a key twice) would be
        # blamed on its file: the data is named first, and the queries run on it once
        # it is valid, still open. A broken check is check()'s to name.
        problems = validate(data, broken_checks=[], on_valid=check_queries)
        if problems:
            for problem in problems:
                print(problem, file=sys.stderr)
            print(
                f"{len(problems)} problem(s) in the data {data}: the queries are checked on "
                "valid data (fix these, or check on the bundled sample without --data)",
                file=sys.stderr,
            )
            return 1
    else:
        dataset = open_dataset(data)
        try:
            check_queries(dataset)
        finally:
            dataset.con.close()
    for failure in failures:
        print(failure, file=sys.stderr)
    total = len(query_paths())
    if failures:
        print(f"{len(failures)} problem(s) among {total} query files", file=sys.stderr)
        return 1
    print(
        f"all {total} query files in {QUERIES_DIR} ran on {data} and match their headers",
        file=sys.stderr,
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from kpi_core.report import write_report

    write_report(
        Path(args.data_dir),
        fmt=args.format,
        level=args.level,
        as_of=args.as_of,
        out=Path(args.out) if args.out else None,
        targets=Path(args.targets) if args.targets else None,
        progress=not args.quiet,
        quarantine=Path(args.quarantine) if args.quarantine else None,
    )
    return 0


def _serve(args: argparse.Namespace) -> int:
    from kpi_core.serving import serve

    data = Path(args.data_dir) if args.data_dir else BUNDLED_SAMPLE
    quarantine = Path(args.quarantine) if args.quarantine else None
    return serve(data, host=args.host, port=args.port, quarantine=quarantine)


def _calibration_pack(args: argparse.Namespace) -> int:
    from kpi_core.calibration import parse_week
    from kpi_core.calibration_pack import write_pack
    from kpi_core.grouping import iso_week_label

    written = write_pack(
        Path(args.data_dir),
        week=args.week,
        domain=args.domain,
        out=Path(args.out),
        pseudonymise=not args.real_names,
        level=args.level,
        targets=Path(args.targets) if args.targets else None,
    )
    print(
        f"wrote the {iso_week_label(parse_week(args.week))} calibration pack "
        f"({len(written)} files) to {args.out}",
        file=sys.stderr,
    )
    return 0


def _add_targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--targets",
        type=_path,
        metavar="TOML",
        default=os.environ.get("KPI_TARGETS") or None,
        help="targets file overriding the defaults (default: $KPI_TARGETS, as kpi serve "
        f"reads it); copy {Path(__file__).with_name('targets.toml')} and keep the keys "
        "you change",
    )


def _path(text: str) -> str:
    """A path argument; an empty one (``--out ""``) would quietly mean stdout or here."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a file or folder name")
    return text


_QUARANTINE_HELP = (
    "go on despite rows that break the contract: set them aside, write each broken "
    "rule to FILE (CSV: table, file, row, column, reason) and count them; "
    "a whole file that cannot be read still stops"
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kpi-dashboard")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpi",
        description="Quality KPIs for data-labelling operations: accepted-label error rate, "
        "disagreement, Krippendorff's alpha, cost per accepted label, backlog and more, "
        "computed with DuckDB and polars over a directory of annotation logs.",
        epilog="Start with:  kpi sample demo && kpi validate demo && kpi report demo "
        "--format markdown && kpi serve demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(
        name: str,
        summary: str,
        example: str | tuple[str, ...],
        run: Callable[[argparse.Namespace], int],
    ):
        examples = (example,) if isinstance(example, str) else example
        sub = verbs.add_parser(
            name,
            help=summary,
            description=summary,
            epilog="example:\n" + "\n".join(f"  {e}" for e in examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run, parser=sub)
        return sub

    sample = verb(
        "sample",
        "Write a realistic synthetic data directory with every table of the contract "
        "(same seed, same bytes).",
        "kpi sample demo --annotations 100000 --seed 7 --format parquet",
        _sample,
    )
    sample.add_argument("out_dir", metavar="OUT_DIR", help="directory to write (created if absent)")
    sample.add_argument(
        "--annotations",
        type=int,
        default=SAMPLE_ANNOTATIONS,
        metavar="N",
        help=f"number of annotations (default {SAMPLE_ANNOTATIONS:,})",
    )
    sample.add_argument(
        "--seed",
        type=int,
        default=SAMPLE_SEED,
        metavar="S",
        help=f"random seed (default {SAMPLE_SEED})",
    )
    sample.add_argument(
        "--format",
        choices=("parquet", "csv", "jsonl"),
        default="parquet",
        help="file format of every table (default parquet)",
    )
    sample.add_argument(
        "--quiet", action="store_true", help="nothing on stderr but errors (no progress bar)"
    )

    validate = verb(
        "validate",
        "Check DATA_DIR against the input contract: exit 0 when clean, 1 with one line "
        "per broken rule (file, row, column, reason). Valid text with spaces around it "
        "(' stem': a domain of its own) gets a 'warning:' line, and exit 0. With "
        "--quarantine, set the broken rows aside in a file instead and exit 0.",
        "kpi validate ./logs --quarantine quarantine.csv",
        _validate,
    )
    validate.add_argument(
        "data_dir",
        metavar="DATA_DIR",
        help="directory of items, annotators, annotations (+ optional tables) "
        "as .csv, .parquet, .jsonl or Parquet folders",
    )
    validate.add_argument("--quarantine", metavar="FILE", help=_QUARANTINE_HELP)

    check = verb(
        "check",
        "Run every SQL file in queries/ and check its columns against its 'Output:' header; "
        "exit 1 naming the file, line and reason when one fails. A file must hold one "
        "SELECT, return the columns its header declares in that order and of those kinds "
        "(whole numbers whole, no infinity from a division by zero), read every CTE it "
        "defines, and finish within KPI_QUERY_TIMEOUT_S seconds (default 600); a file the "
        "tools run must not be missing.",
        (
            "kpi check                                  # the project's queries, on the sample",
            "kpi check --data ./logs                    # on your data",
            "KPI_QUERIES_DIR=./my-queries kpi check     # a copy you are editing",
        ),
        _check,
    )
    check.add_argument(
        "--data",
        metavar="DATA_DIR",
        help="data directory to run against (default: the bundled sample)",
    )

    report = verb(
        "report",
        "Compute every KPI (overall, per slice, per ISO week) and the promoted slices.",
        (
            "kpi report ./logs --format json --out report.json",
            "kpi report ./logs --format markdown --out meeting.md   # paste into a meeting doc",
            "kpi report ./logs --format html --out report.html      # opens offline, charts in",
            "kpi report ./logs --level ordinal --targets ours.toml  # labels 1-5, your targets",
            "kpi report ./logs --as-of 2026-03-01 --quarantine bad-rows.csv",
        ),
        _report,
    )
    report.add_argument("data_dir", metavar="DATA_DIR", help="data directory")
    report.add_argument(
        "--format",
        choices=("json", "markdown", "html"),
        default="json",
        help="json (machine-readable), markdown (for a meeting doc) or html "
        "(self-contained, with charts); default json",
    )
    report.add_argument(
        "--level",
        choices=("nominal", "ordinal", "interval", "ratio"),
        default="nominal",
        help="measurement level of labels for Krippendorff's alpha "
        "(default nominal; the others read labels as numbers)",
    )
    report.add_argument(
        "--as-of",
        metavar="TIMESTAMP",
        help="ISO 8601 time the backlog, the defects and slice promotion are judged at "
        "(default: the latest timestamp in the data): what waits for review then, the "
        "defects opened by then (open if resolved later), the K ISO weeks of promotion "
        "ending with its week; the other KPIs cover all the data",
    )
    report.add_argument("--out", type=_path, metavar="FILE", help="write here instead of stdout")
    _add_targets(report)
    report.add_argument("--quarantine", metavar="FILE", help=_QUARANTINE_HELP)
    report.add_argument(
        "--quiet", action="store_true", help="nothing on stderr but errors (no progress)"
    )

    serve = verb(
        "serve",
        "Start the dashboard (default http://127.0.0.1:8501) on DATA_DIR, or on the bundled "
        "sample when none is given.",
        "kpi serve ./logs --port 8600",
        _serve,
    )
    serve.add_argument("data_dir", metavar="DATA_DIR", nargs="?", help="data directory")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; 0.0.0.0 exposes it)",
    )
    serve.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    serve.add_argument("--quarantine", metavar="FILE", help=_QUARANTINE_HELP)

    pack = verb(
        "calibration-pack",
        "Write the weekly calibration meeting pack: self-contained HTML, the CSVs behind "
        "every table and a markdown agenda.",
        "kpi calibration-pack ./logs --week 2026-W07 --domain medicine --out pack/",
        _calibration_pack,
    )
    pack.add_argument("data_dir", metavar="DATA_DIR", help="data directory")
    pack.add_argument("--week", required=True, metavar="YYYY-Www", help="ISO week of the meeting")
    pack.add_argument("--domain", help="only this domain (default: all)")
    pack.add_argument(
        "--out", type=_path, required=True, metavar="DIR", help="directory to write the pack to"
    )
    _add_targets(pack)
    pack.add_argument(
        "--level",
        choices=("nominal", "ordinal", "interval", "ratio"),
        default="nominal",
        help="measurement level for alpha (default nominal)",
    )
    pack.add_argument(
        "--real-names",
        action="store_true",
        help="show annotator ids as they are in the data; without it they are pseudonyms, "
        "the same within a pack, and the same week after week when KPI_PSEUDONYM_KEY "
        "holds your team's secret",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Said by the verb's own parser, so the usage shown is the verb's options.
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return args.run(args)
    except DataError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    except QueryError as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:
        # A path the user gave that cannot be written or read (--out a folder, no space).
        where = f"{error.filename}: " if error.filename else ""
        print(f"kpi {args.verb}: {where}{error.strerror or error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
