"""Warm render time of every dashboard page on 1 million annotations.

    python benchmarks/bench_pages.py [--annotations 1000000] [--runs 3]

1. Generates the data set with ``kpi sample`` into ``benchmarks/data/`` (gitignored;
   reused when it is already there with the same size and seed).
2. Starts ``kpi serve`` on it (a free local port) and drives Debian's headless
   Chromium with Playwright: every page of the sidebar is visited once to warm the
   caches (that first, cold time is shown for information), then each page is reached
   ``--runs`` times by clicking its sidebar link from another page, and the median time
   from the click until Streamlit's run has finished (script idle, page title shown,
   every plotly chart drawn) is the page's warm render time.
3. Does the same, in the same run, on a small baseline (the bundled ``sample_data/``, or
   a 20,000-annotation sample when that is empty), served at the same time and visited
   alternately with the big one, so that the ratio shows what the data size costs even
   on a machine that is busy with other work.

Prints a table (page, seconds, target, PASS/FAIL, baseline, ratio); exit code 1 when a
page misses the target (``--target``, default 2.0 s).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "browser"))

from harness import (  # noqa: E402
    BUNDLED_SAMPLE,
    CHROMIUM,
    NAV_LINK,
    VIEWPORT,
    launch_chromium,
    main_title,
    nav_links,
    start_server,
    stop_server,
    wait_for_run,
)
from sample_cache import DATA as DATA_ROOT  # noqa: E402
from sample_cache import ensure_sample  # noqa: E402

BASELINE_ANNOTATIONS = 20_000
TARGET_S = 2.0
#: A cold first render on 1M annotations may take a while (loading, first queries).
COLD_TIMEOUT_MS = 600_000
WARM_TIMEOUT_MS = 120_000


@dataclass
class PageTimes:
    label: str
    cold_s: float | None = None
    warm_s: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def warm(self) -> float | None:
        return statistics.median(self.warm_s) if self.warm_s else None


def baseline_data(seed: int) -> Path:
    if BUNDLED_SAMPLE.is_dir() and any(BUNDLED_SAMPLE.iterdir()):
        return BUNDLED_SAMPLE
    return ensure_sample(BASELINE_ANNOTATIONS, seed)


_DONE = """([source, flags, settle]) => {
    const main = document.querySelector('[data-testid="stMain"]');
    const app = document.querySelector('[data-testid="stApp"]');
    const h1 = main && main.querySelector('h1');
    const charts = main ? [...main.querySelectorAll('[data-testid="stPlotlyChart"]')] : [];
    const done = !!h1 && new RegExp(source, flags).test(h1.innerText)
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
        && !main.querySelector('[data-testid="stSkeleton"]')
        && charts.every(c => c.querySelector('.main-svg'));
    if (!done) { window.__kpiDoneSince = null; return false; }
    const now = performance.now();
    if (window.__kpiDoneSince == null) window.__kpiDoneSince = now;
    return now - window.__kpiDoneSince >= settle;
}"""


def _visit(page, label: str, timeout_ms: int) -> float:
    """Click the sidebar link ``label``; seconds from the click until the page's title
    is shown, Streamlit's run has finished and every plotly chart has drawn (the first
    moment all of these hold, confirmed 150 ms later)."""
    link = page.locator(NAV_LINK).filter(has_text=label).first
    link.wait_for(state="visible")
    page.evaluate("() => { window.__kpiDoneSince = null; }")
    started = page.evaluate("() => performance.now()")
    link.click()
    try:
        page.wait_for_function(
            _DONE, arg=[re.escape(label), "", 150], polling=25, timeout=timeout_ms
        )
    except Exception as error:
        raise RuntimeError(
            f"{label!r} did not finish within {timeout_ms / 1000:.0f} s "
            f"(main heading {main_title(page)!r})"
        ) from error
    return (page.evaluate("() => window.__kpiDoneSince") - started) / 1000.0


class Target:
    """One served data set and a browser tab on it."""

    def __init__(self, name: str, data: Path, browser, log: Path):
        started = time.perf_counter()
        self.name, self.data = name, data
        self.server = start_server(data, log, timeout_s=120)
        self.start_s = time.perf_counter() - started
        self.context = browser.new_context(viewport=VIEWPORT, base_url=self.server.url)
        self.page = self.context.new_page()
        self.times: dict[str, PageTimes] = {}

    def open(self) -> list[str]:
        """Load the landing page; the sidebar's page labels."""
        self.page.goto("/")
        wait_for_run(self.page, timeout_ms=COLD_TIMEOUT_MS)
        labels = list(nav_links(self.page))
        self.times = {label: PageTimes(label) for label in labels}
        return labels

    def visit(self, label: str, *, cold: bool) -> None:
        times = self.times[label]
        if times.error:
            return
        try:
            seconds = _visit(self.page, label, COLD_TIMEOUT_MS if cold else WARM_TIMEOUT_MS)
        except Exception as error:  # report it and go on with the other pages
            times.error = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            print(
                f"  {self.name} {label}: {times.error} (title {main_title(self.page)!r})",
                file=sys.stderr,
            )
            return
        if cold:
            times.cold_s = seconds
        else:
            times.warm_s.append(seconds)

    def close(self) -> None:
        self.context.close()
        stop_server(self.server)


