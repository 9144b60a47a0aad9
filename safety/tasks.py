"""Thin Celery tasks calling the safety scan and digest (doors: ids in, one call).

Idempotent (the scan's unique key), acks_late (a worker dying mid-task gets
the task re-delivered), with time limits and retries on database faults.
"""

import logging
from datetime import date
from smtplib import SMTPException

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from safety import fanout
from safety.actions import RESCAN_TASK
from safety.digest import retry_digests, send_digests, send_pending_urgent, send_urgent_notification
from safety.scan import scan_reminders

logger = logging.getLogger(__name__)

TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@shared_task(bind=True, name="safety.tasks.scan_all_reminders", soft_time_limit=5 * 60, time_limit=6 * 60,
             **TASK_OPTIONS)
def scan_all_reminders(self, as_of=None):
    """The nightly scan, fanned out: plans the run and queues one task per chunk of patients."""
    run = fanout.scan_run_start(as_of=date.fromisoformat(as_of) if as_of else None, task_id=self.request.id or "")
    return {"run": run.pk, "patients": run.patients}


@shared_task(bind=True, name=fanout.CHUNK_TASK, soft_time_limit=30 * 60, time_limit=35 * 60, **TASK_OPTIONS)
def scan_reminder_chunk(self, chunk_id):
    """One chunk of the nightly scan; a database fault retries this chunk alone."""
    try:
        return fanout.scan_chunk(chunk_id)
    except DatabaseError as error:
        fanout.chunk_failed(chunk_id, error, final=self.request.retries >= self.max_retries)
        raise


@shared_task(name=RESCAN_TASK, soft_time_limit=60, time_limit=90, **TASK_OPTIONS)
def rescan_patient(patient_id, as_of=None):
    report = scan_reminders(
        as_of=date.fromisoformat(as_of) if as_of else None, patient_ids=[patient_id]
    )
    return {"created": report.created, "resolved": report.resolved, "escalated": report.escalated}


@shared_task(name="safety.tasks.send_daily_digests", soft_time_limit=10 * 60, time_limit=12 * 60, **TASK_OPTIONS)
def send_daily_digests(as_of=None, wait_for_scan=True):
    """The daily digest; it waits for the day's fanned-out scan (its last chunk sends it)."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    if wait_for_scan and not fanout.digest_may_go(day):
        return {"waiting_for_scan": True}
    return send_digests(as_of=day)


@shared_task(
    name="safety.tasks.notify_urgent_event", soft_time_limit=60, time_limit=90,
    **{**TASK_OPTIONS, "autoretry_for": (DatabaseError, OSError, SMTPException), "max_retries": 10},
)
def notify_urgent_event(alert_id):
    return send_urgent_notification(alert_id)


@shared_task(name="safety.tasks.send_pending_urgent_notifications", soft_time_limit=5 * 60, time_limit=6 * 60,
             **TASK_OPTIONS)
def send_pending_urgent_notifications():
    """The sweep: urgent emails not sent at commit (broker or SMTP down) go now, each once."""
    return send_pending_urgent()


@shared_task(name="safety.tasks.retry_failed_digests", soft_time_limit=8 * 60, time_limit=9 * 60, **TASK_OPTIONS)
def retry_failed_digests():
    """Today's digests that failed, or whose sending was cut off, go again with backoff; a
    digest that has waited too long for an unfinished scan goes (``fanout``)."""
    fanout.release_overdue_digests()
    return retry_digests()
