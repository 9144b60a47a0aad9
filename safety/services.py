"""Safety services: the reminder scan (R7), lab and bradycardia alerts (R4.4),
reminder actions, adverse events and the nurses' daily digest.

The scan is the one computation behind the nightly job, ``scan_reminders``
and the patient page: it loads patients in batches (a fixed number of
queries per batch, whatever the batch holds), computes each patient's
reminders with the pure ``safety.schedule``, and writes one batch in one
transaction — so a scan that fails half-way leaves every patient's
reminders as they were, and the unique key (patient, kind, due, subject)
makes a repeated or concurrent scan create nothing twice.
"""

import logging
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient, Regimen
from safety import alerts, schedule
from safety.models import (
    OPEN_STATES,
    AdverseEvent,
    AdverseEventNote,
    Alert,
    PregnancyTest,
    Reminder,
    ReminderState,
)
from thalimon.roles import CLINICIAN, NURSE
from thalimon.rules_config import rule_settings
from visits import titration
from visits.models import DoseChange, Drug, LabResult, Visit

logger = logging.getLogger(__name__)
BATCH_SIZE = 1000
MAX_SNOOZE_DAYS = 7


# --- loading patients as plain records, in batches ----------------------------------
def _chunks(ids, size):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _target(patient, course, weights, as_of):
    if course is None:
        return None
    if course.target_dose_mg is not None:
        return course.target_dose_mg
    if course.effective_regimen == Regimen.PAEDIATRIC:
        probe = titration.ThalidomidePatient(
            regimen="paediatric", target_dose_mg=None, sex=patient.sex,
            female_of_reproductive_potential=False, irregular_cycles=None, contraception_start=None,
            weights=tuple(weights),
        )
        cap, _ = titration.paediatric_cap(probe, as_of)
        return cap
    return None


def patient_records(*, as_of, patient_ids=None, batch_size=BATCH_SIZE):
    """Yield lists of (patient, schedule.PatientRecord), one list per batch."""
    queryset = Patient.objects.order_by("pk")
    if patient_ids is not None:
        queryset = queryset.filter(pk__in=list(patient_ids))
    ids = list(queryset.values_list("pk", flat=True))
    for chunk in _chunks(ids, batch_size):
        patients = Patient.objects.filter(pk__in=chunk).select_related("course", "responsible_clinician").order_by("pk")
        doses = defaultdict(lambda: {Drug.THALIDOMIDE: [], Drug.AZATHIOPRINE: []})
        for pid, drug, day, dose in (
            DoseChange.objects.filter(patient_id__in=chunk, date__lte=as_of)
            .order_by("date").values_list("patient_id", "drug", "date", "dose_mg")
        ):
            doses[pid][drug].append(titration.DoseRow(date=day, dose_mg=dose))
        visits = defaultdict(list)
        weights = defaultdict(list)
        for pid, day, contact, grade, confirmed, review, weight in (
            Visit.objects.filter(patient_id__in=chunk, date__lte=as_of)
            .order_by("date")
            .values_list(
                "patient_id", "date", "contact", "neuropathy_grade", "contraception_confirmed",
                "neurological_review", "weight_kg",
            )
        ):
            visits[pid].append(
                schedule.VisitInfo(
                    date=day, contact=contact, neuropathy_grade=grade,
                    contraception_confirmed=confirmed, neurological_review=review,
                )
            )
            if weight is not None:
                weights[pid].append((day, weight))
        tests = defaultdict(list)
        for pid, day, result in (
            PregnancyTest.objects.filter(patient_id__in=chunk, date__lte=as_of)
            .order_by("date").values_list("patient_id", "date", "result")
        ):
            tests[pid].append(titration.PregnancyTest(date=day, result=result))
        blood = defaultdict(list)
        for pid, day in (
            LabResult.objects.filter(patient_id__in=chunk, test="wbc", date__lte=as_of)
            .order_by("date").values_list("patient_id", "date")
        ):
            blood[pid].append(day)
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
        batch = []
        period = rule_settings().contraception_period_days
        for patient in patients:
            course = getattr(patient, "course", None)
            batch.append(
                (
                    patient,
                    schedule.PatientRecord(
                        patient=patient.code,
                        sex=patient.sex,
                        female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
                        irregular_cycles=patient.irregular_cycles,
                        status=patient.status,
                        status_date=patient.status_date,
                        target_dose_mg=_target(patient, course, weights[patient.pk], as_of),
                        thalidomide=tuple(doses[patient.pk][Drug.THALIDOMIDE]),
                        azathioprine=tuple(doses[patient.pk][Drug.AZATHIOPRINE]),
                        visits=tuple(visits[patient.pk]),
                        pregnancy_tests=tuple(tests[patient.pk]),
                        blood_count_dates=tuple(blood[patient.pk]),
                        adverse_events=tuple(events[patient.pk]),
                        contraception_period_days=period,
                    ),
                )
            )
        yield batch


