"""Safety actions: the rescan queue, R4.4 alerts, reminder and alert actions, adverse events.

Clinical actions in every app end with ``request_rescan(patient_id)``: that patient's
reminders and urgent events recomputed in the same transaction (so the inbox, the
badge and the banner are right the moment the save returns, and a rolled-back write
changes nothing); only the urgent emails wait for the commit.
Lab and visit actions store their R4.4 alerts through ``lab_alerts_refresh`` and
``visit_alerts_refresh`` in their own transaction; the importer builds the same
alerts with ``lab_alert_for``/``bradycardia_alert_for``.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patients.models import Patient
from safety import alerts, policy, schedule
from safety.kinds import RESOLVED_BY
from safety.models import (
    AdverseEvent,
    AdverseEventNote,
    Alert,
    AlertKind,
    AlertTier,
    Reminder,
    ReminderState,
    with_patient_site,
)
from safety.scan import scan_reminders
from thalimon import saying
from thalimon.history import bulk_create_recorded, bulk_update_recorded, save_with_history
from thalimon.protections import CLINICAL_DATA, bump_generation
from thalimon.said import say
from therapy import records as therapy_records
from therapy.models import Drug
from visits import labs

RESCAN_TASK = "safety.tasks.rescan_patient"
MAX_SNOOZE_DAYS = policy.MAX_SNOOZE_DAYS
MIN_DECISION_LENGTH = 10

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
    """Rescan ``patient_id``'s reminders and urgent events now, in the current transaction."""
    if _rescans_suppressed.get():
        return
    scan_reminders(patient_ids=[patient_id])
    transaction.on_commit(lambda: bump_generation(CLINICAL_DATA))  # cached reports are rebuilt


def move_to_site(patient_id, site_id):
    """A patient moved to another site (a transfer, in its transaction): every one of the
    patient's reminders and alerts, open or closed, carries the new site (``site``, a copy of
    the patient's). Two UPDATEs, and no history rows: the site is derived from the patient,
    like the scan's escalation (``safety.scan``) and the import's computed fields, and the
    move is recorded where it happens — the patient's history and the ``Transfer`` row."""
    Reminder.objects.filter(patient_id=patient_id).exclude(site_id=site_id).update(site_id=site_id)
    Alert.objects.filter(patient_id=patient_id).exclude(site_id=site_id).update(site_id=site_id)


def sites_follow_patients(patient_ids, chunk=2000):
    """At the end of a long transaction that wrote reminders and alerts from patients read at
    its start (the import): lock the patients' rows (pk order, as a scan batch does) and give
    any of their reminders and alerts whose site is not the patient's the patient's site as it
    is now. A transfer committed while the import ran is thus followed (the import's new rows
    go to the new site, into its inbox), and a later one waits for the import's commit and then
    moves them itself (``move_to_site``). Three queries a ``chunk`` of patients (in pk order);
    rows already in step are not touched. No history rows, as ``move_to_site``."""
    site_now = Subquery(Patient.objects.filter(pk=OuterRef("patient_id")).values("site_id")[:1])
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        list(Patient.objects.filter(pk__in=part).order_by("pk").select_for_update(no_key=True)
             .values_list("pk", flat=True))
        for model in (Reminder, Alert):
            model.objects.filter(patient_id__in=part).exclude(site_id=F("patient__site_id")).update(site_id=site_now)


