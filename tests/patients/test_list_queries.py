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


@pytest.mark.parametrize("matching, capped", [(4, False), (5, False), (6, True)])
def test_a_search_counts_its_matches_up_to_the_cap(client, clinician, nurse, monkeypatch, matching, capped):
    """A search counts its matches up to SEARCH_COUNT_CAP (5 here): past it the page says
    "more than 5 match" and offers the cap's pages; at or under it, the exact count."""
    from patients import views

    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 5)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _add_patients(matching, clinician, nurse, 0)
    _add_patients(3, clinician, nurse, 500)  # not matching "Q-000"
    client.force_login(nurse)
    page = client.get(reverse("patients:list"), {"q": "Q-000"}).content.decode()
    if capped:
        assert "More than 5 patients match" in page and "Page 1 of 3" in page
    else:
        assert f"{matching} patients match." in page and f"Page 1 of {-(-matching // 2)}" in page
    # The plain list is never capped: every patient counted.
    assert f"{matching + 3} patients." in client.get(reverse("patients:list")).content.decode()
