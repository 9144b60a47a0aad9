"""The reminder scan (R7): the one computation behind the nightly job,
``scan_reminders`` and a patient's rescan.

It loads patients in batches (``safety.records``), computes each patient's
reminders with the pure ``safety.schedule``, and writes one batch in one
transaction — so a scan that fails half-way leaves every patient's reminders as
they were, and the unique key (patient, kind, due, subject) makes a repeated or
concurrent scan create nothing twice. Reminders whose condition no longer holds
(a test recorded, a patient who died) are resolved automatically; overdue ones
are escalated to the patient's clinician.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from outbox import actions as outbox
from patients.models import Patient
from safety import schedule, urgency
from safety.kinds import RESOLVED_BY, URGENT_RESOLVED_BY
from safety.models import (
    OPEN_STATES,
    URGENT_TIERS,
    Alert,
    AlertKind,
    AlertTier,
    Reminder,
    ReminderState,
    with_patient_site,
)
from safety.records import BATCH_SIZE, patient_records
from thalimon.history import bulk_create_recorded, bulk_update_recorded
from thalimon.said import say

logger = logging.getLogger(__name__)
NOTIFY_TASK = "safety.tasks.notify_urgent_event"


# --- the scan -------------------------------------------------------------------
@dataclass
class ScanReport:
    as_of: object
    patients: int = 0
    due: list = field(default_factory=list)  # DueReminder, due on or before as_of
    created: int = 0
    resolved: int = 0
    escalated: int = 0
    reopened: int = 0
    urgent_opened: int = 0
    urgent_resolved: int = 0


def _key(patient_id, kind, due, subject):
    return (patient_id, kind, due, subject or "")


def scan_reminders(*, as_of=None, patient_ids=None, dry_run=False, batch_size=BATCH_SIZE):
    """Compute every patient's R7 reminders; unless ``dry_run``, store new ones,
    auto-resolve those whose condition no longer holds, escalate overdue ones."""
    as_of = as_of or timezone.localdate()
    report = ScanReport(as_of=as_of)
    for batch in patient_records(as_of=as_of, patient_ids=patient_ids, batch_size=batch_size):
        computed, urgent = {}, {}
        for patient, record in batch:
            for reminder in schedule.reminders(record, as_of):
                computed[_key(patient.pk, reminder.kind, reminder.due, reminder.subject)] = reminder
                if schedule.is_due(reminder, as_of):
                    report.due.append(reminder)
            for event in urgency.urgent_events(record, as_of):
                urgent[_urgent_key(patient.pk, event)] = event
        report.patients += len(batch)
        if dry_run:
            continue
        _store([p for p, _ in batch], computed, urgent, as_of, report)
    report.due.sort(key=lambda r: (r.patient, r.kind, r.due, r.subject))
    return report


@transaction.atomic
def _store(patients, computed, urgent, as_of, report):
    """One batch's reminders and urgent events, in one transaction."""
    _lock_sites(patients)
    _store_batch(patients, computed, as_of, report)
    _store_urgent(patients, urgent, report)


def _lock_sites(patients):
    """Lock the batch's patient rows for the transaction and take their site as it is now:
    the new reminders and urgent events carry their patient's site, and a transfer
    (which locks the patient first and then moves the patient's rows) either commits before
    this read, or waits for the batch to commit and then moves its rows too. Without it a
    transfer committed while the batch was computed would leave the new rows at the old
    site — in the old site's inbox, out of the new site's. One query a batch; a clinical
    write to one of these patients waits for the batch (about a second) at most."""
    current = dict(
        Patient.objects.filter(pk__in=[p.pk for p in patients]).order_by("pk")
        .select_for_update(no_key=True).values_list("pk", "site_id")
    )
    for patient in patients:
        patient.site_id = current.get(patient.pk, patient.site_id)


# A closed patient status as the closing note says it (the status's label in lower case).
CLOSED_STATUS_WORDS = {"died": say("died"), "transferred": say("transferred"), "lost": say("lost to follow-up")}


def _closing_note(patient, kind, as_of):
    """Why the scan closed a reminder: the patient's status, or the data that resolves its kind."""
    if patient.status in schedule.CLOSED_STATUSES and patient.status_date and patient.status_date <= as_of:
        return say("Closed: patient recorded as %(status)s on %(day)s; no reminders from that date (R7).",
                   status=CLOSED_STATUS_WORDS[patient.status], day=patient.status_date)
    # RESOLVED_BY's sentences are in the catalogue (gettext_noop in safety/kinds.py).
    return say("Resolved by the data: %(what)s (scan of %(day)s).", what=say(RESOLVED_BY[kind]), day=as_of)