# --- R4.4 alerts ------------------------------------------------------------------
def lab_alert_for(lab, aza_rows):
    """The unsaved R4.4 alert of one lab result at its highest tier, or None."""
    # R4.4 with R12: ALT and AST use the lab's own upper limit when one is recorded (else 40 U/L).
    uln = lab.lab_high.normalize() if lab.test in labs.LIVER_TESTS and lab.lab_high else alerts.DEFAULT_ULN
    found = alerts.lab_alert(
        test=lab.test, value=lab.value, aza_active=therapy_records.azathioprine_active(aza_rows, lab.date), uln=uln
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
    urgent_closed = [
        stored[source] for source, alert in computed.items()
        if source in stored and stored[source].tier == AlertTier.WITHHOLD
        and (alert is None or alert.tier != AlertTier.WITHHOLD)
    ]
    gone = [stored[source].pk for source, alert in computed.items()
            if alert is None and source in stored and stored[source] not in urgent_closed]
    if gone:
        Alert.objects.filter(pk__in=gone).delete()
    new, changed = [], []
    for source, alert in computed.items():
        current = stored.get(source)
        if alert is None or (current is not None and current in urgent_closed):
            continue
        if current is None:
            new.append(alert)
        elif any(getattr(current, f) != getattr(alert, f) for f in ALERT_FIELDS):
            for f in ALERT_FIELDS:
                setattr(current, f, getattr(alert, f))
            changed.append(current)
    # The patient's site read now, under the action's lock of the patient's row (not from the
    # object the request read: a transfer may have moved the patient since): a query, only
    # when an alert is new.
    bulk_create_recorded(Alert, with_patient_site(new), None)
    bulk_update_recorded(Alert, changed, ALERT_FIELDS, None)
    _close_corrected(urgent_closed, computed)


def _close_corrected(alerts, computed):
    """A withhold-level result corrected below that level, or deleted: the urgent event is
    kept (with who saw it and what was decided) and closed by that data, never deleted."""
    now = timezone.now()
    for alert in alerts:
        corrected = computed.get(alert.source)
        alert.tier = corrected.tier if corrected is not None else AlertTier.CLEARED
        if corrected is not None:
            alert.reason = corrected.reason
        if alert.resolved_at is None:
            alert.resolved_at = now
            alert.resolution = (
                say("Resolved by the data: the result was corrected below the withhold level (see the "
                    "result's history).") if corrected is not None
                else say("Resolved by the data: the result was corrected or deleted (see the result's history).")
            )
    bulk_update_recorded(Alert, alerts, ["tier", "reason", "resolved_at", "resolution"], None)


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
        raise ValidationError(_("This alert was acknowledged already; nothing was changed."))
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    return save_with_history(alert, actor)


# --- reminder actions (R7: reminders close on data) -------------------------------------
def reminder_roles(user):
    """The R7 roles of ``user`` for ``policy.refusal``, from the permissions of its groups."""
    roles = set()
    if user.has_perm("safety.work_reminder"):
        roles.add(policy.NURSE)
    if user.has_perm("safety.work_clinician_reminder"):
        roles.add(policy.CLINICIAN)
    return roles


def allowed_actions(user, reminder):
    """The actions ``user`` may take on ``reminder`` (complete, snooze, dismiss)."""
    roles = reminder_roles(user)
    return [action for action in policy.REMINDER_ACTIONS if policy.refusal(reminder.kind, action, roles) is None]


def _open_reminder(reminder_id, actor, action):
    # The reminder's row only (of self), never its patient's: the nightly scan locks a batch's
    # patients and then their reminders, so an action holding the patient too could deadlock with it.
    reminder = Reminder.objects.select_for_update(of=("self",)).select_related("patient").get(pk=reminder_id)
    if not reminder.is_open:
        raise ValidationError(
            _("This reminder is already closed (%(state)s); nothing was changed.")
            % {"state": reminder.get_state_display().lower()}
        )
    refused = policy.refusal(reminder.kind, action, reminder_roles(actor))
    if refused:
        raise ValidationError(_("Not allowed: %(why)s; nothing was changed.") % {"why": saying.render(refused)})
    return reminder


@transaction.atomic
def reminder_acknowledge(*, actor, reminder_id):
    reminder = Reminder.objects.select_for_update(of=("self",)).select_related("patient").get(pk=reminder_id)
    if not reminder.is_open:
        raise ValidationError(_("This reminder is already closed; nothing was changed."))
    reminder.state = ReminderState.ACKNOWLEDGED
    return save_with_history(reminder, actor)


@transaction.atomic
def reminder_complete(*, actor, reminder_id):
    """Closed only by its data: the patient is rescanned now, and the reminder is done if
    the recorded data resolves it; otherwise it stays, and the refusal says what is missing."""
    reminder = _open_reminder(reminder_id, actor, policy.COMPLETE)
    scan_reminders(patient_ids=[reminder.patient_id])
    reminder.refresh_from_db()
    if reminder.is_open:
        raise ValidationError(
            _("Still due: nothing recorded resolves this reminder yet. It closes when "
              "%(resolved_by)s — record that first.") % {"resolved_by": _(RESOLVED_BY[reminder.kind])}
        )
    return reminder


def _snooze_days(days):
    try:
        return int(str(days).strip())
    except ValueError:
        return 0


# The names of the free-text fields, as their messages begin.
FIELD_LABELS = {"reason": gettext_lazy("Reason"), "decision": gettext_lazy("Decision")}


def _text(value, field, what, limit=None):
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: what})
    label = FIELD_LABELS.get(field, field.capitalize())
    if "\x00" in text:
        raise ValidationError({field: _("%(field)s: remove the invisible NUL character (it cannot be stored).")
                               % {"field": label}})
    if limit and len(text) > limit:
        raise ValidationError({field: _("%(field)s: at most %(limit)s characters (this one has %(length)s).")
                               % {"field": label, "limit": limit, "length": len(text)}})
    return text


