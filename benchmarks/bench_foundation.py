"""Time the foundation: ``kpi sample`` (generation) and ``kpi validate`` at scale.

    python benchmarks/bench_foundation.py                      # 1M and 10M annotations
    python benchmarks/bench_foundation.py --sizes 1000000      # 1M only

Every measurement runs in a child process of its own, so its peak memory is the
child's ``ru_maxrss`` (from ``os.wait4``: native memory of DuckDB and polars
included, which tracemalloc would miss); its seconds are timed inside the child,
around the call only (interpreter start-up and imports excluded).

Each size is compared with baselines measured in the same run, on the same files,
so the ratios hold on a slower or busier machine:

``count``  DuckDB ``count(*)`` of the annotations file (reads little more than metadata);
``scan``   DuckDB reading every column of every table (a hash of every row);
``copy``   polars reading every table and writing it again in the same format.

``generate`` is reported against ``copy`` (what writing those bytes costs anyway),
``validate`` against ``scan`` (how many full reads of the data validation costs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Each step as (imports, timed code); the globals root, copy_dir, n, seed, fmt are set.
CHILD = {
    "generate": (
        "from kpi_core.sampling import write_sample",
        "write_sample(root, n, seed=seed, fmt=fmt, progress=False)",
    ),
    "count": (
        "import duckdb",
        "duckdb.connect().sql(f\"select count(*) from '{root}/annotations.{fmt}'\").fetchall()",
    ),
    "scan": (
        "import duckdb\nfrom kpi_core.contract import TABLES",
        "con = duckdb.connect()\n"
        "for table in TABLES:\n"
        "    con.sql(f\"select count(*), sum(hash(t)) from '{root}/{table}.{fmt}' as t\").fetchall()",
    ),
    "copy": (
        "import polars as pl\nfrom kpi_core.contract import TABLES",
        "scan = {'parquet': pl.scan_parquet, 'csv': pl.scan_csv, 'jsonl': pl.scan_ndjson}[fmt]\n"
        "for table in TABLES:\n"
        "    frame = scan(f'{root}/{table}.{fmt}')\n"
        "    sink = {'parquet': frame.sink_parquet, 'csv': frame.sink_csv,\n"
        "            'jsonl': frame.sink_ndjson}[fmt]\n"
        "    sink(f'{copy_dir}/{table}.{fmt}')",
    ),
    "validate": (
        "from kpi_core.validation import validate",
        "problems = validate(root)\nassert not problems, problems[:5]",
    ),
}

#: Which baseline each measured step is compared with.
BASELINE = {"generate": "copy", "validate": "scan"}


def measure(task: str, **params) -> dict:
    """Run ``task`` in a child process; its own seconds and its peak RSS."""
    imports, body = CHILD[task]
    code = (
        "import json, time\n"
        f"globals().update(json.loads({json.dumps(json.dumps(params))}))\n"
        f"{imports}\n"
        "start = time.perf_counter()\n"
        f"{body}\n"
        "print(json.dumps({'seconds': time.perf_counter() - start}))\n"
    )
    wall = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{task} failed (exit {child.returncode}) with {params}")
    result = json.loads(output.strip().splitlines()[-1])
    peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # Linux: KiB
    return {
        "task": task,
        "seconds": result["seconds"],
        "wall_seconds": time.perf_counter() - wall,
        "peak_mb": peak / 2**20,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }


def disk_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.iterdir() if p.is_file()) / 2**20


def run(sizes: list[int], fmt: str, seed: int, workdir: Path) -> list[dict]:
    rows = []
    for n in sizes:
        root = workdir / f"sample_{n}"
        copy_dir = workdir / f"copy_{n}"
        copy_dir.mkdir(parents=True, exist_ok=True)
        params = {"root": str(root), "copy_dir": str(copy_dir), "n": n, "seed": seed, "fmt": fmt}
        results = {}
        for task in ("generate", "count", "scan", "copy", "validate"):
            results[task] = measure(task, **params)
            results[task]["annotations"] = n
            print(f"  {n:>12,} {task:<9} {results[task]['seconds']:8.2f} s", file=sys.stderr)
        for task, result in results.items():
            base = BASELINE.get(task)
            result["baseline"] = base
            result["ratio"] = result["seconds"] / results[base]["seconds"] if base else None
        results["generate"]["disk_mb"] = disk_mb(root)
        rows += results.values()
    return rows


def render(rows: list[dict]) -> str:
    lines = [
        f"{'annotations':>12}  {'step':<9} {'seconds':>8} {'cpu s':>7} {'peak MB':>8}  ratio",
    ]
    for r in rows:
        ratio = f"{r['ratio']:.1f}x {r['baseline']}" if r["ratio"] is not None else ""
        if "disk_mb" in r:
            ratio += f"  ({r['disk_mb']:.0f} MB on disk)"
        lines.append(
            f"{r['annotations']:>12,}  {r['task']:<9} {r['seconds']:8.2f} {r['cpu_seconds']:7.1f} "
            f"{r['peak_mb']:8.0f}  {ratio}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1_000_000, 10_000_000],
        metavar="N",
        help="annotation counts (default 1000000 10000000)",
    )
    parser.add_argument("--format", choices=("parquet", "csv", "jsonl"), default="parquet")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workdir", type=Path, help="keep the generated data here (default: a temporary directory)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"bench_foundation: {os.cpu_count()} CPUs, load average {load:.1f}, "
        f"format {args.format}, seed {args.seed}",
        file=sys.stderr,
    )
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        rows = run(args.sizes, args.format, args.seed, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench_foundation_") as tmp:
            rows = run(args.sizes, args.format, args.seed, Path(tmp))
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