def _store_batch(patients, computed, as_of, report):
    now = timezone.now()
    patient_ids = [p.pk for p in patients]
    by_id = {p.pk: p for p in patients}
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
    with_patient_site(new, patients)  # each with its patient's site, from the batch (no query)
    # ignore_conflicts: a concurrent scan that inserted the same key first wins; nothing twice.
    created = Reminder.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    report.created += len(created)
    closing = {}
    for key, (pk, state) in stored.items():
        if state in OPEN_STATES and key not in computed:
            closing[pk] = (ReminderState.AUTO_RESOLVED, now, _closing_note(by_id[key[0]], key[1], as_of))
        elif state == ReminderState.DONE and key in computed:
            # A note never closes a reminder (R7): one completed by hand whose condition
            # still holds comes back. (Snoozed ones come back when the snooze ends; a
            # clinician's dismissal with a decision stands.)
            closing[pk] = (ReminderState.OPEN, None, "Reopened: the condition still holds and no data has resolved it (R7).")
    if closing:
        changed = list(Reminder.objects.filter(pk__in=list(closing)).select_for_update())
        for reminder in changed:
            reminder.state, reminder.closed_at, reminder.completion_note = closing[reminder.pk]
            if reminder.state == ReminderState.OPEN:
                reminder.closed_by = None
                report.reopened += 1
            else:
                report.resolved += 1
        bulk_update_recorded(Reminder, changed, ["state", "closed_at", "closed_by", "completion_note"], None)
    # Overdue reminders are escalated to the patient's *current* responsible clinician: a
    # change of care team re-points them at the next (or the save's own) rescan (R7).
    clinician = Patient.objects.filter(pk=OuterRef("patient_id")).values("responsible_clinician_id")[:1]
    overdue = Reminder.objects.filter(
        patient_id__in=patient_ids,
        state__in=OPEN_STATES,
        due__lt=as_of - timedelta(days=schedule.OVERDUE_AFTER_DAYS),  # overdue: due + 7 days < as_of (R7)
    )
    report.escalated += overdue.filter(escalated_at__isnull=True).count()
    overdue.update(escalated_at=Coalesce("escalated_at", Value(now)), escalated_to_id=Subquery(clinician))


# --- urgent events -------------------------------------------------------------------
def _urgent_key(patient_id, event):
    """(patient, stored kind, source): a withhold-level result is its own R4.4 lab alert."""
    kind = AlertKind.LAB if event.code == "withhold_lab_result" else event.code
    return (patient_id, kind, event.source)


def _urgent_alert(patient_id, event):
    return Alert(
        patient_id=patient_id, kind=event.code, tier=AlertTier.URGENT, source=event.source, date=event.date,
        rule=event.rule, reason=event.text, action=event.action, evidence_until=event.latest,
    )


def _store_urgent(patients, computed, report):
    """Store the batch's urgent events: new ones opened (and notified once the transaction
    commits), those whose data arrived resolved with what resolved them, those the data
    had resolved reopened if their condition holds again. A clinician's decision stands."""
    now = timezone.now()
    stored = {
        (a.patient_id, a.kind, a.source): a
        for a in Alert.objects.filter(patient__in=patients, tier__in=URGENT_TIERS)
        .only("patient_id", "kind", "source", "tier", "reason", "action", "resolved_at", "resolved_by_id",
              "notified_at", "resolution", "acknowledged_at", "acknowledged_by_id", "date", "evidence_until")
    }
    new, changed = [], []
    for key, event in computed.items():
        alert = stored.get(key)
        if alert is None:
            if key[1] != AlertKind.LAB:  # a lab alert is stored by the lab's own action or import
                new.append(_urgent_alert(key[0], event))
            continue
        reopen = _reopening(alert, event)
        if reopen:
            alert.resolved_at, alert.resolved_by, alert.resolution = None, None, reopen
            alert.notified_at = alert.acknowledged_at = alert.acknowledged_by = None  # new data: seen and sent anew
            report.urgent_opened += 1
            changed.append(alert)
        elif alert.resolved_at is None and (alert.reason, alert.action, alert.evidence_until) != (
            alert.reason if key[1] == AlertKind.LAB else event.text, alert.action if key[1] == AlertKind.LAB else event.action,
            event.latest,
        ):
            if key[1] != AlertKind.LAB:
                alert.reason, alert.action = event.text, event.action
            alert.evidence_until = event.latest
            changed.append(alert)
    for key, alert in stored.items():
        if alert.resolved_at is None and key not in computed:
            alert.resolved_at = now
            alert.resolution = say("Resolved by the data: %(what)s.",
                                   what=say(URGENT_RESOLVED_BY.get(alert.kind, URGENT_RESOLVED_BY["lab"])))
            report.urgent_resolved += 1
            changed.append(alert)
    # ignore_conflicts: a concurrent scan (or save) that stored the same event first wins.
    bulk_create_recorded(Alert, with_patient_site(new, patients), None, ignore_conflicts=True)
    report.urgent_opened += len(new)
    bulk_update_recorded(
        Alert, changed,
        ["reason", "action", "resolved_at", "resolved_by", "resolution", "notified_at", "acknowledged_at",
         "acknowledged_by", "evidence_until"],
        None,
    )
    pending = list(
        Alert.objects.filter(patient__in=patients, tier__in=URGENT_TIERS, resolved_at__isnull=True,
                             notified_at__isnull=True).values_list("pk", flat=True)
    )
    for alert_id in pending:  # queued with the data: sent once the scan's transaction commits
        outbox.enqueue(NOTIFY_TASK, alert_id, key=f"notify:alert:{alert_id}")


def _reopening(alert, event):
    """Why a stored, closed event opens again (None: it stays closed). An event the data had
    resolved opens when its condition holds again; one a clinician closed by a decision
    opens only for alarming data dated after the decision (a new "no", a later grade ≥ 3,
    a later dose) than the data it covered (``evidence_until``, frozen by the decision)."""
    if alert.resolved_at is None:
        return None
    if alert.resolved_by_id is None:
        return say("Reopened: the condition holds again.")
    covered = alert.evidence_until or alert.date
    if event.latest is not None and event.latest > covered:
        return say("Reopened: new data of %(latest)s, after the decision of %(decided)s (which covered the data "
                   "to %(covered)s).", latest=event.latest, decided=timezone.localdate(alert.resolved_at),
                   covered=covered)
    return None

