"""Driving a real ``kpi serve`` with Debian's headless Chromium (Playwright, sync API).

Used by the browser tests (``conftest.py``, ``test_e2e.py``) and by
``benchmarks/bench_pages.py``. The waits use Streamlit's own state, never fixed sleeps:
``[data-testid=stApp]`` carries ``data-test-connection-state`` and
``data-test-script-state`` (``running`` while the script runs, ``notRunning`` after).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
BUNDLED_SAMPLE = REPO / "sample_data"

CHROMIUM = Path(os.environ.get("KPI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 1000}

#: Seconds to wait for the server to answer its health check.
SERVER_START_TIMEOUT_S = 60.0
#: Milliseconds to wait for one Streamlit run (a page render) to finish.
RUN_TIMEOUT_MS = 60_000

APP = '[data-testid="stApp"]'
MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'
NAV_LINK = '[data-testid="stSidebarNav"] a'
EXCEPTION = '[data-testid="stException"]'
PLOTLY = '[data-testid="stPlotlyChart"]'
STATUS = '[data-testid="stStatusWidget"]'


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip()
    except OSError:
        return None


class Server:
    """A running ``kpi serve``: its base URL, data directory and log file."""

    def __init__(self, url: str, data: Path, log: Path, process: subprocess.Popen):
        self.url, self.data, self.log, self.process = url, data, log, process

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_server(
    data: Path, log: Path, port: int | None = None, timeout_s: float = SERVER_START_TIMEOUT_S
) -> Server:
    """Start ``kpi serve data --port P`` in a new process group and wait until healthy.

    Without ``port`` a free one is picked, and picked again (up to 3 times) should
    another process take it before Streamlit binds it."""
    for attempt in range(3):
        try:
            return _start_server(data, log, port or free_port(), timeout_s)
        except PortTaken:
            if port is not None or attempt == 2:
                raise
    raise AssertionError("unreachable")


class PortTaken(RuntimeError):
    pass


def _start_server(data: Path, log: Path, port: int, timeout_s: float) -> Server:
    url = f"http://127.0.0.1:{port}"
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "kpi_core.cli", "serve", str(data), "--port", str(port)],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop streamlit with it
    )
    out.close()
    server = Server(url, data, log, process)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            taken = "is not available" in tail or "already in use" in tail
            error = PortTaken if taken else RuntimeError
            raise error(
                f"kpi serve exited with code {process.returncode} before "
                f"answering on {url}:\n{tail}"
            )
        if _health(url) == "ok":
            return server
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(
        f"kpi serve did not answer {url}/_stcore/health within {timeout_s:.0f} s:"
        f"\n{server.log_tail()}"
    )


def stop_server(server: Server) -> None:
    """SIGTERM the server's process group, SIGKILL it if it has not gone in 10 s."""
    process = server.process
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Anything left in the group (streamlit itself) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


# --- waiting on Streamlit ---------------------------------------------------------------


def _js_regex(pattern: str | re.Pattern) -> list[str]:
    if isinstance(pattern, re.Pattern):
        return [pattern.pattern, "i" if pattern.flags & re.IGNORECASE else ""]
    return [re.escape(pattern), ""]


def main_title(page) -> str:
    """The text of the main area's first ``h1`` (the page title), "" when none."""
    return page.evaluate(
        """() => { const h = document.querySelector('[data-testid="stMain"] h1');
                   return h ? h.innerText.trim() : ''; }"""
    )


def wait_for_run(
    page, *, title: str | re.Pattern | None = None, timeout_ms: int = RUN_TIMEOUT_MS
) -> None:
    """Wait until the app is connected, its script has finished and, when given, the
    main area's first heading (``st.title``) matches ``title`` -- so that the finished
    run of the *previous* page is never mistaken for this one's."""
    page.wait_for_selector(
        f'{APP}[data-test-connection-state="CONNECTED"]', state="attached", timeout=timeout_ms
    )
    if title is not None:
        try:
            page.wait_for_function(
                """([source, flags]) => {
                    const h = document.querySelector('[data-testid="stMain"] h1');
                    return !!h && new RegExp(source, flags).test(h.innerText);
                }""",
                arg=_js_regex(title),
                polling=25,
                timeout=timeout_ms,
            )
        except Exception as error:  # a Playwright TimeoutError: say what was shown
            shown = main_title(page)
            raise AssertionError(
                f"page title {title!r} not shown within {timeout_ms / 1000:.0f} s "
                f"at {page.url} (main heading: {shown!r})"
            ) from error
    wait_until_idle(page, timeout_ms=timeout_ms)


def nav_links(page) -> dict[str, str]:
    """Sidebar navigation: link label (without its icon) -> href."""
    links = page.locator(NAV_LINK)
    links.first.wait_for(state="visible")
    found = {}
    for link in links.all():
        label = link.locator('[data-testid="stMarkdownContainer"]')
        text = (label.first.inner_text() if label.count() else link.inner_text()).strip()
        found[text] = link.get_attribute("href") or ""
    return found


def wait_until_idle(page, *, timeout_ms: int = RUN_TIMEOUT_MS, settle_ms: int = 100) -> None:
    """Wait until Streamlit's script has stopped running, with no "Running..." status
    icon and no loading skeleton, and has stayed so for ``settle_ms``."""
    page.evaluate("() => { window.__kpiIdleSince = null; }")
    page.wait_for_function(
        """([app, settle]) => {
            const el = document.querySelector(app);
            const state = el && el.getAttribute('data-test-script-state');
            const idle = (state === 'notRunning' || state === 'compilationError')
                && el.getAttribute('data-test-connection-state') === 'CONNECTED'
                && !document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')
                && !document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]');
            if (!idle) { window.__kpiIdleSince = null; return false; }
            const now = performance.now();
            if (window.__kpiIdleSince == null) window.__kpiIdleSince = now;
            return now - window.__kpiIdleSince >= settle;
        }""",
        arg=[APP, settle_ms],
        polling=25,
        timeout=timeout_ms,
    )


def metric_values(page) -> list[str]:
    """The text of every ``st.metric`` value in the main area, in page order."""
    return [
        t.strip() for t in page.locator(f'{MAIN} [data-testid="stMetricValue"]').all_inner_texts()
    ]


def exception_texts(page) -> list[str]:
    return page.locator(EXCEPTION).all_inner_texts()


def full_page_screenshot(page, path: Path) -> None:
    """Screenshot all of the main area: Streamlit scrolls inside ``stMain``, not the
    document, so the viewport grows to the content height for the shot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or VIEWPORT
    height = page.evaluate(
        """() => {
            const blocks = ['[data-testid="stMain"]', '[data-testid="stMainBlockContainer"]',
                            '[data-testid="stSidebarContent"]'];
            let h = document.documentElement.scrollHeight;
            for (const sel of blocks) {
                const el = document.querySelector(sel);
                if (el) h = Math.max(h, el.scrollHeight);
            }
            return h;
        }"""
    )
    tall = max(size["height"], min(int(height) + 80, 12_000))
    if tall != size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.wait_for_timeout(300)  # plotly relayouts on resize
    try:
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        if tall != size["height"]:
            page.set_viewport_size(size)
