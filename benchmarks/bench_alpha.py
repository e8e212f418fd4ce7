"""Benchmark Krippendorff's alpha (kpi_core.reliability) against the krippendorff package.

Run: ``python benchmarks/bench_alpha.py`` (full size: needs ~8 GiB of RAM at its
peak, for the dense 1,000 x 300,000 matrix of case a) or ``--quick`` (a smoke
run at 1/100 of the sizes). Every number is measured in the same run; each
timing is the best of ``--repeat`` runs (default 3), wall clock, with the CPU
seconds of that run beside it (useful on a shared machine: the load average
is printed too).

Cases
  a. alpha of 300,000 items x 1,000 annotators x 3 labels each: ours (from the
     long-form frame) vs ``krippendorff.alpha(reliability_data=...)`` on the
     dense annotators x items matrix (the matrix is built outside the timing).
     Target: >= 20x faster, same value to 1e-9.
  b. alpha of 10 million labels from 5,000 annotators (3.33M items): ours vs
     polars per-item value counts fed to ``krippendorff.alpha(value_counts=...)``
     (the counting is timed with the baseline). Targets: ours < 5 s and no
     slower than the baseline.
  c. alpha for every slice x week group (36 x 16) of the data of b, one pass,
     vs one global alpha on the same data. Target: <= 2x.
  d. bootstrap interval, 1,000 draws, on 3 million labels (1M items x 3), from
     the labels (the value counting is timed). Target: < 5 s.

Ids and labels are strings, as in the annotation logs; labels are nominal
(5 classes), each equal to the item's true class with probability 0.75.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version

import krippendorff
import numpy as np
import polars as pl

from kpi_core.reliability import (
    bootstrap_alpha,
    grouped_krippendorff_alpha,
    krippendorff_alpha,
    value_counts,
)

N_CLASSES = 5


def simulate(n_items: int, n_annotators: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Three distinct annotators per item; returns the long frame and (annotator, item, label)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, n_annotators, n_items)
    step1 = rng.integers(1, n_annotators - 1, n_items)
    step2 = rng.integers(1, n_annotators - 2, n_items)
    step2 += step2 >= step1  # two different non-zero offsets: three distinct annotators
    annotators = np.stack([first, (first + step1) % n_annotators, (first + step2) % n_annotators])
    truth = rng.integers(0, N_CLASSES, n_items)
    noise = rng.integers(0, N_CLASSES, (3, n_items))
    labels = np.where(rng.random((3, n_items)) < 0.75, truth, noise)
    items = np.tile(np.arange(n_items), 3)
    frame = pl.DataFrame(
        {
            "item_id": items,
            "annotator_id": annotators.ravel(),
            "label": labels.ravel(),
            "slice": np.tile(rng.integers(0, 36, n_items), 3),
            "week": np.tile(rng.integers(0, 16, n_items), 3),
        }
    ).with_columns(
        pl.format("item-{}", "item_id"),
        pl.format("annotator-{}", "annotator_id"),
        pl.format("class-{}", "label"),
        pl.format("slice-{}", "slice"),
        (pl.date(2026, 1, 5) + pl.duration(weeks=pl.col("week"))).alias("week_start"),
    )
    return frame.drop("week"), np.stack([annotators.ravel(), items, labels.ravel()])


def dense_package(dense: np.ndarray) -> float:
    return krippendorff.alpha(reliability_data=dense, level_of_measurement="nominal")


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds, the best run
    cpu: float  # process CPU seconds (all threads) of that run

    def __str__(self) -> str:
        return f"{self.wall:7.3f} ({self.cpu:6.2f})"


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[Timing, object]:
    """The fastest of ``repeat`` runs (wall clock), with its CPU time, and the result."""
    best, result = None, None
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        run = Timing(time.perf_counter() - wall, time.process_time() - cpu)
        best = run if best is None or run.wall < best.wall else best
    assert best is not None
    return best, result


Row = tuple[str, Timing, Timing | None, float | None, str, bool]


def case_a(scale: int, repeat: int, same_values: list[bool]) -> Row:
    """a. Ours vs the package on the dense annotators x items matrix."""
    n_items, n_annotators = 300_000 // scale, 1_000 // min(scale, 10)
    frame, (annotator, item, label) = simulate(n_items, n_annotators, seed=1)
    dense = np.full((n_annotators, n_items), np.nan)
    dense[annotator, item] = label
    t_ours, ours = best_of(repeat, lambda: krippendorff_alpha(frame))
    t_pkg, theirs = best_of(repeat, lambda: dense_package(dense))
    same_values.append(abs(ours - theirs) <= 1e-9)
    print(
        f"a. {frame.height:,} labels, dense matrix {dense.nbytes / 2**30:.1f} GiB: alpha ours "
        f"{ours:.12f}, package {theirs:.12f}, |diff| {abs(ours - theirs):.1e}"
    )
    speedup = t_pkg.wall / t_ours.wall
    return (
        f"a. {n_items:,} items x {n_annotators:,} annotators x 3: vs dense package",
        t_ours,
        t_pkg,
        speedup,
        ">= 20x faster, same value",
        speedup >= 20 and same_values[-1],
    )


def case_b_c(
    scale: int, repeat: int, same_values: list[bool], cases: str, limit: float
) -> list[Row]:
    """b. 10M labels: ours vs polars value counts + package; c. all groups vs global."""
    n_items, n_annotators = 3_333_334 // scale, 5_000 // min(scale, 10)
    frame, _ = simulate(n_items, n_annotators, seed=2)
    rows: list[Row] = []
    package_only: list[float] = []

    def package_from_counts() -> float:
        classes = sorted(frame.get_column("label").unique())
        counts = frame.group_by("item_id").agg(
            [(pl.col("label") == c).sum().alias(c) for c in classes]
        )
        matrix = counts.select(classes).to_numpy()  # items x classes
        start = time.perf_counter()
        result = krippendorff.alpha(value_counts=matrix, level_of_measurement="nominal")
        package_only.append(time.perf_counter() - start)
        return result

    t_global, ours = best_of(repeat, lambda: krippendorff_alpha(frame))
    if "b" in cases:
        t_pkg, theirs = best_of(repeat, package_from_counts)
        same_values.append(abs(ours - theirs) <= 1e-9)
        print(
            f"b. {frame.height:,} labels: alpha ours {ours:.12f}, package {theirs:.12f}, |diff| "
            f"{abs(ours - theirs):.1e}; of the baseline, krippendorff.alpha(value_counts=) "
            f"alone took {min(package_only):.3f} s"
        )
        rows.append(
            (
                f"b. {frame.height:,} labels, {n_annotators:,} annotators: vs counts + package",
                t_global,
                t_pkg,
                t_pkg.wall / t_global.wall,
                f"< {limit:g} s, <= baseline",
                t_global.wall < limit and t_global.wall <= t_pkg.wall and same_values[-1],
            )
        )
    if "c" in cases:
        by = ["slice", "week_start"]
        t_grouped, grouped = best_of(repeat, lambda: grouped_krippendorff_alpha(frame, by))
        rows.append(
            (
                f"c. all {grouped.height} slice x week groups vs one global alpha",
                t_grouped,
                t_global,
                t_grouped.wall / t_global.wall,
                "ratio <= 2",
                t_grouped.wall <= 2 * t_global.wall,
            )
        )
    return rows


def case_d(scale: int, repeat: int, limit: float) -> Row:
    """d. Bootstrap interval from the labels (value counting included)."""
    frame, _ = simulate(1_000_000 // scale, 1_000, seed=3)
    t_boot, boot = best_of(repeat, lambda: bootstrap_alpha(value_counts(frame), draws=1000))
    alpha, low, high = boot.row(0)[:3]
    print(
        f"d. {frame.height:,} labels: alpha {alpha:.4f}, 95% bootstrap interval "
        f"[{low:.4f}, {high:.4f}]"
    )
    return (
        f"d. bootstrap, 1,000 draws, {frame.height:,} labels",
        t_boot,
        None,
        None,
        f"< {limit:g} s",
        t_boot.wall < limit,
    )


def report(rows: list[Row], same_values: list[bool], quick: bool, repeat: int) -> int:
    print(f"load average at the end {os.getloadavg()[0]:.1f}\n")
    print(f"seconds: wall clock, best of {repeat} runs (its CPU seconds, all threads)")
    header = f"{'case':<64} {'ours':>16} {'baseline':>16} {'ratio':>6}  {'target':<26} result"
    print(header)
    print("-" * len(header))
    for name, ours_t, base_t, ratio, target, ok in rows:
        base = f"{base_t!s:>16}" if base_t is not None else " " * 16
        shown = f"{ratio:6.2f}" if ratio is not None else " " * 6
        verdict = "PASS" if ok else "FAIL"
        if quick:  # smoke sizes: fixed costs dominate, the targets are for the full run
            verdict, target = "(smoke)", "-"
        print(f"{name:<64} {ours_t!s:>16} {base} {shown}  {target:<26} {verdict}")
    if quick:
        return 0 if all(same_values) else 1
    return 0 if all(r[-1] for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1/100 of the sizes, a smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--cases", default="abcd", help="which cases to run (default: abcd)")
    args = parser.parse_args(argv)
    scale = 100 if args.quick else 1
    limit = 5.0 / scale
    print(
        f"polars {pl.__version__}, numpy {np.__version__}, krippendorff "
        f"{version('krippendorff')}; {os.cpu_count()} CPUs, polars threads "
        f"{pl.thread_pool_size()}; load average at the start {os.getloadavg()[0]:.1f}"
    )
    krippendorff_alpha(simulate(100, 10, 0)[0])  # warm up polars' thread pool
    rows: list[Row] = []
    same_values: list[bool] = []  # ours equals the package to 1e-9
    if "a" in args.cases:
        rows.append(case_a(scale, args.repeat, same_values))
        gc.collect()
    if "b" in args.cases or "c" in args.cases:
        rows.extend(case_b_c(scale, args.repeat, same_values, args.cases, limit))
        gc.collect()
    if "d" in args.cases:
        rows.append(case_d(scale, args.repeat, limit))
    return report(rows, same_values, args.quick, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