# --- the scan -------------------------------------------------------------------
@dataclass
class ScanReport:
    as_of: object
    patients: int = 0
    due: list = field(default_factory=list)  # DueReminder, due on or before as_of
    created: int = 0
    resolved: int = 0
    escalated: int = 0


def _key(patient_id, kind, due, subject):
    return (patient_id, kind, due, subject or "")


def scan_reminders(*, as_of=None, patient_ids=None, dry_run=False, batch_size=BATCH_SIZE):
    """Compute every patient's R7 reminders; unless ``dry_run``, store new ones,
    auto-resolve those whose condition no longer holds, escalate overdue ones."""
    as_of = as_of or timezone.localdate()
    report = ScanReport(as_of=as_of)
    for batch in patient_records(as_of=as_of, patient_ids=patient_ids, batch_size=batch_size):
        computed = {}
        for patient, record in batch:
            for reminder in schedule.reminders(record, as_of):
                computed[_key(patient.pk, reminder.kind, reminder.due, reminder.subject)] = reminder
                if schedule.is_due(reminder, as_of):
                    report.due.append(reminder)
        report.patients += len(batch)
        if dry_run:
            continue
        _store_batch([p.pk for p, _ in batch], computed, as_of, report)
    report.due.sort(key=lambda r: (r.patient, r.kind, r.due, r.subject))
    return report


@transaction.atomic
def _store_batch(patient_ids, computed, as_of, report):
    now = timezone.now()
    stored = {
        _key(pid, kind, due, subject): (pk, state)
        for pk, pid, kind, due, subject, state in Reminder.objects.filter(patient_id__in=patient_ids).values_list(
            "pk", "patient_id", "kind", "due", "subject", "state"
        )
    }
    new = [
        Reminder(
            patient_id=key[0], kind=r.kind, due=r.due, subject=r.subject or "", reason=r.reason, action=r.action
        )
        for key, r in computed.items()
        if key not in stored
    ]
    # ignore_conflicts: a concurrent scan that inserted the same key first wins; nothing twice.
    created = Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    report.created += len(created)
    stale = [pk for key, (pk, state) in stored.items() if state in OPEN_STATES and key not in computed]
    if stale:
        report.resolved += Reminder.objects.filter(pk__in=stale, state__in=OPEN_STATES).update(
            state=ReminderState.AUTO_RESOLVED, closed_at=now
        )
    clinician = Patient.objects.filter(pk=OuterRef("patient_id")).values("responsible_clinician_id")[:1]
    report.escalated += Reminder.objects.filter(
        patient_id__in=patient_ids,
        state__in=OPEN_STATES,
        escalated_at__isnull=True,
        due__lt=as_of - timedelta(days=7),  # overdue: due + 7 days < as_of (R7)
    ).update(escalated_at=now, escalated_to_id=Subquery(clinician))


_rescans_suppressed = ContextVar("rescans_suppressed", default=False)


@contextmanager
def rescans_deferred():
    """For bulk writers (seed, import): no rescan per row; the caller scans once at the end."""
    token = _rescans_suppressed.set(True)
    try:
        yield
    finally:
        _rescans_suppressed.reset(token)


