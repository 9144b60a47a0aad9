"""Two clinicians editing one patient or one visit: the second save is refused
with a clear conflict message showing what changed; nothing is lost."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from patients.models import Patient
from thalimon.roles import CLINICIAN
from visits.actions import visit_record
from visits.models import Visit

pytestmark = pytest.mark.django_db


def _patient_form(**overrides):
    data = {
        "code": "GI-0300", "full_name": "Zed Fictional", "sex": "M", "birth_date": "1990-03-14",
        "height_cm": "170", "diagnosis": "CD", "montreal_location": "L3", "montreal_behavior": "B2",
        "reproductive_potential": "unknown", "tpmt": "normal", "nudt15": "normal", "status": "active",
        "expected_version": "0",
    }
    data.update(overrides)
    return data


def test_second_patient_save_is_refused_with_the_changes_and_keeps_the_typing(make_patient, make_user):
    make_patient(code="GI-0300", height_cm=170)
    carla, dev = Client(), Client()
    carla.force_login(make_user(CLINICIAN, username="carla", first_name="Carla", last_name="C"))
    dev.force_login(make_user(CLINICIAN, username="dev", first_name="Dev", last_name="D"))
    url = reverse("patients:edit", args=["GI-0300"])
    # Both opened the form at version 0; Carla saves first.
    assert carla.post(url, _patient_form(height_cm="171")).status_code == 302
    refused = dev.post(url, _patient_form(smoker="on", full_name="Zed Fictional"))
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "Someone else saved this record while you were editing it" in page
    assert "Height (cm): 170 → 171 (Carla C" in page
    assert re.search(r'<input[^>]*name="smoker"[^>]*checked', page)  # what Dev typed is kept
    patient = Patient.objects.get(code="GI-0300")
    assert (patient.height_cm, patient.smoker, patient.version) == (Decimal("171.0"), False, 1)
    # Dev reviews and saves again (the form now carries version 1): accepted.
    assert 'name="expected_version" value="1"' in page
    again = dev.post(url, _patient_form(height_cm="171", smoker="on", expected_version="1"))
    assert again.status_code == 302
    patient.refresh_from_db()
    assert (patient.height_cm, patient.smoker, patient.version) == (Decimal("171.0"), True, 2)


def test_second_visit_save_is_refused(make_patient, make_user):
    carla_user = make_user(CLINICIAN, username="carla", first_name="Carla", last_name="C")
    patient = make_patient(code="GI-0301")
    visit = visit_record(actor=carla_user, patient=patient, date=date(2024, 1, 10), cdai_entered=Decimal("200"))
    carla, dev = Client(), Client()
    carla.force_login(carla_user)
    dev.force_login(make_user(CLINICIAN, username="dev"))
    url = reverse("visits:edit", args=[visit.pk])
    base = {"date": "2024-01-10", "contact": "clinic", "cdai_entered": "200", "expected_version": "0"}
    assert carla.post(url, {**base, "cdai_entered": "180"}).status_code == 302
    refused = dev.post(url, {**base, "notes": "seen with her mother"})
    page = refused.content.decode()
    assert "Someone else saved this record" in page and "180" in page
    assert "seen with her mother" in page  # nothing the second clinician typed is lost
    visit = Visit.objects.get(pk=visit.pk)
    assert (visit.cdai, visit.notes) == (180, "")
