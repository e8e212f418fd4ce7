"""End to end: ``kpi serve`` on the bundled sample, driven in headless Chromium.

Every page of the sidebar is opened by its URL path, must finish its Streamlit run with
no exception box, show a plotly chart where the page has one, and is saved as a
full-page screenshot in ``tests/artifacts/``. Then a global filter (one domain) is
picked in the sidebar: the URL must carry it, the Overview's headline figures must
change, and the filtered view must survive a page change, a reload and a fresh browser
opening the same link.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from harness import (
    APP,
    BUNDLED_SAMPLE,
    EXCEPTION,
    MAIN,
    NAV_LINK,
    PLOTLY,
    RUN_TIMEOUT_MS,
    SIDEBAR,
    VIEWPORT,
    full_page_screenshot,
    metric_values,
    nav_links,
    start_server,
    stop_server,
    wait_for_run,
    wait_until_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@dataclass(frozen=True)
class PageSpec:
    name: str  # also the screenshot name
    nav: re.Pattern  # matches the sidebar link text
    title: re.Pattern  # matches the page's heading in the main area
    chart: bool  # the page shows at least one plotly chart
    required: bool = True  # False: skipped (not failed) while it is not in the sidebar


def _spec(name: str, words: str, chart: bool = True, required: bool = True) -> PageSpec:
    pattern = re.compile(words, re.IGNORECASE)
    return PageSpec(name, pattern, pattern, chart, required)


PAGES = [
    _spec("overview", r"overview"),
    _spec("slices", r"slices?"),
    _spec("coverage", r"coverage"),
    _spec("quality", r"quality"),
    _spec("reliability", r"reliability"),
    _spec("cost", r"cost"),
    _spec("backlog", r"backlog"),
    _spec("defects", r"defects"),
    _spec("queries", r"quer(y|ies)", chart=False),
    _spec("calibration", r"calibration"),
]

#: The domain picked by the filter test (in the bundled sample; the promoted slice's).
FILTER_DOMAIN = "medicine"


@pytest.fixture(scope="module")
def tour(browser, server):
    """One tab that walks from page to page by the sidebar, as a person does."""
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    context.set_default_timeout(RUN_TIMEOUT_MS)
    tab = context.new_page()
    tab.js_errors = []
    tab.on("pageerror", lambda error: tab.js_errors.append(str(error)))
    tab.goto("/")
    wait_for_run(tab)
    yield tab
    context.close()


@pytest.fixture(scope="module")
def nav(tour) -> dict[str, str]:
    """Sidebar link label -> URL."""
    return nav_links(tour)


def _find(nav: dict[str, str], spec: PageSpec) -> tuple[str, str] | None:
    for text, href in nav.items():
        if spec.nav.search(text):
            return text, href
    return None


def _assert_clean(page, where: str) -> None:
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        texts = "\n---\n".join(t[:1500] for t in boxes.all_inner_texts())
        pytest.fail(f"{where}: {boxes.count()} exception box(es) shown:\n{texts}", pytrace=False)


@pytest.mark.parametrize("spec", PAGES, ids=[p.name for p in PAGES])
def test_page_renders(tour, nav, spec, artifacts):
    found = _find(nav, spec)
    if found is None:
        message = f"no sidebar link matches {spec.nav.pattern!r}; the sidebar has {list(nav)}"
        if spec.required:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    text, href = found
    page = tour
    if page.locator(f'{APP}[data-test-connection-state="CONNECTED"]').count() == 0:
        page.goto("/")  # a previous test left the tab disconnected: start again
    page.js_errors.clear()

    page.locator(NAV_LINK).filter(has_text=text).first.click()
    wait_for_run(page, title=spec.title)
    assert urlsplit(page.url).path == urlsplit(href).path, (
        f"the {text!r} link led to {page.url}, not {href}"
    )
    _assert_clean(page, f"page {text!r} ({page.url})")

    if spec.chart:
        charts = page.locator(f"{MAIN} {PLOTLY}")
        charts.first.wait_for(state="attached")
        assert charts.count() >= 1, f"page {text!r} shows no plotly chart"
        # The chart actually drew (plotly's SVG), not just its empty container.
        page.locator(f"{MAIN} {PLOTLY} .main-svg").first.wait_for(state="attached")

    full_page_screenshot(page, artifacts / f"page-{spec.name}.png")
    assert not page.js_errors, f"JavaScript errors on {text!r}: {page.js_errors}"


def test_every_sidebar_page_is_covered(nav):
    """A page added to the sidebar gets a spec (and so a screenshot) in PAGES."""
    unknown = [text for text in nav if not any(spec.nav.search(text) for spec in PAGES)]
    assert not unknown, f"sidebar pages with no entry in PAGES: {unknown}"


def test_readers_get_no_developer_toolbar(tour):
    """`kpi serve` shows the viewer's toolbar: no "Deploy" button in front of ops leaders."""
    tour.locator('[data-testid="stToolbarActions"]').wait_for(state="attached")
    assert tour.get_by_role("button", name="Deploy").count() == 0
    assert tour.get_by_text("Deploy", exact=True).count() == 0


