"""The relay, run by beat: queued work the web could not hand over goes now."""

from celery import shared_task

from outbox.actions import relay


@shared_task(name="outbox.tasks.relay_outbox", acks_late=True, ignore_result=True,
             soft_time_limit=60, time_limit=90)
def relay_outbox():
    return relay()
