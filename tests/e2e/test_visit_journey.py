"""A clinician records a visit with CDAI items, sees the live CDAI, saves,
and sees the status badge with its reason and the CDAI chart."""

from datetime import date
from decimal import Decimal

import pytest

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_records_a_visit_and_sees_status_and_chart(page, screenshot, make_user, make_patient):
    from thalimon.roles import CLINICIAN
    from therapy.actions import historical_course_save
    from visits.actions import visit_record

    carla = make_user(CLINICIAN, username="carla", first_name="Carla", last_name="Clinician")
    patient = make_patient(code="GI-0321", standard_weight_kg=Decimal("70"), baseline_cdai=Decimal("300"))
    historical_course_save(actor=carla, patient=patient, start_date=date(2024, 1, 1))
    visit_record(actor=carla, patient=patient, date=date(2024, 1, 29), cdai_entered=Decimal("240"))

    log_in(page, "carla")
    page.goto("/patients/GI-0321/")
    page.get_by_role("link", name="New visit").click()
    page.get_by_label("Visit date").fill("2024-02-26")
    page.get_by_label("Weight (kg)").fill("70")
    page.get_by_label("Liquid or very soft stools (7-day sum)").fill("10")
    page.get_by_label("Abdominal pain (7-day sum of 0–3)").fill("4")
    page.get_by_label("General well-being (7-day sum of 0–4)").fill("6")
    page.get_by_label("Arthritis / arthralgia").check()
    page.get_by_label("Antidiarrhoeal use").select_option("false")
    page.get_by_label("Abdominal mass", exact=True).select_option("0")
    live = page.locator("#cdai-live")
    live.get_by_text("not computable yet").wait_for()  # haematocrit still missing
    assert "haematocrit" in live.inner_text()
    page.get_by_label("Haematocrit (%)").fill("44")
    # 2×10 + 5×4 + 7×6 + 20×1 + 0 + 0 + 6×(47−44) + 0 = 120
    live.locator("[data-cdai-value]").get_by_text("CDAI 120").wait_for()
    page.get_by_label("Peripheral neuropathy grade (CTCAE 0–4)").select_option("0")
    screenshot("visit_form_live_cdai")
    page.get_by_role("button", name="Save visit", exact=True).click()

    # Back where the clinician came from (the patient page), the visit in the flowsheet.
    page.get_by_text("Visit of 2024-02-26 saved.").wait_for()
    page.wait_for_url("**/patients/GI-0321/")
    sheet = page.locator("[data-flowsheet]")
    assert "Remission" in sheet.locator("tr[data-row='Status'] td").first.inner_text()
    page.locator("#chart-cdai[data-rendered='true']").wait_for()
    assert page.locator("#chart-cdai .main-svg").count() > 0
    screenshot("patient_detail_with_visits")

    sheet.get_by_role("link", name="2024-02-26").click()
    badge = page.locator(".status-card .status-badge")
    assert badge.inner_text() == "Remission"
    assert "CDAI 120: below 150 and 180 below baseline 300" in page.locator("[data-status-reason]").inner_text()
    screenshot("visit_detail")
