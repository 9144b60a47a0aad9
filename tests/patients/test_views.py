"""Patient pages: create, edit, list (search, filter, pages), detail, history."""

import pytest
from django.urls import reverse

from patients.models import Patient
from thalimon.roles import CLINIC_LEAD

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "code": "GI-0200",
        "full_name": "Yara Fictional",
        "sex": "F",
        "birth_date": "1992-05-17",
        "height_cm": "165",
        "diagnosis": "CD",
        "montreal_location": "L1",
        "montreal_behavior": "B1",
        "reproductive_potential": "unknown",
        "irregular_cycles": "unknown",
        "tpmt": "normal",
        "nudt15": "intermediate",
        "crp_at_lor": "18.2",
        "status": "active",
    }
    data.update(overrides)
    return data


def test_clinician_creates_a_patient_and_lands_on_its_page(client, clinician):
    client.force_login(clinician)
    response = client.post(reverse("patients:create"), form_data(), follow=True)
    patient = Patient.objects.get(code="GI-0200")
    assert response.redirect_chain[-1][0] == reverse("patients:detail", args=["GI-0200"])
    assert patient.is_female_of_reproductive_potential
    assert patient.history.get().history_user == clinician
    page = response.content.decode()
    assert "Patient GI-0200 created." in page
    assert "CRP 18.2 mg/L" in page  # R2.7 flag shown


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"birth_date": "2999-01-01"}, "Birth date cannot be in the future"),
        ({"height_cm": "300"}, "Height must be between 40 and 250 cm."),
        ({"diagnosis": "UC"}, "Montreal location applies to Crohn&#x27;s disease only"),
        ({"birth_date": "03/04/1990"}, "Birth date: enter a date as YYYY-MM-DD"),
        ({"sex": ""}, "This field is required."),
    ],
)
def test_refused_form_keeps_what_was_typed_and_saves_nothing(client, clinician, overrides, message):
    client.force_login(clinician)
    response = client.post(reverse("patients:create"), form_data(**overrides))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "The patient was not saved" in page
    assert 'value="Yara Fictional"' in page  # what the clinician typed is kept
    assert not Patient.objects.exists()


def test_duplicate_code_in_the_form(client, clinician, make_patient):
    make_patient(code="GI-0200")
    client.force_login(clinician)
    response = client.post(reverse("patients:create"), form_data())
    assert "Patient code: a patient with this code already exists." in response.content.decode()
    assert Patient.objects.count() == 1


def test_edit_saves_and_shows_in_history(client, clinician, make_patient):
    patient = make_patient(code="GI-0300", height_cm=170)
    client.force_login(clinician)
    data = form_data(code="GI-0300", sex="M", height_cm="171", reproductive_potential="unknown")
    data.pop("irregular_cycles")
    data["expected_version"] = Patient.objects.get(code="GI-0300").version
    response = client.post(reverse("patients:edit", args=["GI-0300"]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    patient.refresh_from_db()
    assert patient.height_cm == 171
    history = client.get(reverse("patients:history", args=["GI-0300"])).content.decode()
    assert "Height (cm)" in history and "170 → 171" in history
    assert "Carla Clinician" in history


def test_code_cannot_be_renamed_through_the_edit_form(client, clinician, make_patient):
    make_patient(code="GI-0300")
    client.force_login(clinician)
    data = form_data(code="GI-9999", sex="M")
    data.pop("irregular_cycles")
    client.post(reverse("patients:edit", args=["GI-0300"]), data)
    assert Patient.objects.filter(code="GI-0300").exists()
    assert not Patient.objects.filter(code="GI-9999").exists()


def test_list_search_by_code_and_name_and_filter_by_diagnosis(client, nurse, make_patient):
    make_patient(code="GI-0001", full_name="Ada Example")
    make_patient(code="GI-0002", full_name="Ben Sample", diagnosis="UC", montreal_location="", montreal_behavior="")
    make_patient(code="XX-0003", full_name="Cleo Demo")
    client.force_login(nurse)

    def codes(**params):
        response = client.get(reverse("patients:list"), params)
        return [p.code for p in response.context["page"]]

    assert codes() == ["GI-0001", "GI-0002", "XX-0003"]
    assert codes(q="xx-") == ["XX-0003"]
    assert codes(q="sample") == ["GI-0002"]
    assert codes(diagnosis="CD") == ["GI-0001", "XX-0003"]
    assert codes(q="GI", diagnosis="UC") == ["GI-0002"]


def test_clinic_lead_sees_codes_only_and_cannot_search_names(client, make_user, make_patient):
    make_patient(code="GI-0001", full_name="Ada Example")
    client.force_login(make_user(CLINIC_LEAD))
    response = client.get(reverse("patients:list"), {"q": "Ada"})
    assert list(response.context["page"]) == []
    page = client.get(reverse("patients:list")).content.decode()
    assert "GI-0001" in page and "Ada Example" not in page
    detail = client.get(reverse("patients:detail", args=["GI-0001"])).content.decode()
    assert "Ada Example" not in detail


def test_list_is_paginated(client, nurse, make_patient):
    for _ in range(30):
        make_patient()
    client.force_login(nurse)
    first = client.get(reverse("patients:list"))
    second = client.get(reverse("patients:list"), {"page": 2})
    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_unknown_patient_is_404(client, nurse):
    client.force_login(nurse)
    assert client.get(reverse("patients:detail", args=["NOPE"])).status_code == 404


def test_detail_shows_reproductive_rules_and_genotype_warning(client, nurse, make_patient):
    make_patient(code="GI-0400", sex="F", tpmt="poor")
    client.force_login(nurse)
    page = client.get(reverse("patients:detail", args=["GI-0400"])).content.decode()
    assert "Of reproductive potential" in page
    assert "azathioprine is contraindicated (R4.2)" in page
