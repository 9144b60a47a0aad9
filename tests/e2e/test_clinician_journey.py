"""The clinician's journey in one go: log a visit, change the dose from the end
of the visit form, download the visit's PDF summary."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_logs_a_visit_changes_the_dose_and_downloads_the_pdf(page, screenshot, make_user, make_patient, tmp_path):
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
    page.get_by_role("button", name="Save visit and change dose").click()

    page.wait_for_url("**/patients/GI-0555/dose/")
    assert "within the rules" not in page.locator("#dose-check").inner_text().lower()  # nothing typed yet
    page.get_by_label("New dose (mg/day)").fill("50")
    page.get_by_label("Reason", exact=True).fill("scheduled step")
    page.locator("#dose-check [data-dose-check='ok']").wait_for()  # day 20 ≥ 14: allowed (R3.2)
    screenshot("clinician_dose_step")
    page.get_by_role("button", name="Record dose change").click()
    page.get_by_text("Thalidomide 50 mg/day from").wait_for()
    assert DoseChange.objects.filter(patient=patient, dose_mg=50, deviations=[]).exists()

    page.locator("#visits-heading").scroll_into_view_if_needed()
    page.get_by_role("link", name=today.isoformat()).first.click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF summary").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename == f"visit-GI-0555-{today.isoformat()}.pdf"
    assert target.read_bytes().startswith(b"%PDF")
    screenshot("clinician_visit_page")