def request_rescan(patient_id):
    """Enqueue a rescan of one patient after the current transaction commits."""
    from safety.tasks import rescan_patient

    if _rescans_suppressed.get():
        return
    transaction.on_commit(lambda: rescan_patient.delay(patient_id))


# --- reminder actions -------------------------------------------------------------
def _open_reminder(reminder_id):
    reminder = Reminder.objects.select_for_update().select_related("patient").get(pk=reminder_id)
    if not reminder.is_open:
        raise ValidationError(
            f"This reminder is already closed ({reminder.get_state_display().lower()}); nothing was changed."
        )
    return reminder


@transaction.atomic
def reminder_acknowledge(*, actor, reminder_id):
    reminder = _open_reminder(reminder_id)
    reminder.state = ReminderState.ACKNOWLEDGED
    reminder._history_user = actor
    reminder.save()
    return reminder


@transaction.atomic
def reminder_complete(*, actor, reminder_id, note):
    if not (note or "").strip():
        raise ValidationError({"note": "Note: say what was done (e.g. test booked for Monday)."})
    reminder = _open_reminder(reminder_id)
    reminder.state = ReminderState.DONE
    reminder.completion_note = note.strip()
    reminder.closed_at = timezone.now()
    reminder.closed_by = actor
    reminder._history_user = actor
    reminder.save()
    return reminder


