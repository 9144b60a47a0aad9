"""Datasheet import as a Celery task (eager in tests), with progress on the job."""

from celery import shared_task
from django.utils import timezone

from reports.actions import import_jobs_tidy
from reports.datasheet import import_datasheet
from reports.models import ImportJob


@shared_task(name="reports.tasks.run_import", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=30 * 60, time_limit=35 * 60)
def run_import(job_id):
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.state != ImportJob.State.VALIDATED:
        return job.state  # re-delivered after it ran: harmless
    job.state, job.progress = ImportJob.State.RUNNING, 10
    job.save(update_fields=["state", "progress"])
    try:
        report = import_datasheet(job.file.path, actor=job.created_by)
    except Exception as error:  # all or nothing: the import's own transaction rolled back
        job.state, job.errors = ImportJob.State.FAILED, [f"The import stopped: {error.__class__.__name__}"]
    else:
        if report.errors:
            job.state, job.errors = ImportJob.State.FAILED, [str(e) for e in report.errors]
        else:
            job.state = ImportJob.State.DONE
        job.counts = report.counts
        job.warnings = [str(w) for w in report.warnings]
    job.progress, job.finished_at = 100, timezone.now()
    job.save()
    return job.state


@shared_task(name="reports.tasks.tidy_import_jobs", acks_late=True, soft_time_limit=10 * 60, time_limit=12 * 60)
def tidy_import_jobs():
    return import_jobs_tidy()
