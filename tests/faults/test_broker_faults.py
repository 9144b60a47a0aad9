"""The broker (Redis) down while clinicians save (a visit, labs, a pregnancy test, a dose
change, an adverse event): each save answers normally and at once,
its follow-up work waits in the outbox, and is done once the broker is back (issue 19).

Redis is reached through a ``FaultProxy`` the test cuts and restores; the urgent emails
go through a real Celery worker (solo pool, in this process) on that broker. The saves
are the pages' own POSTs, committed (``transaction=True``), as in production.
"""

import os
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from outbox.actions import relay
from outbox.models import OutboxMessage
from safety.models import AdverseEvent, Alert, Reminder
from tests.faults.proxy import FaultProxy
from therapy import actions as therapy_actions
from therapy.models import DoseChange, PregnancyTest
from visits.models import LabResult, Visit

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = timezone.localdate()
START = TODAY - timedelta(days=20)
SAVE_SECONDS = 3  # a save never waits on the broker (one try, no retries; before: ~19 s, then an error)


@pytest.fixture
def broker(settings):
    """The app's broker behind a proxy; the app's connection pools rebuilt for it."""
    from thalimon.celery import app

    real = os.environ["REDIS_URL"]
    host_port, _, db = real.removeprefix("redis://").partition("/")
    proxy = FaultProxy(int(host_port.rsplit(":", 1)[1])).start()
    saved = dict(app.conf.items())
    app.conf.update(task_always_eager=False, broker_url=f"redis://127.0.0.1:{proxy.port}/{db or 0}",
                    broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 1,
                                              "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
                    broker_connection_timeout=2, task_ignore_result=True, result_backend=None)
    app._pool = None
    app.amqp._producer_pool = None
    yield proxy
    proxy.cut()
    app.conf.update(**{k: saved[k] for k in ("task_always_eager", "broker_url", "broker_transport_options",
                                              "broker_connection_timeout", "task_ignore_result", "result_backend")})
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def patient(make_patient, clinician, nurse):
    clinician.email, nurse.email = "carla@clinic.test", "noor@clinic.test"
    clinician.save(), nurse.save()
    woman = make_patient(code="BF-0001", sex="F", contraception_start=START - timedelta(days=40),
                         responsible_clinician=clinician, responsible_nurse=nurse)
    for day in (-12, 0, 7, 14):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=START + timedelta(days=day),
                                              result="negative")
    therapy_actions.dose_change_record(actor=clinician, patient=woman, drug="thalidomide", date=START,
                                       dose_mg=Decimal("25"), historical=True)
    therapy_actions.dose_change_record(actor=clinician, patient=woman, drug="azathioprine",
                                       date=START - timedelta(days=60), dose_mg=Decimal("100"), historical=True)
    return woman


def _timed_post(client, url, data):
    began = time.monotonic()
    response = client.post(url, data)
    return response, time.monotonic() - began


