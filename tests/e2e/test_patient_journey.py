"""A clinician logs in, creates a patient and finds it in the list."""

import re

import pytest

from patients.models import Patient
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_creates_a_patient_and_finds_it(page, screenshot, make_user, make_patient):
    from thalimon.roles import CLINICIAN, NURSE

    make_user(CLINICIAN, username="carla", first_name="Carla", last_name="Clinician")
    make_user(NURSE, username="noor", first_name="Noor", last_name="Nurse")
    make_patient(code="GI-0001", full_name="Ada Example")

    log_in(page, "carla")
    page.wait_for_url("**/patients/")
    screenshot("patient_list")

    page.get_by_role("link", name="New patient").click()
    page.get_by_label("Patient code").fill("GI-0777")
    page.get_by_label("Full name").fill("Vera Fictional")
    page.get_by_label("Sex").select_option("F")
    page.get_by_label("Birth date").fill("1994-06-02")
    page.get_by_label("Height (cm)").fill("300")  # a typo first
    page.get_by_label(re.compile("Diagnosis")).select_option("CD")
    page.get_by_label("Montreal location").select_option("L3")
    page.get_by_label("Montreal behaviour").select_option("B1")
    page.get_by_label("CRP at loss of response (mg/L)").fill("12.5")
    page.get_by_label("Responsible nurse").select_option(label="Noor Nurse")
    screenshot("patient_form")
    page.get_by_role("button", name="Save patient").click()

    # Refused, named, and nothing lost
    page.get_by_text("Height must be between 40 and 250 cm.").wait_for()
    screenshot("patient_form_refused")
    assert page.get_by_label("Full name").input_value() == "Vera Fictional"
    assert not Patient.objects.filter(code="GI-0777").exists()

    page.get_by_label("Height (cm)").fill("164")
    page.get_by_role("button", name="Save patient").click()
    page.wait_for_url("**/patients/GI-0777/")
    page.get_by_text("Patient GI-0777 created.").wait_for()
    assert page.locator("[data-banner-reproductive]").get_by_text("Of reproductive potential").is_visible()
    assert page.get_by_text("CRP 12.5 mg/L at loss of response").is_visible()
    screenshot("patient_detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Search by code or name").fill("vera")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "GI-0777" in rows.first.inner_text()
    assert "Vera Fictional" in rows.first.inner_text()
    screenshot("patient_list_search")

    page.get_by_role("link", name="GI-0777").click()
    page.get_by_role("link", name="History").click()
    page.get_by_text("Carla Clinician").first.wait_for()
    screenshot("patient_history")
