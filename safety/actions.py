"""Safety actions: the rescan queue, R4.4 alerts, reminder and alert actions, adverse events.

Clinical actions in every app end with ``request_rescan(patient_id)``: one rescan of
that patient, queued when the transaction commits (never for a rolled-back write).
Lab and visit actions store their R4.4 alerts through ``lab_alerts_refresh`` and
``visit_alerts_refresh`` in their own transaction; the importer builds the same
alerts with ``lab_alert_for``/``bradycardia_alert_for``.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from safety import alerts
from safety.models import AdverseEvent, AdverseEventNote, Alert, AlertKind, Reminder, ReminderState
from thalimon.history import bulk_create_recorded, bulk_update_recorded, save_with_history
from therapy import records as therapy_records
from therapy.models import Drug

RESCAN_TASK = "safety.tasks.rescan_patient"
MAX_SNOOZE_DAYS = 7

_rescans_suppressed = ContextVar("rescans_suppressed", default=False)


# --- the rescan queue -------------------------------------------------------------
@contextmanager
def rescans_deferred():
    """For bulk writers (seed, import): no rescan per patient; the caller scans once at the end."""
    token = _rescans_suppressed.set(True)
    try:
        yield
    finally:
        _rescans_suppressed.reset(token)


def request_rescan(patient_id):
    """Queue one rescan of ``patient_id``'s reminders after the current transaction commits."""
    if _rescans_suppressed.get():
        return
    transaction.on_commit(lambda: current_app.tasks[RESCAN_TASK].delay(patient_id))


# --- R4.4 alerts ------------------------------------------------------------------
def lab_alert_for(lab, aza_rows):
    """The unsaved R4.4 alert of one lab result at its highest tier, or None."""
    found = alerts.lab_alert(
        test=lab.test, value=lab.value, aza_active=therapy_records.azathioprine_active(aza_rows, lab.date)
    )
    if found is None:
        return None
    return Alert(
        patient_id=lab.patient_id, kind=AlertKind.LAB, source=f"lab:{lab.pk}", tier=found.tier, date=lab.date,
        rule=found.rule, reason=found.reason, suggest_adverse_event=found.suggest_adverse_event,
    )


def bradycardia_alert_for(visit, thalidomide_rows):
    """The unsaved R4.4 alert of a heart rate below 50/min on thalidomide, or None."""
    if visit.heart_rate is None:
        return None
    found = alerts.bradycardia_alert(
        heart_rate=visit.heart_rate,
        thalidomide_active=therapy_records.thalidomide_active(thalidomide_rows, visit.date),
    )
    if found is None:
        return None
    return Alert(
        patient_id=visit.patient_id, kind=AlertKind.BRADYCARDIA, source=f"visit:{visit.pk}", tier=found.tier,
        date=visit.date, rule=found.rule, reason=found.reason, suggest_adverse_event="bradycardia",
    )


ALERT_FIELDS = ["tier", "date", "rule", "reason", "suggest_adverse_event"]


def _store_alerts(patient, kind, computed):
    """Store ``computed`` ({source: Alert or None}) for one patient and kind: new ones
    inserted, changed ones updated (an acknowledgement is kept), vanished ones deleted."""
    if not computed:
        return
    stored = {a.source: a for a in Alert.objects.filter(patient=patient, kind=kind, source__in=list(computed))}
    gone = [stored[source].pk for source, alert in computed.items() if alert is None and source in stored]
    if gone:
        Alert.objects.filter(pk__in=gone).delete()
    new, changed = [], []
    for source, alert in computed.items():
        if alert is None:
            continue
        current = stored.get(source)
        if current is None:
            new.append(alert)
        elif any(getattr(current, f) != getattr(alert, f) for f in ALERT_FIELDS):
            for f in ALERT_FIELDS:
                setattr(current, f, getattr(alert, f))
            changed.append(current)
    bulk_create_recorded(Alert, new, None)
    bulk_update_recorded(Alert, changed, ALERT_FIELDS, None)


def lab_alerts_refresh(patient, labs, *, removed_ids=()):
    """R4.4 for saved lab results (and none for removed ones), in a fixed number of queries."""
    computed = {f"lab:{pk}": None for pk in removed_ids}
    if labs:
        aza_rows = therapy_records.dose_rows_for(patient, Drug.AZATHIOPRINE)
        computed.update({f"lab:{lab.pk}": lab_alert_for(lab, aza_rows) for lab in labs})
    _store_alerts(patient, AlertKind.LAB, computed)


def visit_alerts_refresh(patient, visits):
    """R4.4 bradycardia for saved visits."""
    thalidomide_rows = therapy_records.dose_rows_for(patient, Drug.THALIDOMIDE)
    _store_alerts(
        patient, AlertKind.BRADYCARDIA,
        {f"visit:{visit.pk}": bradycardia_alert_for(visit, thalidomide_rows) for visit in visits},
    )


@transaction.atomic
def alert_acknowledge(*, actor, alert_id):
    alert = Alert.objects.select_for_update().get(pk=alert_id)
    if alert.acknowledged_at:
        raise ValidationError("This alert was acknowledged already; nothing was changed.")
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    return save_with_history(alert, actor)


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
    return save_with_history(reminder, actor)


@transaction.atomic
def reminder_complete(*, actor, reminder_id, note):
    if not (note or "").strip():
        raise ValidationError({"note": "Note: say what was done (e.g. test booked for Monday)."})
    reminder = _open_reminder(reminder_id)
    reminder.state = ReminderState.DONE
    reminder.completion_note = note.strip()
    reminder.closed_at = timezone.now()
    reminder.closed_by = actor
    return save_with_history(reminder, actor)


def _snooze_days(days):
    try:
        return int(str(days).strip())
    except ValueError:
        return 0


@transaction.atomic
def reminder_snooze(*, actor, reminder_id, days, reason):
    errors = {}
    days = _snooze_days(days)
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        errors["days"] = f"Days: snooze for 1 to {MAX_SNOOZE_DAYS} whole days."
    reason = (reason or "").strip()
    limit = Reminder._meta.get_field("snooze_reason").max_length
    if not reason:
        errors["reason"] = "Reason: say why the reminder waits."
    elif len(reason) > limit:
        errors["reason"] = f"Reason: at most {limit} characters (this one has {len(reason)})."
    if errors:
        raise ValidationError(errors)
    reminder = _open_reminder(reminder_id)
    reminder.snoozed_until = timezone.localdate() + timedelta(days=days)
    reminder.snooze_reason = reason
    return save_with_history(reminder, actor)


# --- adverse events -------------------------------------------------------------------
@transaction.atomic
def adverse_event_record(*, actor, patient, event=None, **fields):
    event = event or AdverseEvent(patient=patient, recorded_by=actor)
    for name, value in fields.items():
        setattr(event, name, value)
    event.full_clean()
    save_with_history(event, actor)
    request_rescan(patient.pk)
    return event


@transaction.atomic
def adverse_event_note_add(*, actor, event, date, note):
    entry = AdverseEventNote(event=event, date=date, note=note, author=actor)
    entry.full_clean()
    save_with_history(entry, actor)
    request_rescan(event.patient_id)
    return entry
