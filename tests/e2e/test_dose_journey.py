"""A clinician is refused a too-early thalidomide step, overrides it with a
reason, and sees the override on the patient page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_overrides_a_too_early_step(page, screenshot, make_user, make_patient):
    from thalimon.roles import CLINICIAN
    from therapy import actions as therapy_actions
    from visits.actions import visit_record

    carla = make_user(CLINICIAN, username="carla", first_name="Carla", last_name="Clinician")
    patient = make_patient(code="GI-0444", sex="M", standard_weight_kg=Decimal("70"))
    start = timezone.localdate() - timedelta(days=10)
    therapy_actions.therapy_start(
        actor=carla, patient=patient, start_date=start, dose_mg=Decimal("25"), consent_signed_date=start
    )
    visit_record(actor=carla, patient=patient, date=start, neuropathy_grade=0, weight_kg=Decimal("70"))

    log_in(page, "carla")
    page.goto("/patients/GI-0444/")
    page.get_by_role("link", name="Change dose").click()
    summary = page.locator("#dosing-summary")
    assert "25 mg/day" in summary.locator("[data-thal-current]").inner_text()
    assert (start + timedelta(days=14)).isoformat() in summary.locator("[data-suggestion]").inner_text()

    override = page.locator("#override-fields")
    assert not override.is_visible()  # nothing to override yet
    # A future date: no verdict, only the field to fix (never a green "within the rules").
    page.get_by_label("Date of the change").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    page.get_by_label("New dose (mg/day)").fill("50")
    page.locator("#dose-check [data-dose-check='fields-invalid']").wait_for()
    assert "cannot be in the future" in page.locator("#dose-check").inner_text()
    assert page.locator("#dose-check [data-dose-check='ok']").count() == 0 and not override.is_visible()
    screenshot("dose_change_future_date")

    page.get_by_label("Date of the change").fill(timezone.localdate().isoformat())
    page.get_by_label("Reason", exact=True).fill("flare")
    check = page.locator("#dose-check [data-dose-check='deviations']")
    check.wait_for()
    assert "Step too soon" in check.inner_text() and "step_too_soon" not in check.inner_text()
    override.wait_for(state="visible")  # a rule an override may pass: the override is offered
    # Typing the reason does not re-render the fields being typed in.
    page.get_by_label("Override reason").fill("typing")
    page.wait_for_timeout(600)
    assert page.get_by_label("Override reason").input_value() == "typing"
    page.get_by_label("Override reason").fill("")
    screenshot("dose_change_live_check")

    page.get_by_role("button", name="Record dose change").click()
    page.get_by_text("The dose change was not recorded").wait_for()
    assert "Step too soon" in page.locator("#dose-check").inner_text()
    assert page.get_by_text("steps need at least 14 days").count() == 1  # the reason said once
    screenshot("dose_change_refused")

    page.get_by_label("Override the dosing rules").check()
    page.get_by_label("Override reason").fill("Severe flare; gastroenterology consultant agreed")
    page.get_by_role("button", name="Record dose change").click()
    page.get_by_text("recorded with an override").wait_for()

    overrides = page.locator("#overrides")
    assert "Severe flare; gastroenterology consultant agreed" in overrides.inner_text()
    assert "Step too soon" in overrides.inner_text() and "step_too_soon" not in overrides.inner_text()
    page.locator("#chart-dose[data-rendered='true']").wait_for()
    screenshot("patient_dosing")
