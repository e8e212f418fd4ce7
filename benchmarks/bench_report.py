"""Time the full ``kpi report`` against a plain DuckDB scan of the same files.

    python benchmarks/bench_report.py                 # 2M and 10M annotations
    python benchmarks/bench_report.py --sizes 200000  # a quick run

Each measurement runs in a fresh child process, so its peak memory (the
child's max RSS) is its own. The scan and the report alternate ``--runs``
times and each keeps its fastest run (and the report its highest peak), so a
busy neighbour on a shared machine skews neither side. Targets (issue 3): the report on 2M annotations at
most 5x a plain scan that reads every column of every table once; the report
on 10M annotations under 60 s and 6 GiB peak.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from sample_cache import ensure_sample

# The baseline: read every column of every table once (max of each column).
SCAN = """
import sys, duckdb
from pathlib import Path
con = duckdb.connect()
for path in sorted(Path(sys.argv[1]).glob("*.parquet")):
    columns = [r[0] for r in con.execute(f"describe select * from read_parquet('{path}')").fetchall()]
    maxima = ", ".join(f'max("{c}")' for c in columns)
    con.sql(f"select count(*), {maxima} from read_parquet('{path}')").pl()
"""

REPORT = """
import sys
from kpi_core.cli import main
sys.exit(main(["report", sys.argv[1], "--quiet", "--out", "/dev/null"]))
"""

# Runs a snippet, then writes its own peak RSS (KiB) to stderr's last line.
WRAPPER = """
import atexit, resource, sys
atexit.register(lambda: print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))
code = sys.argv.pop(1)
exec(compile(code, "<bench>", "exec"))
"""


def timed(snippet: str, data: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of ``snippet`` run on ``data`` in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, snippet, str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"benchmark step failed:\n{done.stderr}")
    seconds = time.perf_counter() - start
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return seconds, peak_kib / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000_000, 10_000_000])
    parser.add_argument("--runs", type=int, default=3, help="runs of each, fastest kept")
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        data = ensure_sample(n)
        scans, reports = [], []
        for _ in range(args.runs):
            scans.append(timed(SCAN, data))
            reports.append(timed(REPORT, data))
        scan_s = min(s for s, _ in scans)
        report_s = min(s for s, _ in reports)
        peak = max(p for _, p in reports)
        rows.append((n, scan_s, report_s, peak))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'annotations':>12} {'scan s':>8} {'report s':>9} {'ratio':>6} {'peak GiB':>9}  targets"
    )
    for n, scan_s, report_s, peak in rows:
        ratio = report_s / scan_s
        verdicts = []
        if n <= 2_000_000:
            verdicts.append(f"ratio <= 5: {'PASS' if ratio <= 5 else 'FAIL'}")
        if n >= 10_000_000:
            verdicts.append(f"< 60 s: {'PASS' if report_s < 60 else 'FAIL'}")
            verdicts.append(f"< 6 GiB: {'PASS' if peak < 6 else 'FAIL'}")
        print(
            f"{n:>12,} {scan_s:>8.2f} {report_s:>9.2f} {ratio:>6.1f} {peak:>9.2f}  {'; '.join(verdicts)}"
        )


if __name__ == "__main__":
    main()
