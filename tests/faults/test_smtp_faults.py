"""SMTP faults (issue 19): the digest and the urgent emails are retried with backoff and
never sent twice, against a real SMTP server on loopback that refuses, goes down, comes
back, or is left mid-message by a worker that dies."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests.safety.conftest import TODAY, on_thalidomide, woman_on_thalidomide  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

NOON = timezone.make_aware(datetime.combine(TODAY, time(12)))  # the runs' clock: no midnight in between
ROOT = Path(__file__).resolve().parents[2]


class _Mailbox:
    """aiosmtpd handler: keeps every accepted message; can refuse DATA for everyone
    (451, a server in trouble), refuse some recipients (451 at RCPT), stall a recipient's
    DATA (a worker that dies mid-send), or take its time (to make senders overlap)."""

    def __init__(self):
        self.messages = []
        self.refuse_data = False
        self.refuse_rcpt = set()
        self.stall_rcpt = set()
        self.stalled = threading.Event()
        self.delay = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return "451 4.3.0 try again later"
        if self.stall_rcpt.intersection(envelope.rcpt_tos):
            self.stalled.set()
            await asyncio.sleep(60)  # the sender is killed meanwhile
            return "451 4.3.0 too late"
        await asyncio.sleep(self.delay)
        self.messages.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def received(self):
        return sorted(address for rcpts in self.messages for address in rcpts)


class _SmtpServer:
    def __init__(self, port):
        self.mailbox = _Mailbox()
        self.port = port
        self._controller = None
        self.running = False

    def start(self):
        from aiosmtpd.controller import Controller

        if self.running:
            return
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        self.running = True

    def stop(self):
        """Down: connections to its port are refused."""
        if self.running:
            self._controller.stop()
            self.running = False


@pytest.fixture
def smtp(settings):
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _SmtpServer(port)
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def three_nurses(on_thalidomide, nurse, make_user):  # noqa: F811 (the imported fixture)
    """A patient without a named nurse with a due reminder: all three nurses get a digest,
    in the order of their ids."""
    from safety.scan import scan_reminders
    from thalimon.roles import NURSE

    nurse.email = "one@clinic.example"
    nurse.save()
    on_thalidomide.responsible_nurse = None
    on_thalidomide.save()
    users = [nurse, make_user(NURSE, email="two@clinic.example"), make_user(NURSE, email="three@clinic.example")]
    scan_reminders(as_of=TODAY)
    return users


ADDRESSES = ["one@clinic.example", "three@clinic.example", "two@clinic.example"]


def _deliveries():
    from safety.models import DigestDelivery

    return {d.user.email: d for d in DigestDelivery.objects.select_related("user").filter(day=TODAY)}


# --- (a) SMTP down or refusing, then back: failed with backoff, then one email each -----------------
@pytest.mark.parametrize("fault", ["connection refused", "451 on DATA"])
def test_digest_failed_while_smtp_is_down_goes_once_with_backoff_when_it_is_back(smtp, three_nurses, fault):
    from safety.digest import retry_digests, send_digests
    from safety.models import DigestState

    if fault == "connection refused":
        smtp.stop()
    else:
        smtp.mailbox.refuse_data = True
    assert send_digests(as_of=TODAY, now=NOON) == {"sent": 0, "failed": 3, "skipped": 0}
    rows = _deliveries()
    assert sorted(rows) == ADDRESSES and smtp.mailbox.messages == []
    for row in rows.values():
        assert (row.state, row.attempts, row.next_attempt_at) == (DigestState.FAILED, 1, NOON + timedelta(minutes=5))
        assert row.last_error == ("ConnectionRefusedError" if fault == "connection refused" else "SMTPDataError")

    # Before the backoff has passed the retry does nothing; still down, the wait doubles.
    assert retry_digests(now=NOON + timedelta(minutes=4)) == {"sent": 0, "failed": 0, "skipped": 0}
    assert retry_digests(now=NOON + timedelta(minutes=5)) == {"sent": 0, "failed": 3, "skipped": 0}
    assert {(r.attempts, r.next_attempt_at) for r in _deliveries().values()} == {(2, NOON + timedelta(minutes=15))}

    smtp.mailbox.refuse_data = False
    smtp.start()
    assert retry_digests(now=NOON + timedelta(minutes=14)) == {"sent": 0, "failed": 0, "skipped": 0}
    assert retry_digests(now=NOON + timedelta(minutes=15)) == {"sent": 3, "failed": 0, "skipped": 0}
    assert smtp.mailbox.received() == ADDRESSES
    assert {(r.state, r.attempts, r.last_error) for r in _deliveries().values()} == {(DigestState.SENT, 3, "")}
    # Nothing more goes today: not by the retry, not by the daily task delivered again.
    assert retry_digests(now=NOON + timedelta(hours=3)) == {"sent": 0, "failed": 0, "skipped": 0}
    assert send_digests(as_of=TODAY, now=NOON + timedelta(hours=3)) == {"sent": 0, "failed": 0, "skipped": 3}
    assert smtp.mailbox.received() == ADDRESSES


def test_the_backoff_doubles_to_two_hours_at_most():
    from safety.digest import digest_backoff

    assert [digest_backoff(n) for n in range(1, 8)] == [
        timedelta(minutes=m) for m in (5, 10, 20, 40, 80, 120, 120)
    ]


def test_the_retry_task_is_on_the_beat(settings):
    from safety.tasks import retry_failed_digests

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == retry_failed_digests.name]
    assert len(entries) == 1 and entries[0]["schedule"] <= 10 * 60


def test_the_retry_task_sends_what_failed(smtp, three_nurses):
    from safety.digest import send_digests
    from safety.models import DigestDelivery
    from safety.tasks import retry_failed_digests

    smtp.mailbox.refuse_rcpt = {"two@clinic.example"}
    assert send_digests(as_of=TODAY) == {"sent": 2, "failed": 1, "skipped": 0}
    smtp.mailbox.refuse_rcpt = set()
    assert retry_failed_digests.delay().get() == {"sent": 0, "failed": 0, "skipped": 0}  # backoff not over
    DigestDelivery.objects.filter(state="failed").update(next_attempt_at=timezone.now())  # 5 minutes later
    assert retry_failed_digests.delay().get() == {"sent": 1, "failed": 0, "skipped": 0}
    assert smtp.mailbox.received() == ADDRESSES


# --- (b) the daily task delivered twice (acks_late) or run twice at once -------------------------
def test_digest_run_twice_the_same_day_sends_each_recipient_once(smtp, three_nurses):
    from safety.digest import send_digests

    assert send_digests(as_of=TODAY) == {"sent": 3, "failed": 0, "skipped": 0}
    assert send_digests(as_of=TODAY) == {"sent": 0, "failed": 0, "skipped": 3}
    assert smtp.mailbox.received() == ADDRESSES


def test_two_digest_runs_at_once_send_each_recipient_once(smtp, three_nurses):
    from safety.digest import send_digests

    smtp.mailbox.delay = 0.3  # the runs overlap while the emails go
    results = _at_once(lambda: send_digests(as_of=TODAY), lambda: send_digests(as_of=TODAY))
    assert smtp.mailbox.received() == ADDRESSES
    assert sum(r["sent"] for r in results) == 3 and sum(r["skipped"] for r in results) == 3


def test_the_digest_costs_a_fixed_number_of_queries_per_recipient(smtp, three_nurses, make_user,
                                                                  django_assert_max_num_queries):
    from safety.digest import send_digests
    from thalimon.roles import NURSE

    for n in range(5):
        make_user(NURSE, email=f"more{n}@clinic.example")
    # 7 reads (one of them the recipients' languages: issue 17; one their sites, for all of them:
    # issue 18) and 1 tidy-up; per recipient the claim (its own committed transaction) and the mark.
    with django_assert_max_num_queries(8 + 4 * 8):
        assert send_digests(as_of=TODAY)["sent"] == 8
    with django_assert_max_num_queries(8):  # re-delivered: nothing claimed, nothing sent
        assert send_digests(as_of=TODAY)["skipped"] == 8


# --- (c) a fault or a crash between recipients ------------------------------------------------------
def test_a_recipient_refused_mid_run_is_retried_alone(smtp, three_nurses):
    from safety.digest import retry_digests, send_digests

    smtp.mailbox.refuse_rcpt = {"two@clinic.example"}
    assert send_digests(as_of=TODAY, now=NOON) == {"sent": 2, "failed": 1, "skipped": 0}
    assert _deliveries()["two@clinic.example"].last_error == "SMTPRecipientsRefused"
    # The task delivered again at once: the first two are not sent twice, the third waits.
    assert send_digests(as_of=TODAY, now=NOON + timedelta(minutes=1)) == {"sent": 0, "failed": 0, "skipped": 3}
    smtp.mailbox.refuse_rcpt = set()
    assert retry_digests(now=NOON + timedelta(minutes=5)) == {"sent": 1, "failed": 0, "skipped": 0}
    assert smtp.mailbox.received() == ADDRESSES


def test_a_worker_killed_mid_send_resumes_without_doubles(smtp, three_nurses):
    """A real process sends the digest and is killed (SIGKILL) while the second email is in
    the middle of its DATA: the first is not sent again; the second, left 'sending', is taken
    up once the claim is stale (15 minutes); the third goes with the re-delivered task."""
    from safety.digest import retry_digests, send_digests
    from safety.models import DigestState

    smtp.mailbox.stall_rcpt = {"two@clinic.example"}
    worker = _digest_process(smtp.port)
    try:
        assert smtp.mailbox.stalled.wait(60), "the worker never reached the second recipient"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    rows = _deliveries()
    assert rows["one@clinic.example"].state == DigestState.SENT
    assert rows["two@clinic.example"].state == DigestState.SENDING
    assert "three@clinic.example" not in rows
    smtp.mailbox.stall_rcpt = set()
    claimed_until = rows["two@clinic.example"].next_attempt_at
    # The task re-delivered: the second is still claimed (it may yet be going), the third goes.
    assert send_digests(as_of=TODAY) == {"sent": 1, "failed": 0, "skipped": 2}
    assert retry_digests(now=claimed_until - timedelta(seconds=1))["sent"] == 0
    assert retry_digests(now=claimed_until) == {"sent": 1, "failed": 0, "skipped": 0}
    assert smtp.mailbox.received() == ADDRESSES
    assert _deliveries()["two@clinic.example"].attempts == 2


def _digest_process(smtp_port):
    """``send_digests`` in a separate Python process on the test database and this SMTP server."""
    db = connection.settings_dict
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "thalimon.settings", "DEBUG": "1",
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
    }
    code = ("import django; django.setup(); from datetime import date; from safety.digest import send_digests; "
            f"send_digests(as_of=date.fromisoformat('{TODAY.isoformat()}'))")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- (d) urgent emails ----------------------------------------------------------------------------------
@pytest.fixture
def urgent_event(smtp, nurse, woman_on_thalidomide):  # noqa: F811 (the imported fixture)
    """A positive pregnancy test recorded while the SMTP server is down: the email at commit
    fails (and its retries), the event stays unnotified."""
    from safety.models import Alert
    from therapy import actions as therapy_actions

    smtp.stop()
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman_on_thalidomide, date=TODAY, result="positive")
    alert = Alert.objects.get(kind="positive_pregnancy_test")
    assert alert.notified_at is None and smtp.mailbox.messages == []
    Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(minutes=5))  # the sweep's age
    return alert


def test_an_urgent_email_refused_then_accepted_goes_once_by_the_sweep(smtp, urgent_event):
    from safety.models import Alert
    from safety.tasks import send_pending_urgent_notifications

    assert send_pending_urgent_notifications() == {"sent": 0, "failed": 1}
    smtp.start()
    smtp.mailbox.refuse_data = True  # back, but refusing for now
    assert send_pending_urgent_notifications() == {"sent": 0, "failed": 1}
    assert Alert.objects.get(pk=urgent_event.pk).notified_at is None
    smtp.mailbox.refuse_data = False
    assert send_pending_urgent_notifications() == {"sent": 1, "failed": 0}
    assert send_pending_urgent_notifications() == {"sent": 0, "failed": 0}
    assert smtp.mailbox.received() == ["carla@clinic.test"]
    assert Alert.objects.get(pk=urgent_event.pk).notified_at is not None


def test_two_urgent_senders_at_once_send_one_email(smtp, urgent_event):
    from safety.digest import send_urgent_notification
    from safety.tasks import send_pending_urgent_notifications

    smtp.start()
    smtp.mailbox.delay = 0.5  # the first sender holds the row while its email goes
    results = _at_once(lambda: send_urgent_notification(urgent_event.pk), send_pending_urgent_notifications)
    assert smtp.mailbox.received() == ["carla@clinic.test"]
    one_by_one, sweep = results
    assert (one_by_one == "sent to 1") + sweep["sent"] == 1 and sweep["failed"] == 0
    assert send_pending_urgent_notifications() == {"sent": 0, "failed": 0}
    assert smtp.mailbox.received() == ["carla@clinic.test"]


def test_the_sweep_stops_at_a_dead_server(smtp, urgent_event, make_patient, clinician):
    """Two pending emails and no server: one connection attempt, the next sweep tries again."""
    from safety.digest import send_pending_urgent
    from safety.models import Alert

    second = Alert.objects.create(
        patient=make_patient(code="SL-0002", responsible_clinician=clinician), kind="positive_pregnancy_test",
        tier="urgent", source="test:2", date=TODAY, rule="R5.2", reason="test",
    )
    Alert.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert send_pending_urgent() == {"sent": 0, "failed": 1}
    smtp.start()
    assert send_pending_urgent() == {"sent": 2, "failed": 0}
    assert len(smtp.mailbox.messages) == 2


def _at_once(*calls):
    """Run the calls in threads started together (each on its own database connection)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait(10)
            results[index] = call()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_the_admin_lists_failed_deliveries_read_only(client, smtp, three_nurses, django_user_model):
    from safety.digest import send_digests

    smtp.mailbox.refuse_rcpt = {"two@clinic.example"}
    send_digests(as_of=TODAY)
    root = django_user_model.objects.create_superuser("root", "root@x.test", "a-long-test-password-123")
    client.force_login(root)
    page = client.get("/admin/safety/digestdelivery/?delivery=unsent").content.decode()
    assert page.count("SMTPRecipientsRefused") == 1 and "1 digest delivery" in page
    assert client.get("/admin/safety/digestdelivery/add/").status_code == 403
    row = _deliveries()["two@clinic.example"]
    client.post(f"/admin/safety/digestdelivery/{row.pk}/change/", {"state": "sent"})
    assert _deliveries()["two@clinic.example"].state == "failed"