@pytest.mark.parametrize("address", ["/overview", "/slices", "/?domain=medicine&domain=stem"])
def test_a_typed_address_opens_its_page_without_a_not_found_dialog(page, address):
    """A bookmarked or typed address is a page, the root's query included: not the
    Overview under Streamlit's "Page not found" dialog (which a server's first session
    is spared: so not the first)."""
    page.goto("/")
    wait_for_run(page)
    page.goto(address)
    name = urlsplit(address).path.strip("/") or "overview"
    wait_for_run(page, title=next(spec.title for spec in PAGES if spec.name == name))
    wait_until_idle(page)
    assert page.get_by_text("Page not found").count() == 0, f"{address}: 'Page not found'"
    if "domain" in address:
        assert page.locator(MAIN).get_by_text("domain: medicine, stem").count() == 1


# --- global filters ---------------------------------------------------------------------


def _domain_filter(page):
    widget = page.locator(f'{SIDEBAR} [data-testid="stMultiSelect"]').filter(
        has_text=re.compile(r"domain", re.IGNORECASE)
    )
    widget.first.wait_for(state="visible")
    return widget.first


def _selected(widget) -> list[str]:
    """The chips of a multiselect (its chosen values)."""
    chips = widget.locator('[data-testid="stMultiSelectTagsContainer"] [data-tag]')
    return [(chip.get_attribute("aria-label") or chip.inner_text()).strip() for chip in chips.all()]


def _pick_only(page, widget, value: str) -> None:
    """Make ``value`` the multiselect's only choice."""
    if _selected(widget):
        widget.get_by_role("button", name=re.compile(r"clear all", re.IGNORECASE)).click()
        wait_until_idle(page)
    widget.get_by_role("combobox").click()
    listbox = page.get_by_role("listbox")
    listbox.get_by_role("option", name=value, exact=True).click()
    page.keyboard.press("Escape")


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _has_domain(url: str, value: str) -> bool:
    values = _query(url).get("domain", [])
    return any(value in v.split(",") for v in values)


def _goto_via_nav(page, nav_pattern: re.Pattern) -> None:
    link = page.locator(NAV_LINK).filter(has_text=nav_pattern).first
    link.click()
    wait_for_run(page, title=nav_pattern)


