"""A real Celery worker on the real Redis runs the scan end to end; the digest
email is received by a real SMTP server on loopback and carries no names."""

import os
import socket
import time
from datetime import timedelta

import pytest
from django.core import mail

from tests.safety.conftest import START, TODAY

pytestmark = pytest.mark.django_db(transaction=True)


def test_real_worker_on_redis_runs_the_scan(on_thalidomide):
    from celery.contrib.testing.worker import start_worker

    from safety.models import Reminder
    from safety.tasks import scan_all_reminders
    from thalimon.celery import app

    broker = os.environ.get("REDIS_URL")
    assert broker and broker.startswith("redis://"), "make test sets REDIS_URL to the real Redis"
    Reminder.objects.all().delete()  # the fixture's own writes already rescanned on commit
    app.conf.update(task_always_eager=False, broker_url=broker)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            scan_all_reminders.delay(TODAY.isoformat())  # no result is stored: its effect is read
            deadline = time.monotonic() + 60
            while not Reminder.objects.exists():
                assert time.monotonic() < deadline, "the worker did not run the scan"
                time.sleep(0.2)
    finally:
        app.conf.task_always_eager = True
    assert Reminder.objects.filter(kind="pregnancy_test_due", due=START + timedelta(days=28)).exists()


class _Recorder:
    """aiosmtpd handler: keeps every message; refuses one recipient."""

    def __init__(self, refuse):
        self.messages = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted"


def test_digest_reaches_a_real_smtp_server_without_names(on_thalidomide, nurse, make_user, settings):
    from aiosmtpd.controller import Controller

    from safety.digest import send_digests
    from safety.scan import scan_reminders
    from thalimon.roles import NURSE

    nurse.email = "noor@clinic.example"
    nurse.save()
    # A patient without a named nurse: her reminders go to every nurse.
    on_thalidomide.responsible_nurse = None
    on_thalidomide.save()
    broken = make_user(NURSE, username="broken", email="nobody@clinic.example")
    other = make_user(NURSE, username="other", email="other@clinic.example")
    del broken, other
    scan_reminders(as_of=TODAY)

    recorder = _Recorder(refuse="nobody@clinic.example")
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        mail.outbox = []
        result = send_digests(as_of=TODAY)
    finally:
        controller.stop()
    recipients = sorted(r for rcpts, _ in recorder.messages for r in rcpts)
    # The refused recipient (second in line) failed; the third still got hers.
    assert result == {"sent": 2, "failed": 1, "skipped": 0}
    assert recipients == ["noor@clinic.example", "other@clinic.example"]
    noor = next(body for rcpts, body in recorder.messages if "noor@clinic.example" in rcpts)
    assert "GI-1000" in noor and "Pregnancy test due" in noor
    assert "Zed Fictional" not in noor  # the patient's name never leaves the app
    assert "negative" not in noor.lower()
