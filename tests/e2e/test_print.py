"""Printing the patient page, a visit page, the inbox and the cohort report (the print
stylesheet in static/css/thalimon.css): under print media the navigation, buttons, forms,
in-place (htmx) controls and the footer are not shown, collapsed sections are open, the
patient code is at the top, charts are redrawn to the paper's width (three to a page); the PDF Chromium prints
has a reasonable number of A4 pages. Each PDF is rasterised (pdftoppm) into
tests/e2e/screenshots/print/ for a person to look at."""

import subprocess

import pytest

from tests.e2e.conftest import SCREENSHOTS, log_in
from tests.e2e.test_accessibility import PAST_THE_EDGE, _context, _settle, demo  # noqa: F401  (the demo fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = SCREENSHOTS / "print"
PRINT_CHART_WIDTH, PRINT_CHART_HEIGHT = 670, 300  # static/js/charts.js
A4_COLUMN = 710  # CSS px between the print margins: 210 mm less 2 × 11 mm

# Controls that must not print: elements among them that still have a box under print media.
CONTROLS_SHOWN = """() => [...document.querySelectorAll(
    'nav.navbar, footer, .btn, form, [hx-get], [hx-post], .breadcrumb, .modebar-container, input, select, textarea')]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => el.outerHTML.slice(0, 100))"""
# Sections the screen shows collapsed: under print media their content takes room.
CLOSED_SECTIONS = """() => [...document.querySelectorAll('details:not([open])')]
  .filter((d) => d.getBoundingClientRect().height < d.querySelector('summary').getBoundingClientRect().height + 20)
  .map((d) => d.querySelector('summary').textContent.trim())"""
CHART_WIDTHS = """() => [...document.querySelectorAll('[data-plotly-figure] .main-svg:first-child')]
  .map((svg) => Number(svg.getAttribute('width')))"""

CASES = [
    # role, page, most A4 pages (the demo's patient with the most visits, 10, prints on 6; one
    # with 2 visits on 5, as 6 with the nav and buttons before this stylesheet)
    ("clinician", "busiest patient page", 6),
    ("clinician", "visit page", 2),
    ("nurse", "inbox", 4),
    ("lead", "cohort report", 6),
]


def _pdf_pages(path):
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


@pytest.mark.parametrize("role, name, most_pages", CASES, ids=[name.replace(" ", "_") for _, name, _ in CASES])
def test_a_printed_page_holds_the_record_not_the_controls(browser, live_server, demo, role, name,  # noqa: F811
                                                            most_pages, tmp_path):
    context, page, console = _context(browser, live_server, 1366)
    log_in(page, role, demo.passwords[role])
    page.get_by_role("heading", name="Patients").wait_for()
    url = demo.busiest_patient if name == "busiest patient page" else demo.pages[role][name]
    page.goto(url)
    _settle(page)
    charts = page.locator("[data-plotly-figure]").count()
    screen_widths = page.evaluate(CHART_WIDTHS)
    assert page.locator(".print-header").is_hidden() and page.locator("nav.navbar").is_visible()

    # On screen the check sees every collapsed section as closed.
    assert len(page.evaluate(CLOSED_SECTIONS)) == page.locator("details:not([open])").count()
    page.emulate_media(media="print")
    assert page.evaluate(CONTROLS_SHOWN) == []
    assert page.evaluate(CLOSED_SECTIONS) == []
    header = page.locator(".print-header")
    assert header.is_visible()
    if name == "busiest patient page":
        assert url.strip("/").split("/")[-1] in header.inner_text()
    elif name == "visit page":
        assert demo.pages[role]["patient page"].strip("/").split("/")[-1] in header.inner_text()
    if charts:
        page.wait_for_function(
            f"() => [...document.querySelectorAll('[data-plotly-figure] .main-svg:first-child')]"
            f".every((svg) => Number(svg.getAttribute('width')) === {PRINT_CHART_WIDTH}"
            f" && Number(svg.getAttribute('height')) <= {PRINT_CHART_HEIGHT})")
        assert len(page.evaluate(CHART_WIDTHS)) == charts

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": A4_COLUMN, "height": 1000})  # the paper's width: nothing past its edge
    page.screenshot(path=str(SHOTS / f"{role}_{name.replace(' ', '_')}_print_{A4_COLUMN}.png"), full_page=True)
    assert page.evaluate(PAST_THE_EDGE, False) == []
    pdf = tmp_path / "printed.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
    pages = _pdf_pages(pdf)
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = SHOTS / f"{role}_{name.replace(' ', '_')}"
    for old in SHOTS.glob(f"{stem.name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(stem)], check=True)
    assert 1 <= pages <= most_pages, f"{name} prints on {pages} pages"

    page.set_viewport_size({"width": 1366, "height": 900})
    page.emulate_media(media="screen")  # back on screen: the menu and the charts' own widths
    assert page.locator("nav.navbar").is_visible()
    if charts:
        page.wait_for_function(
            f"() => ({CHART_WIDTHS})().every((width, i) => Math.abs(width - {screen_widths}[i]) < 2)")
    context.close()
    assert console == [], console
