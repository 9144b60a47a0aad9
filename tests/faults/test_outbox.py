"""The outbox itself: queued once per key, backoff, the relay's round, the admin's view."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from outbox.actions import BACKOFF_CAP, backoff, enqueue, late, relay
from outbox.models import OutboxMessage
from thalimon.roles import ADMIN, CLINIC_LEAD


@pytest.mark.parametrize("attempts, seconds", [(1, 15), (2, 30), (3, 60), (5, 240), (6, 480), (7, 600), (40, 600)])
def test_backoff_doubles_from_15_seconds_to_10_minutes(attempts, seconds):
    assert backoff(attempts) == timedelta(seconds=seconds) and backoff(attempts) <= BACKOFF_CAP


@pytest.mark.django_db(transaction=True)
def test_the_same_work_is_queued_once_and_run_once_in_eager_mode(settings):
    """Eager (tests, one-process runs): handed over at the commit and run there."""
    with transaction.atomic():
        enqueue("outbox.tasks.relay_outbox", key="test:1")
        enqueue("outbox.tasks.relay_outbox", key="test:1")
        assert OutboxMessage.objects.get().delivered_at is None  # not before the commit
    message = OutboxMessage.objects.get()
    assert message.delivered_at is not None and message.attempts == 1
    assert relay() == {"due": 0, "delivered": 0}


@pytest.mark.django_db
def test_late_work_is_listed_for_the_admin_and_nobody_else(client, user_for_role):
    now = timezone.now()
    OutboxMessage.objects.create(key="notify:alert:1", task="safety.tasks.notify_urgent_event", args=[1],
                                 next_attempt_at=now, attempts=4, last_error="OperationalError")
    OutboxMessage.objects.create(key="notify:alert:2", task="safety.tasks.notify_urgent_event", args=[2],
                                 next_attempt_at=now)
    OutboxMessage.objects.filter(key="notify:alert:1").update(created_at=now - timedelta(minutes=20))
    assert list(late().values_list("key", flat=True)) == ["notify:alert:1"]
    url = reverse("admin:outbox_outboxmessage_changelist") + "?state=late"
    client.force_login(user_for_role(ADMIN))
    page = client.get(url).content.decode()
    assert "notify:alert:1" in page and "OperationalError" in page and "notify:alert:2" not in page
    assert "Late" in page and "Urgent email to the responsible clinician" in page
    assert reverse("safety:alert_detail", args=[1]) in page  # to the event behind it
    assert client.post(reverse("admin:outbox_outboxmessage_delete", args=[1])).status_code == 403
    client.force_login(user_for_role(CLINIC_LEAD))
    assert client.get(url).status_code in (302, 403)