def test_filter_lives_in_url_and_survives(page, nav, artifacts):
    """Pick one domain: the URL carries it, the Overview's figures change, and the
    filtered view survives a page change and a reload (a new session: the URL alone)."""
    overview, slices = PAGES[0], PAGES[1]
    if _find(nav, slices) is None:
        slices = next(s for s in PAGES[2:] if _find(nav, s))  # any second page will do

    page.goto("/")
    wait_for_run(page, title=overview.title)
    _assert_clean(page, "Overview, unfiltered")
    before = metric_values(page)
    assert before, "the Overview shows no st.metric headline figures"

    widget = _domain_filter(page)
    _pick_only(page, widget, FILTER_DOMAIN)
    page.wait_for_function(
        "d => new URLSearchParams(location.search).getAll('domain')"
        ".some(v => v.split(',').includes(d))",
        arg=FILTER_DOMAIN,
    )
    wait_until_idle(page)
    _assert_clean(page, f"Overview, domain={FILTER_DOMAIN}")
    assert _selected(_domain_filter(page)) == [FILTER_DOMAIN]
    filtered = metric_values(page)
    assert filtered != before, (
        f"picking domain {FILTER_DOMAIN} changed no headline figure on the Overview: {before}"
    )
    full_page_screenshot(page, artifacts / f"filter-overview-{FILTER_DOMAIN}.png")

    # A page change keeps the filter (sidebar and URL) ...
    _goto_via_nav(page, slices.nav)
    _assert_clean(page, f"{slices.name}, domain={FILTER_DOMAIN}")
    assert _has_domain(page.url, FILTER_DOMAIN), f"filter lost from the URL: {page.url}"
    assert _selected(_domain_filter(page)) == [FILTER_DOMAIN]

    # ... and so does a reload of that page's URL, ...
    page.reload()
    wait_for_run(page, title=slices.title)
    _assert_clean(page, f"{slices.name} reloaded at {page.url}")
    assert _has_domain(page.url, FILTER_DOMAIN), f"filter lost from the URL: {page.url}"
    assert _selected(_domain_filter(page)) == [FILTER_DOMAIN]
    full_page_screenshot(page, artifacts / f"filter-{slices.name}-{FILTER_DOMAIN}.png")

    # ... and coming back shows the same filtered figures: the reload started a new
    # session, so the filter came from the URL alone (a shared link does the same).
    _goto_via_nav(page, overview.nav)
    assert _has_domain(page.url, FILTER_DOMAIN), f"filter lost from the URL: {page.url}"
    assert _selected(_domain_filter(page)) == [FILTER_DOMAIN]
    assert metric_values(page) == filtered


@pytest.mark.parametrize(
    ("path", "domain_key", "name"),
    [("/", "domain", "overview"), ("/calibration", "cal_domain", "calibration")],
    ids=["sidebar filter", "calibration's own domain"],
)
def test_a_download_is_the_charts_data_named_with_the_filters(page, path, domain_key, name):
    """An export for a meeting says what it holds: one domain's CSV is not named like
    the whole data's, and holds other figures."""
    title = next(spec.title for spec in PAGES if spec.name == name)
    names, texts = {}, {}
    for query in ("", f"?{domain_key}={FILTER_DOMAIN}"):
        page.goto(f"{path}{query}")
        wait_for_run(page, title=title)
        _assert_clean(page, f"{path}{query}")
        button = page.get_by_role("button", name=re.compile(r"Download data \(CSV\)")).first
        with page.expect_download() as caught:
            button.click()
        download = caught.value
        names[query] = download.suggested_filename
        texts[query] = download.path().read_text(encoding="utf-8")
        assert texts[query].count("\n") >= 2, f"{names[query]} holds no rows"
    plain, filtered = names[""], names[f"?{domain_key}={FILTER_DOMAIN}"]
    assert plain.endswith(".csv") and "domain" not in plain, plain
    assert filtered == plain.removesuffix(".csv") + f"_domain-{FILTER_DOMAIN}.csv", names
    assert texts[""] != texts[f"?{domain_key}={FILTER_DOMAIN}"]


# --- bad data ---------------------------------------------------------------------------