def measure(datasets: dict[str, Path], runs: int, only: list[str] | None) -> dict[str, Target]:
    """Serve every data set at once and time every page on each, alternating between
    them visit by visit so that a busy machine slows them alike (the ratio stays fair)."""
    from playwright.sync_api import sync_playwright

    targets: dict[str, Target] = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for name, data in datasets.items():
                print(f"serving {data} ({name}) ...", file=sys.stderr)
                targets[name] = Target(name, data, browser, DATA_ROOT / f"serve-{name}.log")
                print(f"  ready in {targets[name].start_s:.1f} s", file=sys.stderr)
            labels: list[str] = []
            for target in targets.values():
                for label in target.open():
                    if label not in labels:
                        labels.append(label)
            if only:
                labels = [lbl for lbl in labels if any(o.lower() in lbl.lower() for o in only)]
                for target in targets.values():
                    target.times = {k: v for k, v in target.times.items() if k in labels}
            # The landing page has already rendered once: come back to it last, so its
            # "cold" visit is a page switch like the others.
            order = labels[1:] + labels[:1] if len(labels) > 1 else labels
            rounds = [True] + [False] * runs  # one cold (warm-up) round, then warm ones
            for cold in rounds:
                print("  cold round" if cold else "  warm round", file=sys.stderr)
                for label in order:
                    for target in targets.values():
                        if label in target.times:
                            target.visit(label, cold=cold)
        finally:
            for target in targets.values():
                target.close()
            browser.close()
    return targets


def _fmt(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--annotations",
        type=int,
        default=1_000_000,
        help="size of the benchmark data set (default 1,000,000)",
    )
    parser.add_argument("--seed", type=int, default=7, help="sample seed (default 7)")
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="warm visits per page; the median is reported (default 3)",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=TARGET_S,
        help=f"warm render target in seconds (default {TARGET_S})",
    )
    parser.add_argument(
        "--pages",
        nargs="*",
        metavar="WORD",
        help="only the pages whose sidebar label contains one of these words",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the small-sample baseline")
    args = parser.parse_args(argv)

    if not CHROMIUM.exists():
        print(f"bench_pages: {CHROMIUM} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    big = ensure_sample(args.annotations, args.seed)

    datasets = {"bench": big}
    if not args.no_baseline:
        datasets["baseline"] = baseline_data(args.seed)
    load_before = os.getloadavg()
    targets = measure(datasets, args.runs, args.pages)
    load_after = os.getloadavg()
    times = targets["bench"].times
    baseline = targets["baseline"].times if "baseline" in targets else {}
    base_dir = datasets.get("baseline")

    print()
    print(
        f"Warm page render, {args.annotations:,} annotations ({big}); median of {args.runs} "
        f"sidebar clicks after one warm-up visit; {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    if base_dir is not None:
        print(
            f"Baseline: the same pages on {base_dir}, served at the same time and "
            "visited alternately"
        )
    header = (
        f"{'page':<26} {'warm s':>7} {'target':>7} {'result':>6} {'cold s':>7}"
        f" {'baseline s':>10} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    failed = False
    for label, page_times in times.items():
        warm = page_times.warm
        ok = warm is not None and warm <= args.target and not page_times.error
        failed |= not ok
        base = baseline.get(label)
        base_warm = base.warm if base else None
        ratio = f"{warm / base_warm:.1f}x" if warm and base_warm else "n/a"
        print(
            f"{label:<26} {_fmt(warm):>7} {args.target:>7.1f} {'PASS' if ok else 'FAIL':>6}"
            f" {_fmt(page_times.cold_s):>7} {_fmt(base_warm):>10} {ratio:>6}"
        )
        if page_times.error:
            print(f"    error: {page_times.error}")
    print(
        "cold s: the first visit after the server started (the landing page had rendered "
        "once already); warm s is what a page switch costs once caches are filled."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