@transaction.atomic
def reminder_snooze(*, actor, reminder_id, days, reason):
    errors = {}
    try:
        days = int(str(days).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        errors["days"] = f"Days: snooze for 1 to {MAX_SNOOZE_DAYS} whole days."
    if not (reason or "").strip():
        errors["reason"] = "Reason: say why the reminder waits."
    if errors:
        raise ValidationError(errors)
    reminder = _open_reminder(reminder_id)
    reminder.snoozed_until = timezone.localdate() + timedelta(days=days)
    reminder.snooze_reason = reason.strip()
    reminder._history_user = actor
    reminder.save()
    return reminder


# --- alerts -------------------------------------------------------------------------
def _aza_active(patient, on):
    rows = [
        titration.DoseRow(date=d, dose_mg=v)
        for d, v in DoseChange.objects.filter(patient=patient, drug=Drug.AZATHIOPRINE, date__lte=on)
        .order_by("date").values_list("date", "dose_mg")
    ]
    return bool(rows) and titration.current_dose(rows, on) > 0


def _thalidomide_active(patient, on):
    rows = [
        titration.DoseRow(date=d, dose_mg=v)
        for d, v in DoseChange.objects.filter(patient=patient, drug=Drug.THALIDOMIDE, date__lte=on)
        .order_by("date").values_list("date", "dose_mg")
    ]
    return bool(rows) and titration.thalidomide_active(rows, on)


def lab_alert_refresh(lab):
    """R4.4: the alert of one saved lab result at its highest tier (or none)."""
    source = f"lab:{lab.pk}"
    alert = alerts.lab_alert(test=lab.test, value=lab.value, aza_active=_aza_active(lab.patient, lab.date))
    if alert is None:
        Alert.objects.filter(patient=lab.patient, kind="lab", source=source).delete()
        return None
    stored, _ = Alert.objects.update_or_create(
        patient=lab.patient,
        kind="lab",
        source=source,
        defaults={
            "tier": alert.tier, "date": lab.date, "rule": alert.rule, "reason": alert.reason,
            "suggest_adverse_event": alert.suggest_adverse_event,
        },
    )
    return stored


def lab_alert_remove(lab_pk, patient):
    Alert.objects.filter(patient=patient, kind="lab", source=f"lab:{lab_pk}").delete()


def visit_alert_refresh(visit):
    """R4.4: a heart rate below 50/min at a visit on thalidomide (bradycardia)."""
    source = f"visit:{visit.pk}"
    alert = None
    if visit.heart_rate is not None:
        alert = alerts.bradycardia_alert(
            heart_rate=visit.heart_rate, thalidomide_active=_thalidomide_active(visit.patient, visit.date)
        )
    if alert is None:
        Alert.objects.filter(patient=visit.patient, kind="bradycardia", source=source).delete()
        return None
    stored, _ = Alert.objects.update_or_create(
        patient=visit.patient, kind="bradycardia", source=source,
        defaults={"tier": alert.tier, "date": visit.date, "rule": alert.rule, "reason": alert.reason,
                  "suggest_adverse_event": "bradycardia"},
    )
    return stored


@transaction.atomic
def alert_acknowledge(*, actor, alert_id):
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if alert.acknowledged_at:
        raise ValidationError("This alert was acknowledged already; nothing was changed.")
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    alert._history_user = actor
    alert.save()
    return alert


# --- adverse events -------------------------------------------------------------------
@transaction.atomic
def adverse_event_record(*, actor, patient, event=None, **fields):
    event = event or AdverseEvent(patient=patient, recorded_by=actor)
    for name, value in fields.items():
        setattr(event, name, value)
    event.full_clean()
    event._history_user = actor
    event.save()
    return event


@transaction.atomic
def adverse_event_note_add(*, actor, event, date, note):
    entry = AdverseEventNote(event=event, date=date, note=note, author=actor)
    entry.full_clean()
    entry._history_user = actor
    entry.save()
    return entry


# --- the daily digest -------------------------------------------------------------------
def _digest_rows(reminders, as_of):
    rows = []
    for r in reminders:
        rows.append(
            {
                "patient": r.patient.code,
                "kind": r.get_kind_display(),
                "due": r.due,
                "overdue": r.due + timedelta(days=7) < as_of,
                "url": settings.THALIMON_BASE_URL.rstrip("/") + reverse("patients:detail", args=[r.patient.code]),
            }
        )
    return rows


def send_digests(*, as_of=None):
    """Email each nurse the due reminders of her patients (patients without a
    nurse go to every nurse, except records restricted to another care team) and
    each clinician the reminders escalated to him (and, for a restricted record
    without a nurse, every due reminder of it).
    Patient codes and links only; one failed recipient does not stop the others."""
    as_of = as_of or timezone.localdate()
    due = list(
        Reminder.objects.filter(state__in=OPEN_STATES, due__lte=as_of)
        .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=as_of))
        .select_related("patient")
        .order_by("due", "patient__code", "kind")
    )
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    sent, failed = 0, 0
    for user in users.filter(groups__name__in=[NURSE, CLINICIAN]).distinct().order_by("pk").prefetch_related("groups"):
        roles = {g.name for g in user.groups.all()}
        mine = []
        if NURSE in roles:
            mine += [
                r for r in due
                if r.patient.responsible_nurse_id in (None, user.pk) and r.patient.may_be_opened_by(user)
            ]
        if CLINICIAN in roles:
            mine += [r for r in due if r.escalated_to_id == user.pk and r not in mine]
            # A record restricted to the care team with no nurse: its clinician is the
            # only one who can work its reminders, so they go to him from the first day.
            mine += [
                r for r in due
                if r.patient.care_team_only and r.patient.responsible_nurse_id is None
                and r.patient.responsible_clinician_id == user.pk and r not in mine
            ]
        if not mine:
            continue
        context = {
            "user": user, "as_of": as_of, "rows": _digest_rows(mine, as_of),
            "inbox_url": settings.THALIMON_BASE_URL.rstrip("/") + reverse("safety:inbox"),
        }
        message = EmailMultiAlternatives(
            subject=f"ThaliMon: {len(mine)} reminder{'s' if len(mine) != 1 else ''} due ({as_of:%Y-%m-%d})",
            body=render_to_string("emails/digest.txt", context),
            to=[user.email],
        )
        message.attach_alternative(render_to_string("emails/digest.html", context), "text/html")
        try:
            message.send()
            sent += 1
        except Exception:  # one failed recipient must not stop the others
            failed += 1
            logger.exception("Reminder digest to user %s failed", user.pk)
    return {"sent": sent, "failed": failed}
