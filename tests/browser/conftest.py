"""Fixtures for the end-to-end tests: a real ``kpi serve`` and headless Chromium.

``server``   (session) ``kpi serve DATA --port <free port>`` in its own process group,
             healthy before the first test, the group killed at the end. DATA is the
             bundled ``sample_data/`` unless ``KPI_E2E_DATA`` names another directory;
             the server's output goes to ``tests/artifacts/serve-<worker>.log``.
``browser``  (session) one headless Chromium (Debian's ``/usr/bin/chromium``).
``page``     (function) a fresh browser context and tab on the server; JavaScript
             errors on the page are collected in ``page.js_errors``.

When Chromium or Playwright is missing the browser tests are skipped, unless
``KPI_REQUIRE_BROWSER=1`` (set by CI), where they fail instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import (  # noqa: E402
    ARTIFACTS,
    BUNDLED_SAMPLE,
    CHROMIUM,
    RUN_TIMEOUT_MS,
    VIEWPORT,
    Server,
    launch_chromium,
    start_server,
    stop_server,
)


def _require_browser() -> bool:
    return os.environ.get("KPI_REQUIRE_BROWSER", "") not in ("", "0", "false", "no")


def _unavailable(reason: str):
    if _require_browser():
        pytest.fail(f"{reason} and KPI_REQUIRE_BROWSER=1", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    return CHROMIUM


@pytest.fixture(scope="session")
def e2e_data() -> Path:
    data = Path(os.environ.get("KPI_E2E_DATA", BUNDLED_SAMPLE)).resolve()
    if not data.is_dir() or not any(data.iterdir()):
        pytest.fail(
            f"no data to serve in {data} (is the bundled sample_data/ empty?)", pytrace=False
        )
    return data


@pytest.fixture(scope="session")
def server(chromium_path, e2e_data, artifacts, request) -> Iterator[Server]:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    try:
        running = start_server(e2e_data, artifacts / f"serve-{worker}.log")
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield running
    stop_server(running)


@pytest.fixture(scope="session")
def browser(chromium_path) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    context.set_default_timeout(RUN_TIMEOUT_MS)
    tab = context.new_page()
    tab.js_errors = []
    tab.on("pageerror", lambda error: tab.js_errors.append(str(error)))
    yield tab
    context.close()
