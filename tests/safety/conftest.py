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
    from therapy import actions as therapy_actions
    from therapy.models import TherapyCourse
    from visits.actions import visit_record

    patient = make_patient(
        code="GI-1000", sex="F", contraception_start=START - timedelta(days=40),
        responsible_clinician=clinician, responsible_nurse=nurse,
    )
    for day in (-12, 0, 7, 14, 21):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=START + timedelta(days=day), result="negative")
    TherapyCourse.objects.create(
        patient=patient, start_date=START, consent_signed_date=START, contraception_counselling_date=START
    )
    therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=START, dose_mg=Decimal("25"))
    visit_record(actor=clinician, patient=patient, date=START, neuropathy_grade=0, contraception_confirmed=True)
    return patient
