"""The nightly scan fanned out in chunks (safety.fanout): every patient in exactly one
chunk; the same reminders as the single scan; a chunk that fails is retried alone;
a rerun creates nothing twice; the digest never goes out on a half-finished scan; a real
worker process runs it."""

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.db import OperationalError, connection
from django.utils import timezone

from safety import fanout
from safety.actions import rescans_deferred
from safety.models import Alert, Reminder, ScanChunk, ScanChunkState, ScanRun
from safety.scan import scan_reminders
from tests.safety.conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]


# --- the chunking: a pure function, from a table (no database) ------------------------------
@pytest.mark.parametrize(("ids", "size", "chunks"), [
    ([], 3, []),
    ([7], 3, [[7]]),
    ([1, 2, 3], 3, [[1, 2, 3]]),
    ([1, 2, 3, 4], 3, [[1, 2, 3], [4]]),
    ([1, 2, 3, 4, 5, 6], 3, [[1, 2, 3], [4, 5, 6]]),
    ([5, 9, 12, 40, 41], 2, [[5, 9], [12, 40], [41]]),
    ([5, 9, 12, 40, 41], 1, [[5], [9], [12], [40], [41]]),
    ([5, 9, 12], 2000, [[5, 9, 12]]),
])
def test_chunks_from_a_table(ids, size, chunks):
    assert fanout.split_into_chunks(ids, size) == chunks


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1999, 2000, 2001, 5000])
def test_every_id_is_in_exactly_one_chunk_of_at_most_size(size):
    ids = list(range(3, 4003, 1))  # 4,000 ids
    chunks = fanout.split_into_chunks(ids, size)
    assert [i for chunk in chunks for i in chunk] == ids  # each once, in order
    assert all(0 < len(chunk) <= size for chunk in chunks)
    assert len(chunks) == -(-len(ids) // size)


def test_a_chunk_of_no_patient_is_refused():
    with pytest.raises(ValueError):
        fanout.split_into_chunks([1, 2], 0)


# --- with the database -------------------------------------------------------------------------
@pytest.fixture
def clinic(make_patient, clinician, nurse):
    """Seven patients on thalidomide for 20 to 200 days, women of reproductive potential
    with tests missing and men, none scanned yet: reminders of several kinds, some
    overdue (escalated)."""
    from therapy import actions as therapy_actions
    from visits.actions import visit_record

    nurse.email = "noor@clinic.test"
    nurse.save()
    patients = []
    with rescans_deferred():
        for number, days in enumerate((20, 40, 70, 100, 130, 170, 200), start=1):
            start = TODAY - timedelta(days=days)
            sex = "F" if number % 2 else "M"
            extra = {"contraception_start": start - timedelta(days=40)} if sex == "F" else {}
            patient = make_patient(code=f"FO-{number:03d}", sex=sex, responsible_clinician=clinician,
                                   responsible_nurse=nurse, **extra)
            if sex == "F":
                for day in (-12, 0, 7):
                    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient,
                                                          date=start + timedelta(days=day), result="negative")
            therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=start,
                                               dose_mg=Decimal("25"), historical=True)
            visit_record(actor=clinician, patient=patient, date=start, neuropathy_grade=0,
                         contraception_confirmed=True)
            patients.append(patient)
    Reminder.objects.all().delete()
    Alert.objects.all().delete()
    return patients


def _stored():
    """What a scan leaves: every reminder and urgent event, by its natural key and state."""
    reminders = sorted(Reminder.objects.values_list("patient__code", "kind", "due", "subject", "state",
                                                    "escalated_to_id"))
    alerts = sorted(Alert.objects.values_list("patient__code", "kind", "source", "tier", "resolved_at"))
    return reminders, alerts


def _fanned_out(capture, *, chunk_size, task_id=""):
    with capture(execute=True):
        return fanout.scan_run_start(as_of=TODAY, chunk_size=chunk_size, task_id=task_id)


def test_the_fanned_out_scan_stores_exactly_what_the_single_scan_stores(
    clinic, django_capture_on_commit_callbacks
):
    scan_reminders(as_of=TODAY)
    single = _stored()
    assert len(single[0]) >= 10 and any(r[5] for r in single[0])  # several kinds, some escalated
    Reminder.objects.all().delete()
    Alert.objects.all().delete()
    run = _fanned_out(django_capture_on_commit_callbacks, chunk_size=3)
    assert _stored() == single
    run.refresh_from_db()
    chunks = list(run.chunks.order_by("index"))
    assert [len(c.patient_ids) for c in chunks] == [3, 3, 1]
    ids = [i for c in chunks for i in c.patient_ids]
    assert sorted(ids) == sorted(p.pk for p in clinic) and len(ids) == len(set(ids))  # each patient once
    assert run.finished_at is not None and {c.state for c in chunks} == {ScanChunkState.DONE}
    assert sum(c.counts["created"] for c in chunks) == len(single[0])