def test_invalid_data_dir_shows_the_validation_report(browser, tmp_path, artifacts):
    """A data directory that breaks the contract gets a page saying what to fix, not a
    traceback (a second server, on a directory with a broken items table)."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "items.csv").write_text("item_id,domain\ni1,stem\ni1,stem\n")
    (bad / "annotators.csv").write_text("annotator_id,tier\ng1,wizard\n")
    server = start_server(bad, artifacts / "serve-invalid.log")
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    try:
        page = context.new_page()
        page.goto("/")
        wait_for_run(page, title=re.compile(r"cannot be shown", re.IGNORECASE))
        _assert_clean(page, "the invalid-data page")
        text = page.locator(MAIN).inner_text()
        assert "problem" in text and "kpi validate" in text, text[:2000]
        page.locator(f'{MAIN} [data-testid="stDataFrame"]').first.wait_for(state="visible")
        full_page_screenshot(page, artifacts / "page-invalid-data.png")
    finally:
        context.close()
        stop_server(server)


# --- calibration decisions -----------------------------------------------------------------


def _choose(page, label: str, option: str) -> None:
    """Pick the option starting with ``option`` in the selectbox labelled ``label``."""
    box = page.locator(f'{MAIN} [data-testid="stSelectbox"]').filter(has_text=label).first
    box.get_by_role("combobox").click()
    page.keyboard.press("ArrowDown")
    page.locator('[role="option"]').filter(
        has_text=re.compile("^" + re.escape(option))
    ).first.click()
    wait_until_idle(page)


def test_each_decision_is_recorded_for_the_item_on_screen(browser, tmp_path, artifacts):
    """The form once wrote the room's decision to another item: its own picker was reset
    by the form, and a picker option whose text changed once decided sent that text.
    Two decisions in a row, on the items shown, through the real frontend."""
    import polars as pl

    data = tmp_path / "data"
    shutil.copytree(BUNDLED_SAMPLE, data)
    server = start_server(data, artifacts / "serve-decisions.log")
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    try:
        page = context.new_page()
        page.goto("/calibration")
        wait_for_run(page, title="Calibration")
        recorded = []
        for rank in ("2. ", "3. "):
            _choose(page, "Item under discussion", rank)
            item = page.locator(f"{MAIN} strong").filter(has_text=re.compile("^" + rank)).first
            item_id = item.inner_text().split()[1]
            agreed = page.locator(f'{MAIN} [data-testid="stSelectbox"]').filter(
                has_text="Agreed label"
            )
            agreed.first.get_by_role("combobox").click()
            page.keyboard.press("ArrowDown")
            option = page.locator('[role="option"]').first
            label = option.inner_text().strip()
            option.click()
            page.get_by_role("button", name="Record the decision").click()
            wait_until_idle(page)
            assert f"{item_id} → {label}." in page.locator(MAIN).inner_text()
            recorded.append((item_id, label))
        _assert_clean(page, "the Calibration page after two decisions")
        decisions = pl.read_parquet(data / "calibration_decisions.parquet")
        assert decisions.select("item_id", "agreed_label").rows()[-2:] == recorded
    finally:
        context.close()
        stop_server(server)


# --- slices heatmap --------------------------------------------------------------------------

# The centre of each heatmap cell on screen, from plotly's own axes.
_CELLS_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, size = gd._fullLayout._size;
  const box = gd.getBoundingClientRect();
  const at = (axis, value) => axis.l2p(axis.d2l(value));
  return {
    xs: Object.fromEntries(gd._fullData[0].x.map(v => [v, box.left + size.l + at(xa, v)])),
    ys: Object.fromEntries(gd._fullData[0].y.map(v => [v, box.top + size.t + at(ya, v)])),
  };
}"""


def _picked(page) -> str:
    box = page.locator(f'{MAIN} [data-testid="stSelectbox"]').filter(has_text="worst first").first
    return box.locator("input").input_value().split(" — ")[0]


def _click_cell(page, row: str, risk: str) -> None:
    page.locator(PLOTLY).first.wait_for(state="visible")
    cells = page.evaluate(_CELLS_JS)
    x, y = cells["xs"][risk], cells["ys"][row]
    page.mouse.move(x, y)  # plotly acts on a click over the point it hovers
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    wait_until_idle(page)


def test_a_heatmap_cell_clicked_again_is_picked_again(page):
    """Click a cell, pick another slice in the picker, click the first cell again: the
    picker follows the click (plotly's first click on a selected point clears it)."""
    page.goto("/slices")
    wait_for_run(page, title="Slices")
    _click_cell(page, "stem / hard", "medium")
    assert _picked(page) == "stem / hard / medium"
    _choose(page, "Slice", "coding / hard / low")
    assert _picked(page) == "coding / hard / low"
    for _ in range(2):
        _click_cell(page, "stem / hard", "medium")
        if _picked(page) == "stem / hard / medium":
            break
    assert _picked(page) == "stem / hard / medium"
