"""Queue work with the data, and hand it to the broker (the relay).

``enqueue`` is called inside the transaction of the write that needs the work; it
returns at once. ``hand_over`` publishes messages without waiting on a broker that is
down (no publish retries, a short connection timeout) and records each outcome.
"""

import importlib
import logging
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

RELAY_BATCH = 500
BACKOFF_FIRST = timedelta(seconds=15)
BACKOFF_CAP = timedelta(minutes=10)
LATE_AFTER = timedelta(minutes=5)  # shown as late to the admin


def enqueue(task, *args, key):
    """Record that ``task(*args)`` is to run once this transaction commits.

    The same ``key`` is queued once (a second call is a no-op). After the commit the
    web process tries to hand it over at once; a broker fault leaves it to the relay."""
    OutboxMessage.objects.bulk_create(
        [OutboxMessage(key=key, task=task, args=list(args), next_attempt_at=timezone.now())], ignore_conflicts=True
    )  # one query; an existing key stays as it is
    transaction.on_commit(lambda: hand_over(keys=[key]))


def backoff(attempts):
    """The wait after ``attempts`` failed hand-overs: 15 s doubling, at most 10 minutes."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def hand_over(message_ids=(), *, keys=()):
    """Publish these undelivered messages (by id or key); returns how many went. Never
    raises: the first broker fault stops the round (the broker is down for all of them)
    and is logged once."""
    sent = 0
    # By key (after a commit): only what was never tried; what failed before is the relay's.
    found = OutboxMessage.objects.filter(delivered_at__isnull=True).filter(
        Q(pk__in=message_ids) | Q(key__in=keys, attempts=0)
    )
    messages = list(found.order_by("pk"))
    for index, message in enumerate(messages):
        try:
            _publish(message)
        except Exception as error:  # broker down or unreachable: the relay retries
            _failed(message, error, rest=[m.pk for m in messages[index + 1:]])
            return sent
        OutboxMessage.objects.filter(pk=message.pk).update(
            delivered_at=timezone.now(), attempts=message.attempts + 1, last_error=""
        )
        sent += 1
    return sent


def relay(*, now=None):
    """The beat's round: hand over every message whose next attempt is due."""
    now = now or timezone.now()
    due = list(
        OutboxMessage.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:RELAY_BATCH]
    )
    return {"due": len(due), "delivered": hand_over(due) if due else 0}


def late(*, now=None):
    """Messages still undelivered ``LATE_AFTER`` after they were queued."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(delivered_at__isnull=True, created_at__lt=now - LATE_AFTER)


def _publish(message):
    if current_app.conf.task_always_eager:  # tests and one-process runs: at once, in this process
        # Its module registers the task (names are "module.function"); not the loader's
        # import_default_modules, which sets Django up again (logging reconfigured).
        importlib.import_module(message.task.rpartition(".")[0])
        current_app.tasks[message.task].apply(args=message.args)
        return
    # By name: the web process need not import the worker's task modules.
    current_app.send_task(message.task, args=message.args, retry=False, ignore_result=True)


def _failed(message, error, rest):
    now = timezone.now()
    attempts = message.attempts + 1
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=attempts, last_error=type(error).__name__, next_attempt_at=now + backoff(attempts)
    )
    if rest:  # not tried this round: they wait for the relay's next round
        OutboxMessage.objects.filter(pk__in=rest, delivered_at__isnull=True, next_attempt_at__lt=now).update(
            next_attempt_at=now + BACKOFF_FIRST
        )
    logger.warning("Broker unavailable (%s): %d queued work item(s) wait for the relay",
                   type(error).__name__, 1 + len(rest))
