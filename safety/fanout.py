"""The nightly reminder scan fanned out across Celery workers, in chunks of patients.

``scan_run_start`` (the beat's ``scan_all_reminders``) lists every patient, splits the ids
into chunks of ``THALIMON_SCAN_CHUNK_PATIENTS`` (``split_into_chunks``), records a
``ScanRun`` with one ``ScanChunk`` row per chunk and queues one task per chunk through the
outbox, all in one transaction: a broker that is down loses nothing (the relay hands the
chunks over later), a rolled-back plan queues nothing.

``scan_chunk`` (one chunk's task) is one call to ``safety.scan.scan_reminders`` with the
chunk's ids: idempotent as the scan is (its unique key; a chunk run twice creates nothing
twice), so a chunk that fails is retried alone. The last chunk to finish marks the run
finished, under the run's row lock, and then releases the daily digest if it had fallen
due meanwhile: the digest never goes out on a half-finished scan (``digest_may_go``),
unless the scan is still unfinished ``THALIMON_DIGEST_WAIT_MINUTES`` after the digest
fell due (a chunk whose retries are exhausted): then it goes with the reminders stored so
far, and the log says which run is unfinished. The management command ``scan_reminders``
is not fanned out (one process, one call, its output unchanged).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from outbox import actions as outbox
from patients.models import Patient
from safety.models import ScanChunk, ScanChunkState, ScanRun
from safety.scan import scan_reminders

logger = logging.getLogger(__name__)

CHUNK_TASK = "safety.tasks.scan_reminder_chunk"
DIGEST_TASK = "safety.tasks.send_daily_digests"
KEEP_RUNS = timedelta(days=14)  # older runs (and their chunks' patient ids) are deleted by the next plan
COUNTED = ("patients", "created", "resolved", "escalated", "reopened", "urgent_opened", "urgent_resolved")


def split_into_chunks(ids, size):
    """``ids`` in consecutive chunks of at most ``size`` (in their order): every id in
    exactly one chunk, none empty."""
    if size < 1:
        raise ValueError("a chunk holds at least one patient")
    ids = list(ids)
    return [ids[start:start + size] for start in range(0, len(ids), size)]


def scan_run_start(*, as_of=None, task_id="", chunk_size=None):
    """Plan a fanned-out scan of every patient as of ``as_of`` and queue its chunks (on
    commit). A re-delivered planning task (the same ``task_id``) returns the run it planned.
    Runs older than ``KEEP_RUNS`` are deleted (a night's chunks hold every patient id)."""
    as_of = as_of or timezone.localdate()
    size = chunk_size or settings.THALIMON_SCAN_CHUNK_PATIENTS
    with transaction.atomic():
        if task_id:
            planned = ScanRun.objects.filter(task_id=task_id).first()
            if planned is not None:  # its chunks were queued with it
                return planned
        ScanRun.objects.filter(started_at__lt=timezone.now() - KEEP_RUNS).delete()
        ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
        run = ScanRun.objects.create(as_of=as_of, task_id=task_id or "", chunk_size=size, patients=len(ids))
        chunks = ScanChunk.objects.bulk_create(
            ScanChunk(run=run, index=index, patient_ids=part) for index, part in enumerate(split_into_chunks(ids, size))
        )
        if not chunks:
            ScanRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
        for chunk in chunks:
            outbox.enqueue(CHUNK_TASK, chunk.pk, key=f"scan:chunk:{chunk.pk}")
    logger.info("Reminder scan %s as of %s: %d patients in %d chunks of at most %d",
                run.pk, as_of, len(ids), len(chunks), size)
    return run


def scan_chunk(chunk_id):
    """Scan one chunk's patients (one call to the scan); then, if it was the run's last,
    finish the run. A chunk already done (a re-delivered message) is skipped."""
    chunk = ScanChunk.objects.select_related("run").filter(pk=chunk_id).first()
    if chunk is None or chunk.state == ScanChunkState.DONE:
        return {"skipped": True}
    ScanChunk.objects.filter(pk=chunk.pk).update(
        state=ScanChunkState.RUNNING, attempts=chunk.attempts + 1, started_at=timezone.now()
    )
    report = scan_reminders(as_of=chunk.run.as_of, patient_ids=chunk.patient_ids)
    counts = {name: getattr(report, name) for name in COUNTED}
    _chunk_done(chunk, counts)
    return counts


def chunk_failed(chunk_id, error, *, final):
    """Record a chunk's fault (it is retried alone; ``final``: its retries are exhausted)."""
    try:
        ScanChunk.objects.filter(pk=chunk_id).exclude(state=ScanChunkState.DONE).update(
            state=ScanChunkState.FAILED if final else ScanChunkState.QUEUED, last_error=type(error).__name__[:100]
        )
    except Exception:  # the database may still be down: the state says "running", the log says why
        logger.warning("Could not record the fault of scan chunk %s", chunk_id)
    log = logger.error if final else logger.warning
    log("Scan chunk %s failed (%s)%s", chunk_id, type(error).__name__,
        ": retries exhausted, its run stays unfinished" if final else "; retried alone")


@transaction.atomic
def _chunk_done(chunk, counts):
    """Mark the chunk done and, under the run's row lock (so two last chunks finishing at
    once cannot both miss it), finish the run when no chunk is left; release the digest
    that waited for it."""
    run = ScanRun.objects.select_for_update().get(pk=chunk.run_id)
    now = timezone.now()
    ScanChunk.objects.filter(pk=chunk.pk).update(state=ScanChunkState.DONE, finished_at=now, counts=counts,
                                                 last_error="")
    if run.finished_at is not None or run.chunks.exclude(state=ScanChunkState.DONE).exists():
        return
    run.finished_at = now
    run.save(update_fields=["finished_at"])
    logger.info("Reminder scan %s as of %s finished", run.pk, run.as_of)
    if run.digest_waiting_since is not None:
        _release_digest(run)


def _release_digest(run):
    """Queue the digest that waited for ``run`` (once: the outbox key), not waiting again."""
    outbox.enqueue(DIGEST_TASK, run.as_of.isoformat(), False, key=f"digest:after-scan:{run.pk}")
    ScanRun.objects.filter(pk=run.pk).update(digest_waiting_since=None)


def digest_may_go(day, *, now=None):
    """Whether the daily digest of ``day`` may go now: yes unless the day's latest scan run
    is unfinished, in which case the run is marked so that its last chunk releases the
    digest (under the same row lock as the chunks' finish: one of the two sends it)."""
    now = now or timezone.now()
    with transaction.atomic():
        run = ScanRun.objects.select_for_update().filter(as_of=day).order_by("-started_at", "-pk").first()
        if run is None or run.finished_at is not None:
            return True
        if run.digest_waiting_since is None:
            run.digest_waiting_since = now
            run.save(update_fields=["digest_waiting_since"])
    logger.info("The digest of %s waits for reminder scan %s to finish", day, run.pk)
    return False


def release_overdue_digests(*, now=None):
    """The digests that have waited ``THALIMON_DIGEST_WAIT_MINUTES`` for an unfinished scan
    go now, with the reminders stored so far (safer than no digest at all); logged as an
    error naming the run and its unfinished chunks. Returns how many were released."""
    now = now or timezone.now()
    limit = now - timedelta(minutes=settings.THALIMON_DIGEST_WAIT_MINUTES)
    released = 0
    with transaction.atomic():
        for run in ScanRun.objects.select_for_update().filter(finished_at__isnull=True,
                                                              digest_waiting_since__lte=limit):
            left = list(run.chunks.exclude(state=ScanChunkState.DONE).values_list("index", flat=True))
            logger.error("Reminder scan %s as of %s is unfinished (chunks %s): its digest goes without waiting more",
                         run.pk, run.as_of, left)
            _release_digest(run)
            released += 1
    return released
