"""Patients on thalidomide for the prescription tests (R9), under the default eu_ppp profile."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from therapy import actions as therapy_actions
from visits.actions import visit_record

TODAY = timezone.localdate()
START = TODAY - timedelta(days=40)


@pytest.fixture
def man(make_patient, clinician):
    """A man on thalidomide 25 mg/day from 40 days ago, neuropathy grade 0, 70 kg."""
    patient = make_patient(code="RX-0001", sex="M", standard_weight_kg=Decimal("70"))
    therapy_actions.therapy_start(actor=clinician, patient=patient, start_date=START, dose_mg=Decimal("25"),
                                  consent_signed_date=START - timedelta(days=1))
    visit_record(actor=clinician, patient=patient, date=START, neuropathy_grade=0, weight_kg=Decimal("70"))
    return patient


def woman_on_thalidomide(make_patient, clinician, nurse, *, code, test_days, **fields):
    """A woman of reproductive potential on thalidomide 25 mg/day from START (40 days ago):
    both pre-start tests (day −12, 0), contraception from 80 days ago, negative tests on
    ``test_days`` (days of the course)."""
    patient = make_patient(code=code, sex="F", contraception_start=START - timedelta(days=40),
                           full_name="Wanda Fictional", **fields)
    for day in (-12, 0):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=START + timedelta(days=day),
                                              result="negative")
    therapy_actions.therapy_start(actor=clinician, patient=patient, start_date=START, dose_mg=Decimal("25"),
                                  consent_signed_date=START, contraception_counselling_date=START)
    for day in test_days:
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=START + timedelta(days=day),
                                              result="negative")
    return patient


@pytest.fixture
def woman(make_patient, clinician, nurse):
    """Negative tests also on day 7, 14, 21 and 35 (5 days ago) — none in the eu_ppp window
    (issue − 3 … issue) for today."""
    return woman_on_thalidomide(make_patient, clinician, nurse, code="RX-0002", test_days=(7, 14, 21, 35))


def issue(actor, patient, **fields):
    values = {"issue_date": TODAY, "dose_mg": Decimal("25"), "days_supply": 28, "contraception_confirmed": True}
    values.update(fields)
    return therapy_actions.prescription_record(actor=actor, patient=patient, **values)
