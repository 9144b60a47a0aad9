"""Issue 16's journey: a clinician records a negative pregnancy test, steps the dose up with
its prescription in one step (after a refusal shown live), opens the one-page authorisation
form; a nurse records the dispensing; the prescription_due reminder moves to the new run-out."""

import subprocess
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from tests.e2e.axe import describe, serious_violations
from tests.e2e.conftest import log_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TODAY = timezone.localdate()
START = TODAY - timedelta(days=40)
SHOTS = Path("/tmp/helpers/h2") if Path("/tmp/helpers/h2").is_dir() else Path(__file__).parent / "screenshots"


def _woman(make_patient, clinician, nurse):
    """A woman of reproductive potential on 25 mg/day from 40 days ago (both pre-start tests,
    contraception for 80 days), the last negative test 5 days ago, neuropathy grade 0; her
    first prescription (28 days) issued and dispensed 22 days ago: due 1 day ago (R9.4)."""
    from tests.therapy.prescription_fixtures import woman_on_thalidomide
    from therapy import actions as therapy_actions
    from visits.actions import visit_record

    patient = woman_on_thalidomide(make_patient, clinician, nurse, code="RX-1000", test_days=(7, 14, 18, 35),
                                   responsible_clinician=clinician, responsible_nurse=nurse)
    visit_record(actor=clinician, patient=patient, date=START + timedelta(days=35), neuropathy_grade=0,
                 weight_kg=Decimal("60"), contraception_confirmed=True)
    first = therapy_actions.prescription_record(
        actor=clinician, patient=patient, issue_date=TODAY - timedelta(days=22), dose_mg=Decimal("25"),
        days_supply=28, contraception_confirmed=True, historical=True,
    )
    therapy_actions.prescription_dispense(actor=nurse, prescription=first, dispensed_date=first.issue_date)
    return patient


def _due():
    from safety.models import Reminder

    return sorted(Reminder.objects.filter(kind="prescription_due", patient__code="RX-1000", state="open")
                  .values_list("due", flat=True))


def test_clinician_prescribes_with_the_dose_step_and_a_nurse_dispenses(browser, live_server, make_patient,
                                                                      clinician, nurse):
    clinician.username, nurse.username = "carla", "noor"
    clinician.save(), nurse.save()
    _woman(make_patient, clinician, nurse)
    assert _due() == [TODAY - timedelta(days=1)]  # run-out 22 + 28 days from the first issue − 7

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_console(page)
    log_in(page, "carla")
    page.goto("/patients/RX-1000/")
    page.get_by_role("link", name="Record pregnancy test").click()
    page.get_by_label("Test date").fill(TODAY.isoformat())
    page.get_by_label("Negative").check()
    page.get_by_role("button", name="Record pregnancy test").click()
    page.get_by_text("Negative pregnancy test of").wait_for()

    page.locator("#prescriptions").get_by_role("link", name="New prescription").click()
    assert "EU pregnancy-prevention programme" in page.locator("[data-programme]").inner_text()
    assert page.get_by_label("Daily dose (mg/day)").input_value() == "25"
    # A refusal, live: 35 days is above the 28 days for a woman who could become pregnant.
    page.get_by_label("Yes").check()
    page.get_by_label("Days of supply").fill("35")
    check = page.locator("#prescription-check [data-rx-check='deviations']")
    check.wait_for()
    assert "Supply too long" in check.inner_text() and "supply_too_long" not in check.inner_text()
    page.locator("#override-fields").wait_for(state="visible")
    violations = serious_violations(page)  # the refusal as shown: no serious WCAG 2.1 AA violation
    assert violations == [], describe(violations)
    page.screenshot(path=str(SHOTS / "prescription_refusal_1366.png"), full_page=True)
    page.set_viewport_size({"width": 768, "height": 1000})
    page.screenshot(path=str(SHOTS / "prescription_refusal_768.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    # The dose step and its prescription in one step.
    page.get_by_label("Days of supply").fill("28")
    page.get_by_label("Daily dose (mg/day)").fill("50")
    page.get_by_label("This is a dose change: record it on the issue date too").check()
    page.get_by_label("Reason for the dose change").fill("scheduled step")
    page.locator("#prescription-check [data-rx-check='dose-ok']").wait_for()
    page.locator("#prescription-check [data-rx-check='ok']").wait_for()
    assert "56 units" in page.locator("[data-rx-quantity]").inner_text()  # 50 mg × 28 ÷ 25 mg
    assert page.locator("#override-fields").is_hidden()
    page.get_by_role("button", name="Issue prescription").click()
    page.get_by_text("Print the form and sign it").wait_for()
    page.screenshot(path=str(SHOTS / "prescription_issued_1366.png"), full_page=True)
    assert _due() == [TODAY + timedelta(days=21)]  # the reminder moved: run-out today + 28 − 7

    pdf_link = page.locator("[data-rx-pdf]")
    response = page.request.get(pdf_link.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    pdf = SHOTS / "prescription_form.pdf"
    pdf.write_bytes(response.body())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Female of reproductive potential" in text and f"{TODAY:%Y-%m-%d}, negative" in text
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf), str(SHOTS / "prescription_form")],
                   check=True)
    with context.expect_page() as opened:  # opened in the browser, beside the page
        pdf_link.click()
    assert opened.value.url.endswith("/form.pdf")
    context.close()

    nurse_context = browser.new_context(base_url=live_server.url, viewport={"width": 768, "height": 1000})
    page = nurse_context.new_page()
    page.set_default_timeout(15_000)
    problems += watch_console(page)
    log_in(page, "noor")
    page.goto("/patients/RX-1000/")
    panel = page.locator("#prescriptions")
    assert panel.get_by_role("link", name="New prescription").count() == 0  # a nurse does not prescribe
    panel.get_by_role("link", name="Record dispensing").click()
    page.get_by_label("Dispensed on").fill(TODAY.isoformat())
    page.get_by_role("button", name="Record dispensing").click()
    page.get_by_text(f"Dispensing on {TODAY:%Y-%m-%d} recorded.").wait_for()
    panel = page.locator("#prescriptions")
    assert f"Dispensed on {TODAY:%Y-%m-%d}" in panel.inner_text()
    assert f"Tablets run out on {TODAY + timedelta(days=28):%Y-%m-%d}" in panel.inner_text()
    violations = serious_violations(page)
    assert violations == [], describe(violations)
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "prescription_panel_768.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    panel.screenshot(path=str(SHOTS / "prescription_panel_1366.png"))
    assert _due() == [TODAY + timedelta(days=21)]
    nurse_context.close()
    assert problems == [], problems
