"""Issue 15: the visit page shows that day's dose decision (as the PDF does): the dose,
the change from the dose before, each deviation and warning in words, the override
reason and who overrode; without a decision, the doses in force."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from therapy.models import DoseChange
from therapy.words import DEVIATIONS, WARNINGS
from visits.actions import visit_record

pytestmark = pytest.mark.django_db
DAY = timezone.localdate() - timedelta(days=3)


def _card(response):
    html = response.content.decode()
    match = re.search(r"<section class=\"card mb-3\" data-dose-decision.*?</section>", html, re.S)
    assert match, "no dose decision card"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))).replace("&#x27;", "'")


@pytest.fixture
def patient(make_patient):
    return make_patient(code="GI-DOSE")


def test_the_day_s_decisions_with_their_deviations_in_words_and_the_override(client, clinician, patient):
    visit = visit_record(actor=clinician, patient=patient, date=DAY, cdai_entered=Decimal("220"))
    DoseChange.objects.create(patient=patient, drug="thalidomide", date=DAY - timedelta(days=7), dose_mg=25,
                              kind="first_dose")
    DoseChange.objects.create(patient=patient, drug="thalidomide", date=DAY, dose_mg=75, kind="increase",
                              deviations=["step_too_soon", "step_too_large"],
                              override_reason="Severe flare; discussed with the patient.", decided_by=clinician)
    DoseChange.objects.create(patient=patient, drug="azathioprine", date=DAY, dose_mg=150, kind="first_dose",
                              warnings=["weight_missing"])
    DoseChange.objects.create(patient=patient, drug="thalidomide", date=DAY + timedelta(days=1), dose_mg=100,
                              kind="increase")  # another day's: not this visit's

    client.force_login(clinician)
    card = _card(client.get(reverse("visits:detail", args=[visit.pk])))
    assert "Thalidomide 75 mg/day · Increase (from 25 mg/day)" in card
    for code in ("step_too_soon", "step_too_large"):
        label, sentence = DEVIATIONS[code]
        assert str(label) in card and str(sentence) in card
    assert "step_too_soon" not in card and "weight_missing" not in card  # words, never codes
    assert "Override by Carla Clinician: “Severe flare; discussed with the patient.”" in card
    assert "Azathioprine 150 mg/day · First dose (no dose before)" in card
    assert str(WARNINGS["weight_missing"][0]) in card
    assert "100 mg/day" not in card
    assert card.count("Within the rules.") == 1  # the azathioprine start broke no rule (its warning is listed)


def test_without_a_decision_the_doses_in_force(client, clinician, patient):
    DoseChange.objects.create(patient=patient, drug="thalidomide", date=DAY - timedelta(days=30), dose_mg=50,
                              kind="first_dose")
    visit = visit_record(actor=clinician, patient=patient, date=DAY, cdai_entered=Decimal("220"))
    client.force_login(clinician)
    card = _card(client.get(reverse("visits:detail", args=[visit.pk])))
    since = (DAY - timedelta(days=30)).strftime("%Y-%m-%d")
    assert f"No dose change recorded on this date. Thalidomide 50 mg/day since {since}." in card


def test_no_drug_at_all(client, clinician, patient):
    visit = visit_record(actor=clinician, patient=patient, date=DAY, cdai_entered=Decimal("220"))
    client.force_login(clinician)
    assert "No thalidomide or azathioprine recorded." in _card(client.get(reverse("visits:detail", args=[visit.pk])))


def test_the_page_reads_the_decisions_in_one_query_however_many(client, clinician, patient,
                                                                 django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    visit = visit_record(actor=clinician, patient=patient, date=DAY, cdai_entered=Decimal("220"))
    client.force_login(clinician)
    url = reverse("visits:detail", args=[visit.pk])
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as none:
        client.get(url)
    for i in range(6):
        DoseChange.objects.create(patient=patient, drug="thalidomide", date=DAY - timedelta(days=20 - i), dose_mg=25,
                                  kind="first_dose")
    DoseChange.objects.create(patient=patient, drug="thalidomide", date=DAY, dose_mg=50, kind="increase",
                              deviations=["step_too_soon"], override_reason="why", decided_by=clinician)
    DoseChange.objects.create(patient=patient, drug="azathioprine", date=DAY, dose_mg=100, kind="first_dose",
                              override_reason="why", decided_by=clinician)
    with django_assert_max_num_queries(len(none.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200 and len(_card(response)) > 100
