"""Datasheet import as a Celery task (eager in tests), with progress on the job."""

from celery import shared_task

from reports.actions import import_job_run, import_jobs_tidy


@shared_task(name="reports.tasks.run_import", acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=30 * 60, time_limit=35 * 60)
def run_import(job_id):
    return import_job_run(job_id)


@shared_task(name="reports.tasks.tidy_import_jobs", acks_late=True, soft_time_limit=10 * 60, time_limit=12 * 60)
def tidy_import_jobs():
    return import_jobs_tidy()
