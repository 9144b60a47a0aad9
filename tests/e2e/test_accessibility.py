"""Accessibility in a browser, on the demo's data, for the three daily roles.

Every page a clinician, a nurse and a clinic lead reach in their daily work, at 1366 and
768 px: axe-core (vendored, tests/e2e/axe.py) finds no serious or critical WCAG 2.1 A/AA
violation, patient codes stay on one line, and at 768 px nothing makes the page scroll
sideways (wide tables scroll inside their own box) and the main menu sits behind a Menu
button. Some pages are also checked in the state a person brings them to (a form sent back
with errors, the inbox's snooze form loaded in place, the dose page's live check, the
opened menu). Everything Tab reaches shows a focus ring. Screenshots:
tests/e2e/screenshots/accessibility/.
"""

import io
from dataclasses import dataclass, field

import pytest
from django.core.management import call_command

from tests.e2e.axe import describe, serious_violations
from tests.e2e.conftest import SCREENSHOTS, log_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (1366, 768)
SHOTS = SCREENSHOTS / "accessibility"

# Inline boxes of a code or breadcrumb item that a line break split ("DEMO-" / "001").
BROKEN_CODES = """() => [...document.querySelectorAll('.code, .breadcrumb-item')]
  .filter((el) => el.offsetParent !== null && el.getClientRects().length > 1)
  .map((el) => el.textContent.trim())"""
# Elements whose right edge lies past the window (the page itself would scroll sideways, or
# on paper be cut); on screen a table may run on inside its own scrolling box.
PAST_THE_EDGE = """(scrollBoxesScroll) => {
  if (scrollBoxesScroll && document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
  return [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1
      && !el.closest('.visually-hidden, .visually-hidden-focusable')
      && !(scrollBoxesScroll && el.closest('.table-responsive')))
    .slice(0, 5)
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + [...el.classList].join('.')
                 + ' ' + Math.round(el.getBoundingClientRect().right) + ' px: ' + el.textContent.trim().slice(0, 60));
}"""


@dataclass
class Demo:
    passwords: dict
    pages: dict = field(default_factory=dict)
    busiest_patient: str = ""  # the patient with the most visits: the widest flowsheet


@pytest.fixture
def demo(live_server):
    """The demo cohort (seed_demo): patients with visits, doses, labs, endoscopies, adverse
    events, reminders and one of each urgent event."""
    from django.db.models import Count

    from patients.management.commands.seed_demo import DEMO_ACCOUNTS
    from patients.models import Patient
    from safety.models import AdverseEvent, Alert, Reminder

    call_command("seed_demo", stdout=io.StringIO())
    # The demo accounts are MAIN's: the pages they visit are of MAIN's patients (EAST's answer 404).
    event = AdverseEvent.objects.select_related("patient").filter(patient__site__code="MAIN").order_by(
        "patient__code").first()
    patient = event.patient
    code = patient.code
    visit = patient.visits.order_by("-date").first()
    reminder = Reminder.objects.filter(state="open", patient__site__code="MAIN").order_by("due", "pk").first()
    alert = Alert.objects.filter(tier="urgent", resolved_at__isnull=True, patient__site__code="MAIN").order_by(
        "pk").first()
    not_started = Patient.objects.filter(site__code="MAIN").exclude(dose_changes__drug="thalidomide").order_by(
        "code").first()
    assert visit and reminder and alert and not_started, "the demo seed no longer has what this test visits"

    daily = {  # what every role reads
        "patient list": "/patients/",
        "search": f"/patients/?q={code}",
        "patient page": f"/patients/{code}/",
        "patient history": f"/patients/{code}/history/",
        "visit page": f"/visits/{visit.pk}/",
        "visit history": f"/visits/{visit.pk}/history/",
        "inbox": "/inbox/",
        "reminder": f"/reminders/{reminder.pk}/",
        "alert": f"/alerts/{alert.pk}/",
        "adverse event": f"/adverse-events/{event.pk}/",
        "password change": "/accounts/password/",
    }
    pages = {
        "clinician": daily | {
            "new visit": f"/patients/{code}/visits/new/",
            "lab form": f"/patients/{code}/labs/new/",
            "endoscopy form": f"/patients/{code}/endoscopies/new/",
            "dose change": f"/patients/{code}/dose/",
            "start checklist": f"/patients/{not_started.code}/start/",
            "adverse event form": f"/patients/{code}/adverse-events/new/",
        },
        "nurse": daily | {
            "adverse event form": f"/patients/{code}/adverse-events/new/",
            "pregnancy test form": f"/patients/{code}/pregnancy-tests/new/",
            "contraception form": f"/patients/{code}/contraception/new/",
        },
        "lead": daily | {
            "cohort report": "/reports/cohort/",
            "import upload": "/reports/datasheets/",
            "import history": "/reports/datasheets/history/",
        },
    }
    del pages["lead"]["password change"]  # seen by the clinician and the nurse already
    busiest = Patient.objects.filter(site__code="MAIN").annotate(n=Count("visits")).order_by("-n", "code").first()
    return Demo(passwords={username: password for username, password, *_ in DEMO_ACCOUNTS}, pages=pages,
                busiest_patient=f"/patients/{busiest.code}/")


def _context(browser, live_server, width):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page, watch_console(page)


def _settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-plotly-figure]')].every((el) => el.dataset.rendered === 'true')"
    )


