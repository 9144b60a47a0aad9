"""The patient list costs the same number of queries for 5 or 200 patients."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients.models import Patient
from tests.conftest import valid_patient_fields

pytestmark = pytest.mark.django_db


def _add_patients(n, clinician, nurse, start):
    Patient.objects.bulk_create(
        Patient(
            **valid_patient_fields(code=f"Q-{i:05d}", full_name=f"Name {i}"),
            responsible_clinician=clinician,
            responsible_nurse=nurse,
        )
        for i in range(start, start + n)
    )


def _queries_for_list(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("patients:list"))
    assert response.status_code == 200
    return len(captured)


def test_patient_list_query_count_does_not_grow(client, clinician, nurse):
    client.force_login(nurse)
    _add_patients(5, clinician, nurse, 0)
    with_5 = _queries_for_list(client)
    _add_patients(195, clinician, nurse, 5)
    with_200 = _queries_for_list(client)
    assert with_5 == with_200
    # 13 with the navigation badge's two counts (urgent events and review alerts in one query,
    # due reminders in the other); 14 with the user's site ids (issue 18: one query a request,
    # whatever the number of sites, tests/test_sites.py).
    assert with_200 <= 14
