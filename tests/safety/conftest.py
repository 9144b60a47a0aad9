from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

TODAY = timezone.localdate()
START = TODAY - timedelta(days=40)


@pytest.fixture
def on_thalidomide(make_patient, clinician, nurse):
    """A woman of reproductive potential, thalidomide 25 mg from day 0 (40 days ago),
    negative tests at day −12, 0, 7, 14, 21: the day-28 test (12 days ago) is missing."""
    from safety.actions import rescans_deferred
    from therapy import actions as therapy_actions
    from visits.actions import visit_record

    with rescans_deferred():  # the record as it stood before any scan (the tests scan it)
        return _record_on_thalidomide(make_patient, clinician, nurse, therapy_actions, visit_record)


def _record_on_thalidomide(make_patient, clinician, nurse, therapy_actions, visit_record):
    patient = make_patient(
        code="GI-1000", sex="F", contraception_start=START - timedelta(days=40),
        responsible_clinician=clinician, responsible_nurse=nurse,
    )
    for day in (-12, 0, 7, 14, 21):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=START + timedelta(days=day), result="negative")
    # The start goes through the start-of-therapy checklist, the only way to start (complete here).
    therapy_actions.therapy_start(
        actor=clinician, patient=patient, start_date=START, dose_mg=Decimal("25"),
        consent_signed_date=START, contraception_counselling_date=START,
    )
    visit_record(actor=clinician, patient=patient, date=START, neuropathy_grade=0, contraception_confirmed=True)
    return patient


@pytest.fixture
def woman_on_thalidomide(make_patient, clinician, nurse):
    """Thalidomide 25 mg from 40 days ago (recorded as history), negative tests on day −12,
    0, 7, 14, 21: the day-28 test (12 days ago, so overdue) is missing."""
    clinician.email, nurse.email = "carla@clinic.test", "noor@clinic.test"
    clinician.save(), nurse.save()
    from therapy import actions as therapy_actions

    patient = make_patient(code="SL-0001", sex="F", contraception_start=START - timedelta(days=40),
                           responsible_clinician=clinician, responsible_nurse=nurse)
    for day in (-12, 0, 7, 14, 21):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=START + timedelta(days=day),
                                              result="negative")
    therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=START,
                                       dose_mg=Decimal("25"), historical=True)
    return patient