def test_a_failing_chunk_is_retried_alone(clinic, django_capture_on_commit_callbacks, monkeypatch):
    real, calls, failed = fanout.scan_reminders, [], []
    victim = clinic[3].pk  # in the second chunk of three

    def flaky(**kwargs):
        calls.append(tuple(kwargs["patient_ids"]))
        if victim in kwargs["patient_ids"] and not failed:
            failed.append(True)
            raise OperationalError("the database went away (injected)")
        return real(**kwargs)

    monkeypatch.setattr(fanout, "scan_reminders", flaky)
    run = _fanned_out(django_capture_on_commit_callbacks, chunk_size=3)
    chunks = {tuple(c.patient_ids): c for c in run.chunks.all()}
    retried = next(key for key in chunks if victim in key)
    assert calls.count(retried) == 2  # the failed chunk twice ...
    assert all(calls.count(key) == 1 for key in chunks if key != retried)  # ... every other once
    assert chunks[retried].attempts == 2 and all(c.attempts == 1 for k, c in chunks.items() if k != retried)
    assert {c.state for c in chunks.values()} == {ScanChunkState.DONE}
    run.refresh_from_db()
    assert run.finished_at is not None
    stored = _stored()
    Reminder.objects.all().delete()
    Alert.objects.all().delete()
    monkeypatch.setattr(fanout, "scan_reminders", real)
    scan_reminders(as_of=TODAY)
    assert _stored() == stored  # nothing lost, nothing twice


def test_a_chunk_whose_retries_are_exhausted_leaves_the_run_unfinished(
    clinic, django_capture_on_commit_callbacks, monkeypatch
):
    victim = clinic[0].pk

    def broken(**kwargs):
        if victim in kwargs["patient_ids"]:
            raise OperationalError("the database went away (injected)")
        return scan_reminders(**kwargs)

    monkeypatch.setattr(fanout, "scan_reminders", broken)
    run = _fanned_out(django_capture_on_commit_callbacks, chunk_size=3)
    chunk = run.chunks.get(index=0)
    assert chunk.state == ScanChunkState.FAILED and chunk.attempts == 6  # the try and 5 retries
    assert chunk.last_error == "OperationalError"
    assert set(run.chunks.exclude(index=0).values_list("state", flat=True)) == {ScanChunkState.DONE}
    run.refresh_from_db()
    assert run.finished_at is None


def test_a_rerun_creates_nothing_twice(clinic, django_capture_on_commit_callbacks):
    first = _fanned_out(django_capture_on_commit_callbacks, chunk_size=2)
    stored = _stored()
    second = _fanned_out(django_capture_on_commit_callbacks, chunk_size=3)
    assert _stored() == stored
    counts = [c.counts for c in second.chunks.all()]
    assert sum(c["created"] for c in counts) == 0 and sum(c["resolved"] for c in counts) == 0
    assert sum(c["patients"] for c in counts) == len(clinic)
    # A re-delivered chunk message does nothing; a re-delivered planning task plans nothing twice.
    assert fanout.scan_chunk(first.chunks.first().pk) == {"skipped": True}
    again = _fanned_out(django_capture_on_commit_callbacks, chunk_size=2, task_id="task-1")
    assert _fanned_out(django_capture_on_commit_callbacks, chunk_size=2, task_id="task-1") == again
    assert ScanChunk.objects.filter(run=again).count() == 4 and ScanRun.objects.count() == 3
    assert _stored() == stored


def test_runs_older_than_two_weeks_are_deleted_by_the_next_plan(clinic, django_capture_on_commit_callbacks):
    old, recent = (_fanned_out(django_capture_on_commit_callbacks, chunk_size=3) for _ in range(2))
    ScanRun.objects.filter(pk=old.pk).update(started_at=timezone.now() - timedelta(days=15))
    ScanRun.objects.filter(pk=recent.pk).update(started_at=timezone.now() - timedelta(days=13))
    latest = _fanned_out(django_capture_on_commit_callbacks, chunk_size=3)
    assert set(ScanRun.objects.values_list("pk", flat=True)) == {recent.pk, latest.pk}
    assert not ScanChunk.objects.filter(run_id=old.pk).exists()


def test_the_beat_task_plans_chunks_of_the_setting(clinic, settings, django_capture_on_commit_callbacks):
    from safety.tasks import scan_all_reminders

    settings.THALIMON_SCAN_CHUNK_PATIENTS = 4
    with django_capture_on_commit_callbacks(execute=True):
        result = scan_all_reminders.apply(args=[TODAY.isoformat()]).get()
    run = ScanRun.objects.get(pk=result["run"])
    assert run.chunk_size == 4 and run.chunks.count() == 2 and run.finished_at is not None
    assert Reminder.objects.exists()


