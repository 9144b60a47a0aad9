"""Import jobs kept tidy (issue 13, item 4): no job waits forever, no upload is kept longer
than it serves.

* A job still "validated, waiting" or "importing" after ``STUCK_AFTER`` (longer than the
  import task's hard time limit) has lost its worker: the import ran in one transaction,
  so nothing of it was written. It is marked failed, saying so, and its page stops
  polling.
* A refused upload's file is deleted at once (the job keeps its errors); a finished
  job's file after ``settings.THALIMON_UPLOAD_RETENTION_DAYS`` (default 30).
* A job whose worker died (killed, out of memory, its host restarted) is run again from
  the start: its import's transaction died with it, so nothing of it was written. The
  worker is known dead when its process is gone from this host, or when it has given no
  sign of life (``heartbeat_at``, written every ``HEARTBEAT_EVERY`` seconds by a thread
  beside the import) for ``SILENT_AFTER``. A redelivered task re-runs it at once; the
  tidy task (every few minutes) re-queues what no redelivery picked up. After
  ``MAX_ATTEMPTS`` runs it is marked failed, saying so.
"""

import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from outbox import actions as outbox
from reports.datasheet import import_datasheet
from reports.models import ImportJob
from thalimon.said import say

logger = logging.getLogger(__name__)


class _Message:
    """A job's message with parameters: ``format(**params)`` gives it as a
    ``thalimon.said.Said`` (English as ``str.format`` gave it; the job page renders it in
    the reader's language)."""

    def __init__(self, make):
        self._make = make

    def format(self, **params):
        return self._make(**params)


STUCK_AFTER = timedelta(hours=2)  # the import task is killed after 35 minutes
# The job's messages are ``Said`` (ImportJob.errors keeps their structure).
STUCK_MESSAGE = say(
    "The import did not finish (its worker stopped): nothing was imported. Upload the datasheet again."
)
WORKER_GONE_MESSAGE = _Message(lambda attempts, pk: say(
    "The import stopped %(attempts)s times because the worker running it stopped (restarted or out of memory); "
    "nothing was imported. Upload the datasheet again; if it happens again, tell your administrator "
    "(worker log, import job %(pk)s).", attempts=attempts, pk=pk,
))
RUN_TASK = "reports.tasks.run_import"
HEARTBEAT_EVERY = 15  # seconds between two signs of life of a running import
SILENT_AFTER = timedelta(minutes=3)  # no sign of life for this long: its worker is gone
MAX_ATTEMPTS = 3
REQUEUE_AFTER = timedelta(minutes=10)  # a queued job not taken by then is queued again
FINAL_STATES = (ImportJob.State.INVALID, ImportJob.State.DONE, ImportJob.State.FAILED)
WAITING_STATES = (ImportJob.State.QUEUED, ImportJob.State.VALIDATED, ImportJob.State.RUNNING)


def upload_file_delete(job):
    """Delete a job's uploaded file (its errors, warnings and counts stay)."""
    if job.file:
        job.file.delete(save=False)
        job.file = ""
        ImportJob.objects.filter(pk=job.pk).update(file="")


@transaction.atomic
def import_job_queue(*, actor, upload_file):
    """A new import job for an uploaded datasheet, stored through the storage API; its run
    is queued with it (outbox), handed to the worker once the job row has committed."""
    job = ImportJob.objects.create(
        file=upload_file, original_name=upload_file.name[:200], state=ImportJob.State.QUEUED,
        created_by=actor, file_size=upload_file.size,
    )
    outbox.enqueue(RUN_TASK, job.pk, key=f"import:{job.pk}:run:1")
    return job


def this_worker():
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_gone(job, *, now=None):
    """Whether the worker that ran ``job`` is gone: its process no longer exists on this
    host (or is this very process, whose run ended), or it has been silent too long."""
    now = now or timezone.now()
    host, _sep, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid() or not _process_alive(int(pid)):
            return True
    last = job.heartbeat_at or job.started_at or job.created_at
    return last < now - SILENT_AFTER