@transaction.atomic
def reminder_snooze(*, actor, reminder_id, days, reason):
    reminder = _open_reminder(reminder_id, actor, policy.SNOOZE)
    days = _snooze_days(days)
    if not 1 <= days <= MAX_SNOOZE_DAYS:
        raise ValidationError({"days": _("Days: snooze for 1 to %(max)s whole days.") % {"max": MAX_SNOOZE_DAYS}})
    # No snooze past the day it becomes overdue: then it is escalated, and nobody can
    # keep a reminder out of sight by snoozing it again and again.
    latest = reminder.due + timedelta(days=schedule.OVERDUE_AFTER_DAYS)
    if timezone.localdate() + timedelta(days=days) > latest:
        raise ValidationError({"days": (
            _("Days: this reminder becomes overdue on %(overdue)s; it cannot be snoozed past %(latest)s.")
            % {"overdue": saying.day(latest + timedelta(days=1)), "latest": saying.day(latest)}
            if timezone.localdate() < latest else
            _("Days: this reminder is overdue and cannot wait any longer; record what resolves it.")
        )})
    reason = _text(reason, "reason", _("Reason: say why the reminder waits."),
                   Reminder._meta.get_field("snooze_reason").max_length)
    reminder.snoozed_until = timezone.localdate() + timedelta(days=days)
    reminder.snooze_reason = reason
    return save_with_history(reminder, actor)


def _decision(decision):
    text = _text(decision, "decision", _("Decision: write the clinical decision (e.g. no further step: stays at 50 mg)."))
    if len(text) < MIN_DECISION_LENGTH:
        raise ValidationError({"decision": _("Decision: at least %(min)s characters — say what was decided.")
                               % {"min": MIN_DECISION_LENGTH}})
    return text


@transaction.atomic
def reminder_dismiss(*, actor, reminder_id, decision):
    """A clinician ends a reminder by a recorded decision, where R7 allows it (``policy.REMINDER_POLICY``)."""
    reminder = _open_reminder(reminder_id, actor, policy.DISMISS)
    reminder.completion_note = say("Decision: %(decision)s", decision=_decision(decision))
    reminder.state = ReminderState.DISMISSED
    reminder.closed_at = timezone.now()
    reminder.closed_by = actor
    return save_with_history(reminder, actor)


@transaction.atomic
def alert_decide(*, actor, alert_id, decision):
    """A clinician closes an urgent event with a recorded decision (e.g. "thalidomide stopped
    on …, patient referred"). The rules keep refusing doses while their data says so."""
    if not actor.has_perm("safety.decide_alert"):
        raise ValidationError(_("Only a clinician records the decision that closes an urgent event."))
    alert = Alert.objects.select_for_update(of=("self",)).select_related("patient").get(pk=alert_id)
    if not alert.is_urgent:
        raise ValidationError(_("Only an urgent event is closed by a decision; acknowledge this alert instead."))
    if alert.resolved_at is not None:
        raise ValidationError(_("This urgent event is already resolved; nothing was changed."))
    alert.resolution = say("Decision: %(decision)s", decision=_decision(decision))
    alert.resolved_at = timezone.now()
    alert.resolved_by = actor
    return save_with_history(alert, actor)


# --- adverse events -------------------------------------------------------------------
@transaction.atomic
def adverse_event_record(*, actor, patient, event=None, **fields):
    Patient.objects.lock(patient.pk)
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
