"""Open a self-contained HTML file offline in headless Chromium and report what it shows.

Run as a child process by tests (Playwright's sync API refuses to start where
another test left an event loop): ``python tests/render_html.py CHROMIUM HTML SHOT``.
Prints one JSON line: requests that tried to leave the file, page errors, each
plotly chart's size and drawn marks, the widths when printed on A4, the PDF's pages.
"""

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHARTS = """() => Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => ({
    id: d.id,
    svg: d.querySelectorAll('.main-svg').length,
    marks: d.querySelectorAll('.scatterlayer .trace, .heatmaplayer image, '
                               + '.heatmaplayer .hm, .annotation').length,
    width: d.getBoundingClientRect().width,
    height: d.getBoundingClientRect().height}))"""
# A4 portrait with 12 mm margins leaves 186 mm: about 703 CSS px.
A4_WIDTH_PX = 703


def main(chromium: str, html_file: Path, shot: str) -> dict:
    expected = html_file.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    outside, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(viewport={"width": 1000, "height": 1400}, offline=True)
            page = context.new_page()

            def block(route):
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", block)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(html_file.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {2 * expected}",
                timeout=30_000,
            )
            charts = page.evaluate(CHARTS)
            page.screenshot(path=shot, full_page=True)
            page.emulate_media(media="print")
            page.set_viewport_size({"width": A4_WIDTH_PX, "height": 1000})
            print_widths = page.evaluate(
                "() => Array.from(document.querySelectorAll('.plotly-graph-div'))"
                ".map(d => d.getBoundingClientRect().width)"
            )
            print_page_width = page.evaluate("() => document.documentElement.scrollWidth")
            pdf = page.pdf(format="A4", print_background=True)
        finally:
            browser.close()
    return {
        "expected": expected,
        "outside": outside,
        "errors": errors,
        "charts": charts,
        "print_widths": print_widths,
        "print_page_width": print_page_width,
        "is_pdf": pdf.startswith(b"%PDF"),
        "pdf_pages": pdf.count(b"/Type /Page"),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3])))
