"""Patients' rows → the plain ``schedule.PatientRecord`` the R7 reminder rules take.

The one loader behind the nightly scan, ``scan_reminders`` (and its dry run)
and a patient's rescan: patients in batches, a fixed number of queries per
batch whatever it holds. The effective target dose comes from
``therapy.records`` (the paediatric target is the R3.3 cap), as on the dose page;
the prescriptions (R9.4) with the programme profile in force, read once per scan.
"""

from collections import defaultdict

from django.db.models import Max
from django.utils import timezone

from patients.models import Patient
from safety import schedule
from safety.models import AdverseEvent, AdverseEventNote, Alert, AlertKind, AlertTier
from thalimon.rules_config import rule_settings
from therapy import records as therapy_records
from therapy.models import DoseChange, Drug, PregnancyTest, Prescription
from therapy.rules import doses as dose_rules
from therapy.rules import pregnancy as pregnancy_rules
from therapy.rules import urgent as urgent_rules
from visits.models import LabResult, Visit

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
    for pid, day, result in (
        PregnancyTest.objects.filter(patient_id__in=chunk, date__lte=as_of)
        .order_by("date").values_list("patient_id", "date", "result")
    ):
        tests[pid].append(pregnancy_rules.PregnancyTest(date=day, result=result))
    return tests


def _prescriptions(chunk, as_of):
    """{patient id: [PrescriptionRow]} issued on or before ``as_of`` (one query)."""
    found = defaultdict(list)
    fields = therapy_records.PRESCRIPTION_ROW_FIELDS
    for pid, *values in (
        Prescription.objects.filter(patient_id__in=chunk, issue_date__lte=as_of)
        .order_by("issue_date").values_list("patient_id", *fields)
    ):
        found[pid].append(therapy_records.plain_prescription(dict(zip(fields, values, strict=True))))
    return found


def _visits(chunk, as_of):
    """({patient id: [VisitInfo]}, {patient id: [(date, weight)]}) in date order (one query)."""
    visits, weights = defaultdict(list), defaultdict(list)
    for pid, day, contact, grade, confirmed, review, breastfeeding, weight in (
        Visit.objects.filter(patient_id__in=chunk, date__lte=as_of)
        .order_by("date", "pk")  # two contacts the same day: always in the order they were recorded
        .values_list(
            "patient_id", "date", "contact", "neuropathy_grade", "contraception_confirmed",
            "neurological_review", "breastfeeding", "weight_kg",
        )
    ):
        visits[pid].append(
            schedule.VisitInfo(
                date=day, contact=contact, neuropathy_grade=grade, contraception_confirmed=confirmed,
                neurological_review=review, breastfeeding=breastfeeding,
            )
        )
        if weight is not None:
            weights[pid].append((day, weight))
    return visits, weights


def _blood_count_dates(chunk, as_of):
    blood = defaultdict(list)
    for pid, day in (
        LabResult.objects.filter(patient_id__in=chunk, test="wbc", date__lte=as_of)
        .order_by("date").values_list("patient_id", "date")
    ):
        blood[pid].append(day)
    return blood


TIER_ORDER = {AlertTier.WITHHOLD: 0, AlertTier.REVIEW: 1}


def _latest_labs(chunk, as_of):
    """{patient id: [LatestLab]}: for each test with an R4.4 alert, its latest result on or
    before ``as_of`` when that result is itself at an alert tier (the highest of the day).
    Three queries, whatever the batch holds; a test whose latest result is normal is left
    out (nothing to repeat, nothing urgent)."""
    flagged = list(
        Alert.objects.filter(
            patient_id__in=chunk, kind=AlertKind.LAB, date__lte=as_of, tier__in=[AlertTier.REVIEW, AlertTier.WITHHOLD]
        )
        .values_list("patient_id", "source", "tier", "date", "reason")
    )
    if not flagged:
        return {}
    lab_ids = {int(source.split(":", 1)[1]): source for _, source, *_ in flagged}
    tests = dict(LabResult.objects.filter(pk__in=list(lab_ids)).values_list("pk", "test"))
    test_of = {source: tests.get(pk) for pk, source in lab_ids.items()}
    latest = {
        (pid, test): day
        for pid, test, day in LabResult.objects.filter(
            patient_id__in={pid for pid, *_ in flagged}, test__in=set(tests.values()), date__lte=as_of
        ).values("patient_id", "test").annotate(latest=Max("date")).values_list("patient_id", "test", "latest")
    }
    best = {}
    for pid, source, tier, day, reason in flagged:
        test = test_of.get(source)
        if test is None or latest.get((pid, test)) != day:
            continue
        current = best.get((pid, test))
        if current is None or TIER_ORDER.get(tier, 9) < TIER_ORDER.get(current.tier, 9):
            best[(pid, test)] = urgent_rules.LatestLab(test=test, date=day, tier=tier, source=source, reason=reason)
    found = defaultdict(list)
    for (pid, _), lab in sorted(best.items(), key=lambda item: (item[0][0], item[1].date, item[1].test)):
        found[pid].append(lab)
    return found


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


def patient_record(
    patient, *, as_of, today, doses, visits, weights, tests, blood, events, period, labs=(), prescriptions=(),
    programme=None,
):
    """One patient's PatientRecord from the rows loaded for its batch."""
    course = getattr(patient, "course", None)
    return schedule.PatientRecord(
        patient=patient.code,
        sex=patient.sex,
        female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
        irregular_cycles=patient.irregular_cycles,
        status=patient.status,
        status_date=patient.status_date,
        # The same effective target as the dose page (a child's is the R3.3 cap).
        target_dose_mg=therapy_records.effective_target_for(
            patient, course=course, weights=weights, on=as_of, today=today
        ),
        thalidomide=tuple(doses[Drug.THALIDOMIDE]),
        azathioprine=tuple(doses[Drug.AZATHIOPRINE]),
        visits=tuple(visits),
        pregnancy_tests=tuple(tests),
        blood_count_dates=tuple(blood),
        adverse_events=tuple(events),
        latest_labs=tuple(labs),
        prescriptions=tuple(prescriptions),
        prescription_programme=programme,
        contraception_period_days=period,
    )


def patient_records(*, as_of, patient_ids=None, batch_size=BATCH_SIZE):
    """Yield lists of (patient, schedule.PatientRecord), one list per batch."""
    if patient_ids is not None:
        ids = sorted(set(patient_ids))  # the batch query below reads only those that exist
    else:
        ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    period = rule_settings().contraception_period_days
    programme = therapy_records.prescription_programme()
    today = timezone.localdate()
    for chunk in _chunks(ids, batch_size):
        patients = Patient.objects.filter(pk__in=chunk).select_related("course", "responsible_clinician").order_by("pk")
        doses, tests = _doses(chunk, as_of), _tests(chunk, as_of)
        visits, weights = _visits(chunk, as_of)
        blood, events = _blood_count_dates(chunk, as_of), _adverse_events(chunk, as_of)
        labs, prescriptions = _latest_labs(chunk, as_of), _prescriptions(chunk, as_of)
        yield [
            (
                patient,
                patient_record(
                    patient, as_of=as_of, today=today, doses=doses[patient.pk], visits=visits[patient.pk],
                    weights=weights[patient.pk], tests=tests[patient.pk], blood=blood[patient.pk],
                    events=events[patient.pk], period=period, labs=labs.get(patient.pk, ()),
                    prescriptions=prescriptions[patient.pk], programme=programme,
                ),
            )
            for patient in patients
        ]
