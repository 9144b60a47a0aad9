"""therapy.records for R9: the programme in force, a stored patient's prescriptions as plain
rows, and the check of a prescription against the stored facts in a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from therapy import actions as therapy_actions
from therapy import records
from therapy.models import Prescription
from therapy.rules.prescriptions import PrescriptionRow

TODAY = timezone.localdate()
START = TODAY - timedelta(days=40)


@pytest.fixture
def man(make_patient, clinician):
    patient = make_patient(code="RXR-0001", sex="M")
    therapy_actions.therapy_start(actor=clinician, patient=patient, start_date=START, dose_mg=Decimal("25"),
                                  consent_signed_date=START - timedelta(days=1))
    return patient


def _row(issue_date, **fields):
    values = dict(issue_date=issue_date, dose_mg=Decimal("25"), days_supply=28, contraception_confirmed=True)
    values.update(fields)
    return PrescriptionRow(**values)


def test_the_programme_in_force_defaults_to_eu_ppp():
    chosen = records.prescription_programme()
    assert (chosen.name, chosen.max_days_other, chosen.dispense_days_other, chosen.unit_mg) == (
        "eu_ppp", 84, None, Decimal("25"))


def test_the_programme_follows_the_settings(settings):
    settings.THALIMON_RULES = {
        "prescription_programme": "us_rems", "prescription_dispense_days_other": 0,
        "prescription_max_days_other": 21, "thalidomide_unit_mg": Decimal("50"),
        "thalidomide_unit_halves_allowed": False,
    }
    chosen = records.prescription_programme()
    # 0 = not checked; 21 overrides REMS's 28; the REMS test window (7) stays.
    assert (chosen.name, chosen.dispense_days_other, chosen.max_days_other, chosen.test_window_days) == (
        "us_rems", None, 21, 7)
    assert (chosen.unit_mg, chosen.halves_allowed, chosen.authorisation_required) == (Decimal("50"), False, True)


@pytest.mark.django_db
def test_check_prescription_for_reads_the_stored_facts_in_few_queries(man, django_assert_max_num_queries):
    # Stored: issued 10 days ago, dispensed the same day, 28 days: 18 days left today (> 7).
    earlier = Prescription.objects.create(
        patient=man, issue_date=TODAY - timedelta(days=10), dose_mg=Decimal("25"), days_supply=28,
        contraception_confirmed=True, dispensed_date=TODAY - timedelta(days=10),
    )
    assert records.prescription_rows(man) == [_row(TODAY - timedelta(days=10), dispensed_date=TODAY - timedelta(days=10))]
    with django_assert_max_num_queries(6):  # course (+ its patient), visits, tests, doses, prescriptions
        result = records.check_prescription_for(man, _row(TODAY))
    assert result.codes == ("early_repeat",)
    assert (result.risk_category, result.course_start, result.quantity_units) == ("male", START, Decimal("28"))
    # Editing that prescription itself: it is not its own earlier prescription.
    edited = records.check_prescription_for(man, _row(TODAY), exclude_id=earlier.pk)
    assert edited.codes == ()
    # Run-out: dispensed 10 days ago + 28 = 18 days from today; due 7 days before.
    run_out, due = records.prescription_run_out_for(man, as_of=TODAY)
    assert (run_out, due) == (TODAY + timedelta(days=18), TODAY + timedelta(days=11))