def _process_alive(pid):
    """Whether process ``pid`` of this host runs (a zombie, dead but not yet reaped by
    its parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    return state not in ("Z", "X")


@transaction.atomic
def import_jobs_tidy(*, now=None):
    """Re-run the jobs whose worker died, fail the stuck ones and delete the uploads past
    their retention; returns the counts."""
    now = now or timezone.now()
    rerun = 0
    long_silent = Q(heartbeat_at__lt=now - STUCK_AFTER) | Q(heartbeat_at__isnull=True)
    for job in ImportJob.objects.select_for_update().filter(state=ImportJob.State.RUNNING).exclude(long_silent):
        if worker_gone(job, now=now):
            if job.attempts >= MAX_ATTEMPTS:
                _give_up(job, now)
            else:  # the same key: queued once however many rounds see it
                outbox.enqueue(RUN_TASK, job.pk, key=f"import:{job.pk}:run:{job.attempts + 1}")
                rerun += 1
    # Queued a while ago and not taken: its message may have been lost with the broker (a
    # Redis restart keeps nothing) — queued again every 10 minutes of waiting (claims are
    # conditional, so a job the first message finds after all runs once).
    for job in ImportJob.objects.filter(state=ImportJob.State.QUEUED, created_at__lt=now - REQUEUE_AFTER,
                                        created_at__gte=now - STUCK_AFTER):
        waited = int((now - job.created_at) / REQUEUE_AFTER)
        outbox.enqueue(RUN_TASK, job.pk, key=f"import:{job.pk}:run:1:requeue:{waited}")
        rerun += 1
    # Waiting for a worker for hours (none runs, or the broker stayed down), or running
    # with no sign of life for as long: failed, and the page stops polling.
    stuck = ImportJob.objects.select_for_update().filter(
        (Q(state__in=WAITING_STATES) & ~Q(state=ImportJob.State.RUNNING) & Q(created_at__lt=now - STUCK_AFTER))
        | (Q(state=ImportJob.State.RUNNING) & Q(created_at__lt=now - STUCK_AFTER) & long_silent)
    )
    failed = 0
    for job in stuck:
        job.state, job.errors, job.progress, job.finished_at = ImportJob.State.FAILED, [STUCK_MESSAGE], 100, now
        job.save(update_fields=["state", "errors", "progress", "finished_at"])
        failed += 1
    retention = timedelta(days=getattr(settings, "THALIMON_UPLOAD_RETENTION_DAYS", 30))
    deleted = 0
    old = ImportJob.objects.filter(state__in=FINAL_STATES).exclude(file="").filter(
        finished_at__lt=now - retention
    )
    for job in list(old) + list(ImportJob.objects.filter(state=ImportJob.State.INVALID).exclude(file="")):
        upload_file_delete(job)
        deleted += 1
    return {"failed": failed, "deleted": deleted, "rerun": rerun}


# --- running an import (the worker) -------------------------------------------------
# The bar's share of each phase (reading, validating, writing, scanning).
PHASE_SPAN = {"reading": (0, 10), "validating": (10, 50), "writing": (50, 95), "scanning": (95, 100)}
PHASE_WORDS = {
    "reading": gettext_lazy("Reading the datasheet"), "validating": gettext_lazy("Checking every row"),
    "writing": gettext_lazy("Writing"), "scanning": gettext_lazy("Scanning the reminders of the patients written"),
}
ROW_VISIBLE_PHASES = ("reading", "validating")  # written outside the import's transaction
PROGRESS_EVERY = 0.5  # seconds between two progress reports


def progress_key(job_pk):
    return f"import-progress:{job_pk}"


def percent(phase, done, total):
    low, high = PHASE_SPAN.get(phase, (0, 0))
    share = min(done / total, 1) if total else 0
    return int(low + (high - low) * share)


class JobProgress:
    """Reports an import's phase, done and total to its job, at most every half second
    and at each change of phase. The writing phase runs inside the import's transaction,
    where the job row cannot be seen by the web until the end: the progress also goes to
    the shared cache (Redis; a file cache in the demo), which the job page reads first."""

    def __init__(self, job):
        self.job = job
        self.phase = None
        self.phase_started = None
        self.last = 0.0

    def __call__(self, phase, done, total):
        now = time.monotonic()
        changed = phase != self.phase
        if changed:
            self.phase, self.phase_started = phase, timezone.now()
        elif now - self.last < PROGRESS_EVERY and done < total:
            return
        self.last = now
        state = {"phase": phase, "rows_done": done, "rows_total": total,
                 "phase_started_at": self.phase_started.isoformat(), "progress": percent(phase, done, total),
                 "at": timezone.now().isoformat()}
        try:
            cache.set(progress_key(self.job.pk), state, timeout=6 * 3600)
        except Exception:  # a cache fault never stops an import: the page shows the last phase
            logger.warning("Cache unavailable for the progress of import job %s", self.job.pk)
        if phase in ROW_VISIBLE_PHASES:  # before the import's transaction: on the job row too
            ImportJob.objects.filter(pk=self.job.pk).update(
                phase=phase, rows_done=done, rows_total=total, phase_started_at=self.phase_started,
                progress=state["progress"],
            )


UNITS = {"reading": gettext_lazy("bytes"), "validating": gettext_lazy("rows"), "writing": gettext_lazy("rows"),
         "scanning": gettext_lazy("patients")}


def progress_summary(job, now=None):
    """What the job page says of a running import: the phase in words, done of total (in
    its unit) and the seconds left in this phase (None until it can be estimated)."""
    now = now or timezone.now()
    summary = {"words": PHASE_WORDS.get(job.phase, _("Waiting for the worker")), "unit": UNITS.get(job.phase, ""),
               "done": job.rows_done, "total": job.rows_total, "seconds_left": None}
    if job.phase == "reading" and job.rows_total:
        summary.update(done=round(job.rows_done / 1048576, 1), total=round(job.rows_total / 1048576, 1), unit=_("MB"))
    elapsed = (now - job.phase_started_at).total_seconds() if job.phase_started_at else 0
    if job.rows_done and job.rows_total and elapsed >= 2:
        summary["seconds_left"] = int(elapsed / job.rows_done * max(job.rows_total - job.rows_done, 0))
    summary["waiting"] = waiting_note(job, now)
    return summary


def waiting_note(job, now):
    """What the page says of a job that seems to wait on a worker (None: it does not)."""
    if job.state in (ImportJob.State.QUEUED, ImportJob.State.VALIDATED) and job.created_at < now - timedelta(minutes=2):
        return _("No worker has taken it yet (queued at %(time)s). It is marked failed if none does within "
                 "%(hours)s hours.") % {"time": f"{timezone.localtime(job.created_at):%H:%M}",
                                        "hours": int(STUCK_AFTER.total_seconds() // 3600)}
    last = max(filter(None, [job.heartbeat_at, getattr(job, "live_at", None), job.started_at]), default=None)
    if job.state == ImportJob.State.RUNNING and last and last < now - SILENT_AFTER:
        return _("No sign of its worker since %(time)s: if the worker stopped, the import is run again from "
                 "the start (at most %(attempts)s times) or marked failed.") % {
            "time": f"{timezone.localtime(last):%H:%M}", "attempts": MAX_ATTEMPTS}
    return None


def live_progress(job):
    """The job with its latest progress (the cache's, newer than the row while it writes)."""
    job.summary = progress_summary(job)
    if job.state != ImportJob.State.RUNNING:
        return job
    try:
        state = cache.get(progress_key(job.pk))
    except Exception:
        state = None
    if state:
        job.phase, job.rows_done, job.rows_total = state["phase"], state["rows_done"], state["rows_total"]
        job.progress = state["progress"]
        job.phase_started_at = datetime.fromisoformat(state["phase_started_at"])
        job.live_at = datetime.fromisoformat(state["at"]) if state.get("at") else None
    job.summary = progress_summary(job)
    return job


@contextmanager
def local_copy(job):
    """The upload on this machine's disk: read from the configured storage (a volume
    shared with the web, or S3), copied to a temporary file the worker may seek in."""
    with tempfile.NamedTemporaryFile(prefix="thalimon-upload-", suffix=".zip") as local:
        with job.file.open("rb") as stored:
            shutil.copyfileobj(stored, local, 1 << 20)
        local.flush()
        yield local.name


def fault_log(job, error):
    """Log an unexpected fault with its traceback: frames only, and the exception's class
    (its message may quote a stored value, e.g. a database's DETAIL line)."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    logger.error("Import job %s stopped: %s\nTraceback (most recent call last):\n%s%s",
                 job.pk, type(error).__name__, frames, type(error).__name__)


FAULT_MESSAGE = _Message(lambda kind, pk: say(
    "The import stopped because of an unexpected fault (%(kind)s); nothing was imported. "
    "Upload the datasheet again; if it happens again, tell your administrator (worker log, import job %(pk)s).",
    kind=kind, pk=pk,
))


def _give_up(job, now):
    job.state, job.finished_at, job.progress = ImportJob.State.FAILED, now, 100
    job.errors, job.error_total = [WORKER_GONE_MESSAGE.format(attempts=job.attempts, pk=job.pk)], 1
    job.save(update_fields=["state", "finished_at", "progress", "errors", "error_total"])
    logger.error("Import job %s failed: its worker stopped %s times", job.pk, job.attempts)


def _claim(job):
    """Take ``job`` for this process: a queued one, or a running one whose worker is gone
    (run again from the start). False when another run holds it, or it is finished."""
    now = timezone.now()
    if job.state == ImportJob.State.RUNNING:
        if not worker_gone(job, now=now):
            return False  # running elsewhere: this delivery is a duplicate
        if job.attempts >= MAX_ATTEMPTS:
            with transaction.atomic():
                if ImportJob.objects.select_for_update().filter(pk=job.pk, state=ImportJob.State.RUNNING,
                                                                attempts=job.attempts).exists():
                    _give_up(job, now)
            return False
        logger.warning("Import job %s: its worker (%s) stopped; running it again from the start",
                       job.pk, job.worker or "unknown")
    elif not job.active:
        return False
    taken = ImportJob.objects.filter(pk=job.pk, state=job.state, attempts=job.attempts).update(
        state=ImportJob.State.RUNNING, started_at=now, heartbeat_at=now, worker=this_worker(),
        attempts=F("attempts") + 1, phase="", rows_done=0, rows_total=0, progress=0, phase_started_at=None,
    )
    if taken:
        job.state, job.started_at, job.heartbeat_at, job.worker = ImportJob.State.RUNNING, now, now, this_worker()
        job.attempts += 1
    return bool(taken)


@contextmanager
def heartbeat(job):
    """A thread beside the import writes ``heartbeat_at`` every ``HEARTBEAT_EVERY``
    seconds on its own connection (on SQLite it may find the import holding the write lock:
    that beat is skipped; the process check covers one host)."""
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(HEARTBEAT_EVERY):
                try:
                    ImportJob.objects.filter(pk=job.pk, worker=job.worker).update(heartbeat_at=timezone.now())
                except Exception:  # noqa: BLE001  a missed beat is not a fault of the import
                    logger.debug("Import job %s: heartbeat skipped", job.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"import-heartbeat-{job.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_EVERY + 5)


def import_job_run(job_id):
    """Read, check and import one uploaded datasheet (the worker's task)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not _claim(job):
        return job.state  # re-delivered after it ran, or running elsewhere: harmless
    try:
        cache.delete(progress_key(job.pk))  # a previous run's progress
    except Exception:
        pass
    try:
        with local_copy(job) as path, heartbeat(job):
            report = import_datasheet(path, actor=job.created_by, progress=JobProgress(job))
    except Exception as error:  # all or nothing: the import's own transaction rolled back
        fault_log(job, error)
        job.state, job.errors = ImportJob.State.FAILED, [FAULT_MESSAGE.format(kind=type(error).__name__, pk=job.pk)]
        job.error_total = 1
    else:
        # Each finding as one Said for its whole line (English: str(finding)).
        job.errors, job.warnings = [e.said() for e in report.errors], [w.said() for w in report.warnings]
        job.error_total, job.warning_total, job.counts = report.error_total, report.warning_total, report.counts
        if report.written:
            job.state = ImportJob.State.DONE
        else:
            job.state = ImportJob.State.INVALID
    job.progress, job.finished_at = 100, timezone.now()
    job.save()
    try:
        cache.delete(progress_key(job.pk))
    except Exception:
        logger.warning("Cache unavailable clearing the progress of import job %s", job.pk)
    if job.state == ImportJob.State.INVALID:
        upload_file_delete(job)  # a refused upload is not kept (its errors are)
    return job.state
