"""The clinical actions in the open: each write costs a fixed number of queries,
rescans its patient exactly once inside its own transaction (reminders and urgent
events right when the save returns; nothing for a refused write), and a patient or
course edit rescans at once (a patient who died has no open reminder left)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patients.actions import patient_update
from safety.models import OPEN_STATES, Reminder
from safety.scan import scan_reminders
from therapy import actions as therapy_actions
from visits.actions import lab_results_record, visit_record

TODAY = timezone.localdate()
FIVE_LABS = {"crp": "12", "esr": "30", "wbc": "6.1", "hemoglobin": "132", "platelets": "250"}
ONE_LAB = {"crp": "12"}
# Measured 2026-12-02: 39 queries for a visit with 5 labs, the same as with 1, of which 14
# are the patient's rescan in the same transaction (reminders and urgent events, one
# savepoint); 21 for a lab panel. (Before: 25 and 7, with the rescan left to a worker.)
# 41 and 23 since the patient's row is locked first (two creates of the same record at
# once run one after the other: the second gets the normal refusal). 42 and 24 since the
# rescan reads the patient's prescriptions (R9.4 prescription_due): one query per batch.
# 43 and 25 since a scan batch locks its patients' rows and reads their site (the new
# reminders carry it, and a transfer waits for the batch): one query per batch.
VISIT_QUERIES = 43
LAB_QUERIES = 25


@pytest.fixture
def rescans(monkeypatch):
    """The patients rescanned by the actions (the real scan runs; the calls are counted)."""
    from safety import actions

    calls = []
    real = actions.scan_reminders

    def counting(**kwargs):
        calls.append(tuple(kwargs.get("patient_ids") or ()))
        return real(**kwargs)

    monkeypatch.setattr(actions, "scan_reminders", counting)
    return calls


def _record_visit(clinician, patient, day, labs):
    return visit_record(
        actor=clinician, patient=patient, date=day, weight_kg=Decimal("70"), heart_rate=72,
        neuropathy_grade=0, lab_values=labs,
    )


def test_a_visit_with_five_labs_costs_a_fixed_number_of_queries_and_one_rescan(make_patient, clinician, rescans):
    patient = make_patient()
    rescans.clear()
    with CaptureQueriesContext(connection) as one:
        _record_visit(clinician, patient, TODAY - timedelta(days=20), ONE_LAB)
    assert rescans == [(patient.pk,)]
    with CaptureQueriesContext(connection) as five:
        _record_visit(clinician, patient, TODAY - timedelta(days=10), FIVE_LABS)
    assert len(five) == len(one), "each lab result must not cost queries of its own"
    assert len(five) <= VISIT_QUERIES
    assert rescans == [(patient.pk,), (patient.pk,)]  # one rescan of the patient per write


def test_a_lab_panel_costs_a_fixed_number_of_queries_and_one_rescan(make_patient, clinician, rescans):
    patient = make_patient()
    rescans.clear()
    with CaptureQueriesContext(connection) as one:
        lab_results_record(actor=clinician, patient=patient, date=TODAY - timedelta(days=3), lab_values=ONE_LAB)
    with CaptureQueriesContext(connection) as five:
        lab_results_record(actor=clinician, patient=patient, date=TODAY, lab_values=FIVE_LABS)
    assert len(five) == len(one) <= LAB_QUERIES
    assert rescans == [(patient.pk,), (patient.pk,)]


def test_labs_of_a_visit_get_their_alerts_in_the_same_write(make_patient, clinician):
    patient = make_patient()
    therapy_actions.dose_change_record(
        actor=clinician, patient=patient, drug="azathioprine", date=TODAY - timedelta(days=30),
        dose_mg=Decimal("150"), historical=True,
    )
    visit_record(actor=clinician, patient=patient, date=TODAY, lab_values={"wbc": "2.2", "platelets": "80"})
    tiers = sorted(patient.alerts.values_list("tier", flat=True))
    assert tiers == ["withhold", "withhold"]  # R4.4 tier B on azathioprine: WBC < 3.0, platelets < 100


def test_a_dose_change_and_a_pregnancy_test_each_rescan_once(make_patient, clinician, nurse, rescans):
    patient = make_patient(sex="F", contraception_start=TODAY - timedelta(days=60))
    rescans.clear()
    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="negative")
    assert rescans == [(patient.pk,)]
    therapy_actions.dose_change_record(
        actor=clinician, patient=patient, drug="thalidomide", date=TODAY - timedelta(days=20),
        dose_mg=Decimal("25"), historical=True,
    )
    assert rescans == [(patient.pk,), (patient.pk,)]


def test_a_patient_marked_died_has_no_open_reminder_once_the_save_returns(make_patient, clinician):
    patient = make_patient()
    therapy_actions.dose_change_record(
        actor=clinician, patient=patient, drug="thalidomide", date=TODAY - timedelta(days=100),
        dose_mg=Decimal("50"), historical=True,
    )
    scan_reminders(patient_ids=[patient.pk])
    assert Reminder.objects.filter(patient=patient, state__in=OPEN_STATES).exists()
    patient_update(
        actor=clinician, patient=patient, expected_version=patient.version, status="died", status_date=TODAY,
    )
    assert not Reminder.objects.filter(patient=patient, state__in=OPEN_STATES).exists()
    closed = Reminder.objects.filter(patient=patient).values_list("completion_note", flat=True)
    assert closed and all(
        note == f"Closed: patient recorded as died on {TODAY:%Y-%m-%d}; no reminders from that date (R7)."
        for note in closed
    )


def test_a_course_edit_rescans(make_patient, clinician, rescans):
    patient = make_patient()
    therapy_actions.dose_change_record(
        actor=clinician, patient=patient, drug="thalidomide", date=TODAY - timedelta(days=30),
        dose_mg=Decimal("25"), historical=True,
    )
    therapy_actions.course_save(actor=clinician, patient=patient, target_dose_mg=Decimal("50"))
    assert rescans[-1] == (patient.pk,) and rescans.count((patient.pk,)) == len(rescans) >= 2


def test_a_refused_write_rescans_nothing(make_patient, clinician, rescans):
    from django.core.exceptions import ValidationError

    patient = make_patient()
    rescans.clear()
    with pytest.raises(ValidationError):
        lab_results_record(actor=clinician, patient=patient, date=TODAY + timedelta(days=1), lab_values=ONE_LAB)
    assert rescans == []


def test_a_snooze_reason_too_long_is_refused_naming_the_field(make_patient, clinician):
    """Found by the form fuzzer: a 201-character reason reached the database (500)."""
    from django.core.exceptions import ValidationError

    from safety.actions import reminder_snooze

    patient = make_patient()
    reminder = Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY, reason="", action="visit")
    with pytest.raises(ValidationError) as refused:
        reminder_snooze(actor=clinician, reminder_id=reminder.pk, days=2, reason="x" * 201)
    assert "Reason: at most 200 characters" in refused.value.message_dict["reason"][0]
    reminder.refresh_from_db()
    assert reminder.snoozed_until is None


def test_a_visit_moved_to_another_day_takes_its_results_and_their_alerts(make_patient, clinician):
    from visits.actions import visit_update

    patient = make_patient()
    therapy_actions.dose_change_record(
        actor=clinician, patient=patient, drug="azathioprine", date=TODAY - timedelta(days=30),
        dose_mg=Decimal("150"), historical=True,
    )
    visit = visit_record(actor=clinician, patient=patient, date=TODAY - timedelta(days=2), lab_values={"wbc": "2.2"})
    moved = visit_update(
        actor=clinician, visit=visit, expected_version=visit.version, date=TODAY - timedelta(days=1),
        lab_values={"wbc": "2.2"},
    )
    assert list(patient.lab_results.values_list("date", flat=True)) == [moved.date]
    assert list(patient.alerts.values_list("date", "tier")) == [(moved.date, "withhold")]
