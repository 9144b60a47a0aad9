"""Import jobs kept tidy (issue 13, item 4): no job waits forever, no upload is kept longer
than it serves.

* A job still "validated, waiting" or "importing" after ``STUCK_AFTER`` (longer than the
  import task's hard time limit) has lost its worker: the import ran in one transaction,
  so nothing of it was written. It is marked failed, saying so, and its page stops
  polling.
* A refused upload's file is deleted at once (the job keeps its errors); a finished
  job's file after ``settings.THALIMON_UPLOAD_RETENTION_DAYS`` (default 30).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reports.models import ImportJob

STUCK_AFTER = timedelta(hours=2)  # the import task is killed after 35 minutes
STUCK_MESSAGE = (
    "The import did not finish (its worker stopped): nothing was imported. Upload the datasheet again."
)
FINAL_STATES = (ImportJob.State.INVALID, ImportJob.State.DONE, ImportJob.State.FAILED)


def upload_file_delete(job):
    """Delete a job's uploaded file (its errors, warnings and counts stay)."""
    if job.file:
        job.file.delete(save=False)
        job.file = ""
        ImportJob.objects.filter(pk=job.pk).update(file="")


@transaction.atomic
def import_jobs_tidy(*, now=None):
    """Fail the stuck jobs and delete the uploads past their retention; returns the counts."""
    now = now or timezone.now()
    stuck = ImportJob.objects.select_for_update().filter(
        state__in=[ImportJob.State.VALIDATED, ImportJob.State.RUNNING], created_at__lt=now - STUCK_AFTER
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
    return {"failed": failed, "deleted": deleted}
