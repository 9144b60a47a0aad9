"""The clinician's journey in one go: log a visit and the dose step decided at it in one
save (the one-visit workflow), see both on the patient page's flowsheet, download the
visit's PDF summary."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_logs_a_visit_changes_the_dose_and_opens_the_pdf(page, screenshot, make_user, make_patient):
    from thalimon.roles import CLINICIAN
    from therapy import actions as therapy_actions
    from therapy.models import DoseChange

    carla = make_user(CLINICIAN, username="carla", first_name="Carla", last_name="Clinician")
    patient = make_patient(code="GI-0555", sex="M", standard_weight_kg=Decimal("70"), baseline_cdai=Decimal("300"))
    today = timezone.localdate()
    therapy_actions.therapy_start(
        actor=carla, patient=patient, start_date=today - timedelta(days=20), dose_mg=Decimal("25"),
        consent_signed_date=today - timedelta(days=21),
    )

    log_in(page, "carla")
    page.goto("/patients/GI-0555/")
    page.get_by_role("link", name="New visit").click()
    page.get_by_label("Visit date").fill(today.isoformat())
    page.get_by_label("Weight (kg)").fill("70")
    page.get_by_label("Liquid or very soft stools (7-day sum)").fill("10")
    page.get_by_label("Abdominal pain (7-day sum of 0–3)").fill("4")
    page.get_by_label("General well-being (7-day sum of 0–4)").fill("6")
    page.get_by_label("Antidiarrhoeal use").select_option("false")
    page.get_by_label("Abdominal mass", exact=True).select_option("0")
    page.get_by_label("Haematocrit (%)").fill("44")
    page.locator("#cdai-live [data-cdai-value]").get_by_text("CDAI 100").wait_for()
    page.get_by_label("Peripheral neuropathy grade (CTCAE 0–4)").select_option("0")
    page.locator("#part-dose summary").click()
    page.get_by_label("Record a dose decision with this visit").check()
    page.get_by_label("New dose (mg/day)").fill("50")
    page.get_by_label("Reason", exact=True).fill("scheduled step")
    screenshot("clinician_one_visit_form")
    page.get_by_role("button", name="Save visit", exact=True).click()
    page.get_by_text("Thalidomide 50 mg/day from").wait_for()  # day 20 ≥ 14 with grade 0: allowed (R3.2)
    assert DoseChange.objects.filter(patient=patient, dose_mg=50, deviations=[], date=today).exists()

    page.goto("/patients/GI-0555/")
    banner = page.locator("[data-patient-banner]")
    assert "50 mg/day" in banner.locator("[data-banner-thalidomide]").inner_text()
    sheet = page.locator("[data-flowsheet]")
    assert "50" in sheet.locator("tr[data-row='Thalidomide'] td").first.inner_text()
    screenshot("clinician_patient_page")
    sheet.get_by_role("link", name=today.isoformat()).click()
    # The summary opens in the browser to print (inline), under its filing name.
    href = page.get_by_role("link", name="PDF summary").first.get_attribute("href")
    response = page.request.get(href)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="visit-GI-0555-{today.isoformat()}.pdf"'
    assert response.body().startswith(b"%PDF")
    screenshot("clinician_visit_page")