def test_saves_answer_normally_with_the_broker_down_and_their_work_is_done_after(
    client, broker, patient, nurse, clinician
):
    from celery.contrib.testing.worker import start_worker

    from thalimon.celery import app

    mail.outbox.clear()
    broker.cut()
    # A nurse records a positive pregnancy test (an urgent event, emailed at once normally).
    client.force_login(nurse)
    response, seconds = _timed_post(client, reverse("therapy:pregnancy_test_create", args=[patient.code]),
                                    {"date": TODAY.isoformat(), "result": "positive"})
    assert response.status_code == 302 and seconds < SAVE_SECONDS
    assert PregnancyTest.objects.filter(patient=patient, date=TODAY, result="positive").exists()
    # A clinician records a visit with grade 3 neuropathy on thalidomide (urgent), withhold-level
    # labs (urgent), a dose change and an adverse event.
    client.force_login(clinician)
    response, seconds = _timed_post(client, reverse("visits:create", args=[patient.code]), {
        "date": TODAY.isoformat(), "contact": "clinic", "weight_kg": "70", "cdai_stools": "10", "cdai_pain": "4",
        "cdai_wellbeing": "6", "cdai_antidiarrheal": "false", "cdai_mass": "0", "hematocrit": "44",
        "neuropathy_grade": "3", "contraception_confirmed": "true",
    })
    assert response.status_code == 302 and seconds < SAVE_SECONDS
    assert Visit.objects.filter(patient=patient, date=TODAY, neuropathy_grade=3).exists()
    response, seconds = _timed_post(client, reverse("visits:lab_create", args=[patient.code]),
                                    {"date": TODAY.isoformat(), "lab_wbc": "2.2"})
    assert response.status_code == 302 and seconds < SAVE_SECONDS
    assert LabResult.objects.filter(patient=patient, date=TODAY, test="wbc").exists()
    response, seconds = _timed_post(client, reverse("therapy:dose_change", args=[patient.code]),
                                    {"drug": "azathioprine", "date": TODAY.isoformat(), "dose_mg": "0",
                                     "reason": "WBC 2.2: withheld"})
    assert response.status_code in (200, 302) and seconds < SAVE_SECONDS
    response, seconds = _timed_post(client, reverse("safety:ae_create", args=[patient.code]),
                                    {"term": "somnolence", "onset": TODAY.isoformat(), "grade": "2",
                                     "drug": "thalidomide", "action_thalidomide": "none",
                                     "action_azathioprine": "none"})
    assert response.status_code == 302 and seconds < SAVE_SECONDS
    assert AdverseEvent.objects.filter(patient=patient, term="somnolence").exists()
    # The reminders came with the saves (the rescan is in their transaction) ...
    assert Reminder.objects.filter(patient=patient).exists()
    # ... the urgent emails wait in the outbox, one per event, none sent.
    # (The withhold-level WBC event was raised, then resolved by the data when AZA was stopped.)
    raised = list(Alert.objects.filter(patient=patient, tier__in=("urgent", "withhold")))
    assert {a.kind for a in raised} == {"positive_pregnancy_test", "lab", "neuropathy_grade3_on_thalidomide"}
    urgent = [a for a in raised if a.resolved_at is None]
    assert sorted(a.kind for a in urgent) == ["neuropathy_grade3_on_thalidomide", "positive_pregnancy_test"]
    waiting = OutboxMessage.objects.filter(delivered_at=None)
    assert sorted(waiting.values_list("key", flat=True)) == sorted(f"notify:alert:{a.pk}" for a in raised)
    assert all(m.attempts == 1 and m.last_error for m in waiting)
    assert mail.outbox == [] and all(a.notified_at is None for a in urgent)

    # The relay's round while the broker is still down: nothing lost, nothing raised.
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert relay() == {"due": len(raised), "delivered": 0}

    broker.restore()
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        assert relay() == {"due": len(raised), "delivered": len(raised)}
        deadline = time.monotonic() + 30
        while Alert.objects.filter(pk__in=[a.pk for a in urgent], notified_at=None).exists():
            assert time.monotonic() < deadline, "the urgent emails were not sent after the broker came back"
            time.sleep(0.2)
        assert relay() == {"due": 0, "delivered": 0}  # delivered once
    assert len(mail.outbox) == len(urgent)
    assert all("URGENT" in m.subject and patient.code in m.subject for m in mail.outbox)
    assert DoseChange.objects.filter(patient=patient, drug="azathioprine", date=TODAY).count() <= 1


def test_a_rolled_back_save_queues_nothing(broker, patient, nurse):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="positive")
        raise RuntimeError("the save failed after the event was found")
    assert not OutboxMessage.objects.exists() and not Alert.objects.filter(kind="positive_pregnancy_test").exists()


def test_the_web_hands_work_over_at_once_when_the_broker_is_up(broker, patient, nurse):
    from celery.contrib.testing.worker import start_worker

    from thalimon.celery import app

    mail.outbox.clear()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="positive")
        message = OutboxMessage.objects.get()
        assert message.delivered_at is not None and message.attempts == 1  # no relay needed
        deadline = time.monotonic() + 30
        while not mail.outbox:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert len(mail.outbox) == 1