def _check(page, name, width, problems, *, menu=True):
    """Run every check on the page as it is now; a failure is added to ``problems``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name.replace(' ', '_')}_{width}.png"), full_page=True)
    violations = serious_violations(page)
    if violations:
        problems.append(f"[{name} @ {width}px] axe:\n{describe(violations)}")
    broken = page.evaluate(BROKEN_CODES)
    if broken:
        problems.append(f"[{name} @ {width}px] broken across lines: {broken}")
    if width < 992:
        past = page.evaluate(PAST_THE_EDGE, True)
        if past:
            problems.append(f"[{name} @ {width}px] the page scrolls sideways: {past}")
    if menu:
        toggler_shown = page.get_by_role("button", name="Menu").is_visible()
        links_shown = page.locator("#nav").is_visible()
        if (toggler_shown, links_shown) != ((True, False) if width < 992 else (False, True)):
            problems.append(f"[{name} @ {width}px] menu button shown {toggler_shown}, links shown {links_shown}")


def _visit_all(page, pages, width, role, problems):
    for name, url in pages.items():
        response = page.goto(url)
        assert response.status == 200, f"{role}: {name} ({url}) answered {response.status}"
        _settle(page)
        _check(page, f"{role} {name}", width, problems)


@pytest.mark.parametrize("role", ["clinician", "nurse", "lead"])
def test_every_daily_page_is_axe_clean_at_both_widths(browser, live_server, demo, role):
    problems = []
    for width in WIDTHS:
        context, page, console = _context(browser, live_server, width)
        page.goto("/accounts/login/")
        _check(page, "login", width, problems, menu=False)
        log_in(page, role, demo.passwords[role])
        page.get_by_role("heading", name="Patients").wait_for()
        _visit_all(page, demo.pages[role], width, role, problems)

        if width < 992:  # the menu, opened
            page.get_by_role("button", name="Menu").click()
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").wait_for()
            _check(page, f"{role} menu opened", width, problems, menu=False)
        if role == "clinician":
            _clinician_states(page, demo.pages[role], width, problems)
        context.close()
        assert console == [], console
    assert problems == [], "\n\n".join(problems)


def _clinician_states(page, pages, width, problems):
    """Pages in the state a clinician's work brings them to."""
    page.goto(pages["new visit"])
    page.locator("input[name=date]").fill("")  # no date: sent back with errors
    page.locator("main form:has(input[name=date]) [type=submit]").first.click()
    page.locator(".invalid-feedback, .alert-danger, .errorlist").first.wait_for()
    _check(page, "clinician new visit with errors", width, problems)

    page.goto(pages["dose change"])
    page.get_by_label("New dose (mg/day)").fill("50")
    page.locator("#dose-check [data-dose-check]").first.wait_for()
    _check(page, "clinician dose change checked", width, problems)

    page.goto(pages["inbox"])
    opener = page.locator("[data-reminder-actions]").first
    opener.click()
    page.locator("[data-reminder-forms]").first.wait_for()
    _check(page, "clinician inbox snooze form", width, problems)


def test_keyboard_focus_is_visible_on_everything_tab_reaches(browser, live_server, demo):
    """Tab through the patient page and the visit form: each element that takes the focus
    shows a solid outline at least 3 px wide (Bootstrap's default is a faint shadow)."""
    context, page, console = _context(browser, live_server, 1366)
    log_in(page, "clinician", demo.passwords["clinician"])
    page.get_by_role("heading", name="Patients").wait_for()
    faint = []
    for url in (demo.pages["clinician"]["patient page"], demo.pages["clinician"]["new visit"]):
        page.goto(url)
        _settle(page)
        seen = 0
        for _ in range(60):
            page.keyboard.press("Tab")
            ring = page.evaluate("""() => {
              const el = document.activeElement;
              if (!el || el === document.body) return null;
              const style = getComputedStyle(el);
              return {what: el.outerHTML.slice(0, 120), style: style.outlineStyle,
                      width: parseFloat(style.outlineWidth), color: style.outlineColor};
            }""")
            if ring is None:
                continue
            seen += 1
            if ring["style"] in ("none", "hidden") or ring["width"] < 3 or ring["color"] in ("transparent", "rgba(0, 0, 0, 0)"):
                faint.append(f"{url}: {ring}")
        assert seen >= 20, f"Tab reached only {seen} elements on {url}"
    context.close()
    assert console == [], console
    assert faint == [], "\n".join(faint)


def test_the_axe_helper_reports_serious_violations(browser):
    """The helper is not blind: a page with grey-on-white text, a button without a name and
    a link inside a role=img gives serious violations, the same page fixed gives none."""
    page = browser.new_page()
    bad = ('<main><h1>Bad</h1><p style="color:#aaa;background:#fff">faint words</p>'
           '<button></button><div role="img" aria-label="chart"><a href="#x">zoom</a></div></main>')
    good = ('<main><h1>Good</h1><p style="color:#333;background:#fff">clear words</p>'
            '<button>Save</button><div role="figure" aria-label="chart"><a href="#x">zoom</a></div></main>')
    page.set_content(f'<!doctype html><html lang="en"><title>t</title><body>{bad}</body></html>')
    found = {violation["id"] for violation in serious_violations(page)}
    assert {"color-contrast", "button-name", "nested-interactive"} <= found, found
    page.set_content(f'<!doctype html><html lang="en"><title>t</title><body>{good}</body></html>')
    assert serious_violations(page) == []
    page.close()
