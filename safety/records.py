"""Patients' rows → the plain ``schedule.PatientRecord`` the R7 reminder rules take.

The one loader behind the nightly scan, ``scan_reminders`` (and its dry run)
and a patient's rescan: patients in batches, a fixed number of queries per
batch whatever it holds. The titration input and the effective target dose
come from ``therapy.records`` (the paediatric target is the R3.3 cap), as on
the dose page.
"""

from collections import defaultdict

from django.utils import timezone

from patients.models import Patient
from safety import schedule
from safety.models import AdverseEvent, AdverseEventNote
from thalimon.rules_config import rule_settings
from therapy import records as therapy_records
from therapy.models import DoseChange, Drug, PregnancyTest
from therapy.rules import doses as dose_rules
from visits import records as visit_records
from visits.models import LabResult

BATCH_SIZE = 1000


def _chunks(ids, size):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _doses(chunk, as_of):
    doses = defaultdict(lambda: {Drug.THALIDOMIDE: [], Drug.AZATHIOPRINE: []})
    for pid, drug, day, dose in (
        DoseChange.objects.filter(patient_id__in=chunk, date__lte=as_of)
        .order_by("date").values_list("patient_id", "drug", "date", "dose_mg")
    ):
        doses[pid][drug].append(dose_rules.DoseRow(date=day, dose_mg=dose))
    return doses


def _tests(chunk, as_of):
    tests = defaultdict(list)
    for test in PregnancyTest.objects.filter(patient_id__in=chunk, date__lte=as_of).order_by("date").only(
        "patient_id", "date", "result"
    ):
        tests[test.patient_id].append(test)
    return tests


def _blood_count_dates(chunk, as_of):
    blood = defaultdict(list)
    for pid, day in (
        LabResult.objects.filter(patient_id__in=chunk, test="wbc", date__lte=as_of)
        .order_by("date").values_list("patient_id", "date")
    ):
        blood[pid].append(day)
    return blood


def _adverse_events(chunk, as_of):
    notes = defaultdict(list)
    for event_id, day in AdverseEventNote.objects.filter(
        event__patient_id__in=chunk, date__lte=as_of
    ).values_list("event_id", "date"):
        notes[event_id].append(day)
    events = defaultdict(list)
    for event in AdverseEvent.objects.filter(patient_id__in=chunk, onset__lte=as_of).order_by("onset"):
        events[event.patient_id].append(
            schedule.AdverseEventInfo(
                key=str(event.pk), term=event.term, onset=event.onset, grade=event.grade,
                resolved=event.resolved if event.resolved and event.resolved <= as_of else None,
                follow_up_dates=tuple(sorted(notes[event.pk])),
            )
        )
    return events


def patient_record(patient, *, as_of, today, doses, visits, tests, blood, events, period):
    """One patient's PatientRecord from the rows loaded for its batch."""
    course = getattr(patient, "course", None)
    thal_patient = therapy_records.thalidomide_input(patient, course=course, visits=visits, tests=tests, today=today)
    return schedule.PatientRecord(
        patient=patient.code,
        sex=patient.sex,
        female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
        irregular_cycles=patient.irregular_cycles,
        status=patient.status,
        status_date=patient.status_date,
        target_dose_mg=therapy_records.effective_target(thal_patient, as_of) if course is not None else None,
        thalidomide=tuple(doses[Drug.THALIDOMIDE]),
        azathioprine=tuple(doses[Drug.AZATHIOPRINE]),
        visits=tuple(
            schedule.VisitInfo(
                date=v.date, contact=v.contact, neuropathy_grade=v.neuropathy_grade,
                contraception_confirmed=v.contraception_confirmed, neurological_review=v.neurological_review,
            )
            for v in visits
        ),
        pregnancy_tests=thal_patient.pregnancy_tests,
        blood_count_dates=tuple(blood),
        adverse_events=tuple(events),
        contraception_period_days=period,
    )


def patient_records(*, as_of, patient_ids=None, batch_size=BATCH_SIZE):
    """Yield lists of (patient, schedule.PatientRecord), one list per batch."""
    queryset = Patient.objects.order_by("pk")
    if patient_ids is not None:
        queryset = queryset.filter(pk__in=list(patient_ids))
    ids = list(queryset.values_list("pk", flat=True))
    period = rule_settings().contraception_period_days
    today = timezone.localdate()
    for chunk in _chunks(ids, batch_size):
        patients = Patient.objects.filter(pk__in=chunk).select_related("course", "responsible_clinician").order_by("pk")
        doses, tests = _doses(chunk, as_of), _tests(chunk, as_of)
        visits = visit_records.visit_facts_for(chunk, until=as_of)
        blood, events = _blood_count_dates(chunk, as_of), _adverse_events(chunk, as_of)
        yield [
            (
                patient,
                patient_record(
                    patient, as_of=as_of, today=today, doses=doses[patient.pk], visits=visits[patient.pk],
                    tests=tests[patient.pk], blood=blood[patient.pk], events=events[patient.pk], period=period,
                ),
            )
            for patient in patients
        ]