def test_the_digest_waits_for_the_scan_and_goes_with_its_last_chunk(clinic, django_capture_on_commit_callbacks):
    from safety.tasks import send_daily_digests

    with django_capture_on_commit_callbacks(execute=False) as queued:  # planned; the chunks not run yet
        run = fanout.scan_run_start(as_of=TODAY, chunk_size=3)
    assert len(queued) == 3
    assert send_daily_digests.apply(args=[TODAY.isoformat()]).get() == {"waiting_for_scan": True}
    assert mail.outbox == []
    run.refresh_from_db()
    assert run.digest_waiting_since is not None
    with django_capture_on_commit_callbacks(execute=True):
        queued[0]()
        queued[1]()
    assert mail.outbox == []  # two chunks of three done: still waiting
    with django_capture_on_commit_callbacks(execute=True):
        queued[2]()  # the last chunk: finishes the run and releases the digest
    run.refresh_from_db()
    assert run.finished_at is not None and run.digest_waiting_since is None
    assert len(mail.outbox) == 1 and "noor@clinic.test" in mail.outbox[0].to
    due = Reminder.objects.filter(due__lte=TODAY, state="open").select_related("patient")
    assert due and all(r.patient.code in mail.outbox[0].body for r in due)  # the whole scan's reminders
    # The next morning's beat digest of a finished scan goes at once (once a day per recipient).
    assert send_daily_digests.apply(args=[TODAY.isoformat()]).get()["skipped"] == 1


def test_a_digest_waits_at_most_the_setting_then_goes(clinic, settings, django_capture_on_commit_callbacks, caplog):
    from safety.tasks import retry_failed_digests, send_daily_digests

    settings.THALIMON_DIGEST_WAIT_MINUTES = 120
    scan_reminders(as_of=TODAY)  # what an earlier scan stored
    with django_capture_on_commit_callbacks(execute=False):  # a scan whose chunks never run
        run = fanout.scan_run_start(as_of=TODAY, chunk_size=3)
    assert send_daily_digests.apply(args=[TODAY.isoformat()]).get() == {"waiting_for_scan": True}
    with django_capture_on_commit_callbacks(execute=True):
        retry_failed_digests.apply().get()
    assert mail.outbox == []  # not waited long enough
    ScanRun.objects.filter(pk=run.pk).update(digest_waiting_since=timezone.now() - timedelta(minutes=121))
    with caplog.at_level(logging.ERROR, logger="safety.fanout"), django_capture_on_commit_callbacks(execute=True):
        retry_failed_digests.apply().get()
    assert len(mail.outbox) == 1
    assert f"Reminder scan {run.pk} as of {TODAY} is unfinished (chunks [0, 1, 2])" in caplog.text


def test_the_command_is_not_fanned_out(clinic):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("scan_reminders", "--as-of", TODAY.isoformat(), stdout=out)
    assert not ScanRun.objects.exists()
    assert out.getvalue().rstrip().endswith(f"for {len(clinic)} patients ({Reminder.objects.count()} created, "
                                            f"0 auto-resolved, {Reminder.objects.exclude(escalated_at=None).count()}"
                                            " escalated).")


# --- a real worker process ------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_runs_the_chunks(clinic, tmp_path):
    """A ``celery worker`` process (prefork, two children) on the real Redis runs the beat's
    task; it plans four chunks and the children run them; the run is finished and what is
    stored is what the single scan stores."""
    broker = os.environ.get("REDIS_URL")
    assert broker and broker.startswith("redis://"), "the tests run with REDIS_URL set to the real Redis"
    scan_reminders(as_of=TODAY)
    single = _stored()
    Reminder.objects.all().delete()
    Alert.objects.all().delete()
    database = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE")},
        "DEBUG": "1", "REDIS_URL": broker, "PYTHONPATH": str(ROOT), "THALIMON_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
                        f"/{database['NAME']}",
        "THALIMON_SCAN_CHUNK_PATIENTS": "2",
    }
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "thalimon", "worker", "--pool", "prefork", "--concurrency", "2",
         "--loglevel", "INFO", "--without-mingle", "--without-gossip", "--hostname", f"fanout{os.getpid()}@%h"],
        cwd=tmp_path, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        queued = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c",
             f"from safety.tasks import scan_all_reminders; scan_all_reminders.delay('{TODAY.isoformat()}')"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert queued.returncode == 0, queued.stderr[-2000:]
        deadline = time.monotonic() + 120
        while not ScanRun.objects.filter(finished_at__isnull=False).exists():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
    run = ScanRun.objects.get()
    assert run.chunks.count() == 4 and set(run.chunks.values_list("state", flat=True)) == {ScanChunkState.DONE}
    assert _stored() == single
    text = log.read_text()
    assert text.count("Task safety.tasks.scan_reminder_chunk[") >= 8  # received and succeeded, each of 4
    assert len(set(run.chunks.values_list("attempts", flat=True))) == 1


def test_the_admin_lists_runs_with_their_chunks_in_a_fixed_number_of_queries(
    clinic, client, django_user_model, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from django.urls import reverse

    admin = django_user_model.objects.create_superuser("root", "root@clinic.test", "a-long-test-password-123")
    client.force_login(admin)
    url = reverse("admin:safety_scanrun_changelist")
    _fanned_out(django_capture_on_commit_callbacks, chunk_size=3)
    with django_capture_on_commit_callbacks(execute=False):  # planned, never run
        fanout.scan_run_start(as_of=TODAY, chunk_size=2)
    with django_assert_max_num_queries(15) as few:
        page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "3 of 3" in text and "0 of 4" in text
    for _ in range(5):
        _fanned_out(django_capture_on_commit_callbacks, chunk_size=1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200
