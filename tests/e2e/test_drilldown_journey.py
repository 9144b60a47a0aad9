"""A clinic lead reads the all-diagnoses report and opens the patients behind a count,
on a desktop (1366 px) and a tablet (768 px) width."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _mixed_cohort(make_patient):
    """The demo cohort (Crohn's disease) plus courses of UC and AID patients, and one
    Crohn's record with an adverse event restricted to its care team."""
    from decimal import Decimal

    from patients.models import Patient
    from safety.models import AdverseEvent
    from therapy.actions import historical_course_save
    from therapy.models import DoseChange

    call_command("seed_demo", "--patients", "30")
    clinician = Patient.objects.get(code="DEMO-001").responsible_clinician
    start = timezone.localdate() - timedelta(days=300)
    for index, (diagnosis, extra) in enumerate([("UC", {}), ("UC", {}), ("AID", {"aid_type": "AGS"})]):
        patient = make_patient(code=f"MIX-{index + 1:03d}", diagnosis=diagnosis, montreal_location="",
                               montreal_behavior="", **extra)
        historical_course_save(actor=clinician, patient=patient, start_date=start)
        DoseChange.objects.create(patient=patient, drug="thalidomide", date=start, dose_mg=Decimal("25"))
        AdverseEvent.objects.create(patient=patient, onset=start + timedelta(days=20 + index), term="somnolence",
                                    grade=1, drug="thalidomide")
    restricted = Patient.objects.filter(adverse_events__isnull=False, diagnosis="CD").order_by("code").first()
    Patient.objects.filter(pk=restricted.pk).update(care_team_only=True)
    return restricted.code


def test_lead_opens_the_patients_behind_a_count(page, make_user, make_patient, screenshot_dir):
    from thalimon.roles import CLINIC_LEAD

    restricted = _mixed_cohort(make_patient)
    make_user(CLINIC_LEAD, username="leo")
    log_in(page, "leo")
    page.goto("/reports/cohort/")
    page.get_by_label("Diagnosis").select_option("all")
    page.get_by_role("button", name="Update").click()
    page.locator("[data-activity-cohort]").wait_for()
    page.locator("#chart-induction[data-rendered='true']").wait_for()
    page.screenshot(path=str(screenshot_dir / "drilldown_report_1366.png"), full_page=True)
    page.set_viewport_size({"width": 768, "height": 1000})
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot_dir / "drilldown_report_768.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.locator("[data-table='adverse_events'] a[data-figure='adverse_events.patients']").click()
    page.locator("[data-patient-codes]").wait_for()
    text = page.locator("main").inner_text()
    assert "Any adverse event" in text and "All diagnoses" in text
    assert restricted not in text and "restricted to" in text
    assert "MIX-001" in text  # an ulcerative colitis patient counts among the adverse events
    page.screenshot(path=str(screenshot_dir / "drilldown_codes_1366.png"), full_page=True)
    page.set_viewport_size({"width": 768, "height": 1000})
    page.screenshot(path=str(screenshot_dir / "drilldown_codes_768.png"), full_page=True)

    page.get_by_role("link", name="MIX-001").click()
    page.wait_for_url("**/patients/MIX-001/")
    page.go_back()
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="Cohort report").click()
    page.locator("[data-activity-cohort]").wait_for()
