"""Two sites in one browser session each (issue 18, "Done when"): each site's nurse sees only
their own site's patients and reminders (list, inbox, a direct URL); the network lead sees
the network report — both sites side by side, the funnel drawn — and no patient at all."""

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _woman_on_thalidomide(code, site_code, clinician, nurse):
    """Thalidomide from 40 days ago with the day-28 pregnancy test missing: an overdue
    pregnancy-test reminder once scanned (as tests/safety/conftest.py's ``on_thalidomide``)."""
    from patients.actions import patient_create
    from tests.conftest import site, valid_patient_fields
    from tests.safety.conftest import START
    from therapy import actions as therapy_actions
    from visits.actions import visit_record

    patient = patient_create(actor=None, **valid_patient_fields(
        code=code, sex="F", site=site(site_code), contraception_start=START - timedelta(days=40),
        responsible_clinician=clinician, responsible_nurse=nurse))
    for day in (-12, 0, 7, 14, 21):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=START + timedelta(days=day),
                                              result="negative")
    therapy_actions.therapy_start(actor=clinician, patient=patient, start_date=START, dose_mg=Decimal("25"),
                                  consent_signed_date=START, contraception_counselling_date=START)
    visit_record(actor=clinician, patient=patient, date=START, neuropathy_grade=0, contraception_confirmed=True)


def _assessed_at_week_12(code, site_code, clinician, week12_cdai):
    from django.utils import timezone

    from patients.actions import patient_create
    from tests.conftest import site, valid_patient_fields
    from therapy.actions import historical_course_save
    from visits.actions import visit_record

    start = timezone.localdate() - timedelta(days=200)
    patient = patient_create(actor=None, **valid_patient_fields(code=code, site=site(site_code)))
    historical_course_save(actor=clinician, patient=patient, start_date=start)
    visit_record(actor=clinician, patient=patient, date=start, cdai_entered=Decimal(300))
    visit_record(actor=clinician, patient=patient, date=start + timedelta(days=84), cdai_entered=Decimal(week12_cdai))


def _sees_only(page, own, other):
    page.goto("/patients/")
    page.locator(f"tr[data-patient='{own}']").wait_for()
    assert page.locator(f"tr[data-patient='{other}']").count() == 0
    page.goto("/inbox/")
    page.locator(f".reminder-row[data-kind='pregnancy_test_due'][data-patient='{own}']").wait_for()
    assert page.locator(f"[data-patient='{other}']").count() == 0
    assert other not in page.locator("main").inner_text()
    response = page.goto(f"/patients/{other}/")
    assert response.status == 404  # another site's patient: no such patient


def test_each_site_sees_its_own_and_the_network_lead_the_aggregate(page, screenshot, make_user, clinician):
    from safety.scan import scan_reminders
    from tests.safety.conftest import TODAY
    from thalimon.roles import NETWORK_LEAD, NURSE

    north = make_user(NURSE, username="nurse-north", sites=["NORTH"])
    south = make_user(NURSE, username="nurse-south", sites=["SOUTH"])
    make_user(NETWORK_LEAD, username="nadia", sites=[])
    _woman_on_thalidomide("GI-N100", "NORTH", clinician, north)
    _woman_on_thalidomide("GI-S100", "SOUTH", clinician, south)
    for code, site_code, cdai in [("GI-N201", "NORTH", 120), ("GI-N202", "NORTH", 280), ("GI-S201", "SOUTH", 120)]:
        _assessed_at_week_12(code, site_code, clinician, cdai)
    scan_reminders(as_of=TODAY)

    log_in(page, "nurse-north")
    _sees_only(page, "GI-N100", "GI-S100")
    screenshot("sites_north_inbox")
    page.get_by_role("button", name="Log out").click()

    log_in(page, "nurse-south")
    _sees_only(page, "GI-S100", "GI-N100")
    page.get_by_role("button", name="Log out").click()

    log_in(page, "nadia")
    page.wait_for_url("**/reports/network/")
    page.locator("#chart-funnel[data-rendered='true']").wait_for()
    main = page.locator("main").inner_text()
    assert page.locator("tr[data-site='NORTH']").count() == 1 and page.locator("tr[data-site='SOUTH']").count() == 1
    assert "2 of 3 (66.7 %)" in main  # the network row: remission at week 12, all sites pooled
    assert "GI-" not in main  # no patient code anywhere
    navigation = page.get_by_role("navigation", name="Main")
    assert navigation.get_by_role("link", name="Patients").count() == 0
    assert navigation.get_by_role("link", name="Inbox").count() == 0
    screenshot("sites_network_report")
    assert page.goto("/patients/").status == 403
    assert page.goto("/patients/GI-N100/").status == 403
