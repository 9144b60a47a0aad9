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

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from patients.models import Patient
from safety import schedule
from safety.models import OPEN_STATES, Reminder, ReminderState
from safety.records import BATCH_SIZE, patient_records


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
        due__lt=as_of - timedelta(days=schedule.OVERDUE_AFTER_DAYS),  # overdue: due + 7 days < as_of (R7)
    ).update(escalated_at=now, escalated_to_id=Subquery(clinician))
