"""A worker killed in the middle of its work (issue 19): nothing half-done, nothing done
twice, nothing waiting forever.

A real Celery worker (prefork, one child) runs as a separate process on its own
PostgreSQL database and Redis, as in production. The test kills

* the child running an import, in its writing phase (the OOM killer's way): the worker
  hands the task out again, the new child finds the old run's process gone and runs the
  import again from the start — the first run's transaction died with it;
* the whole worker in the middle of an import: a new worker starts, the tidy task (beat,
  every 5 minutes; called here) re-queues the job, and it imports once;
* the child running a chunk of the nightly scan (fanned out in 3 chunks): the chunk is
  handed out again and the run finishes; the stored reminders equal a dry run's, each once.
"""

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis as redis_client

from tests.e2e.test_separate_processes import EXAMPLE, MAKE_LEAD, Processes, datasheet_zip

ROOT = Path(__file__).resolve().parents[2]
COPIES = 300  # × 4 patients: an import of some seconds, so that it can be killed midway
PATIENTS = 4 * COPIES
QUEUE_JOB = (
    "from django.contrib.auth.models import User; from django.core.files.base import ContentFile; "
    "from reports.actions import import_job_queue; "
    "job = import_job_queue(actor=User.objects.get(username='lena'), "
    "upload_file=ContentFile(open('{archive}', 'rb').read(), name='cohort.zip')); print(job.pk)"
)
TIDY = "from reports.actions import import_jobs_tidy; print(import_jobs_tidy())"


@pytest.fixture
def world(tmp_path):
    """A database, a Redis broker/cache pair and a shared upload folder of the test's own."""
    name = "thalimon_faults"
    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
    for db in (5, 6):
        redis_client.Redis.from_url(f"{base}/{db}").flushdb()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE")},
        "DEBUG": "1", "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}", "REDIS_URL": f"{base}/5",
        "CACHE_URL": f"{base}/6", "MEDIA_ROOT": str(tmp_path / "uploads"), "PYTHONPATH": str(ROOT),
        "THALIMON_VAR_DIR": str(tmp_path / "var"),
    }
    processes = Processes(env)
    processes.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput"], tmp_path / "setup")
    processes.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", MAKE_LEAD], tmp_path / "setup")
    archive = tmp_path / "cohort.zip"
    archive.write_bytes(datasheet_zip(COPIES))
    world = {"processes": processes, "tmp": tmp_path, "archive": archive, "cache": f"{base}/6", "broker": f"{base}/5",
             "db": f"postgresql://postgres@127.0.0.1:5432/{name}"}
    yield world
    processes.stop()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _manage(world, *args):
    return world["processes"].run([sys.executable, str(ROOT / "manage.py"), *args], world["tmp"] / "setup")


def _start_worker(world, name):
    return world["processes"].start(
        name, [sys.executable, "-m", "celery", "-A", "thalimon", "worker", "--pool", "prefork", "--concurrency", "1",
               "--loglevel", "INFO", "--without-mingle", "--without-gossip"], world["tmp"] / name)


def _job(world, pk):
    with psycopg.connect(world["db"]) as db:
        row = db.execute("SELECT state, worker, attempts, counts, errors FROM reports_importjob WHERE id = %s",
                         [pk]).fetchone()
    return dict(zip(("state", "worker", "attempts", "counts", "errors"), row, strict=True))


def _phase(world, pk):
    """The running import's phase, as the job page reads it (the shared cache)."""
    raw = redis_client.Redis.from_url(world["cache"]).get(f":1:import-progress:{pk}")
    return pickle.loads(raw)["phase"] if raw else None


def _wait(condition, what, timeout=180, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f":\n{Path(log).read_text()[-3000:]}" if log else ""))


def _count(world, table):
    with psycopg.connect(world["db"]) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608  (a fixed table name)


def _finished_runs(world):
    with psycopg.connect(world["db"]) as db:
        return db.execute("SELECT COUNT(*) FROM safety_scanrun WHERE finished_at IS NOT NULL").fetchone()[0]


def _expected_visits():
    return (len((EXAMPLE / "visits.csv").read_text().splitlines()) - 1) * COPIES


def _queue_import(world):
    return int(_manage(world, "shell", "-c", QUEUE_JOB.format(archive=world["archive"])).strip().splitlines()[-1])


def _kill_while_writing(world, pk, kill, log):
    _wait(lambda: _phase(world, pk) == "writing", "the writing phase", log=log)
    worker = _job(world, pk)["worker"]
    kill(int(worker.rpartition(":")[2]))
    return worker


def test_an_import_whose_worker_child_is_killed_runs_again_and_imports_once(world):
    worker, log = _start_worker(world, "worker")
    pk = _queue_import(world)
    first = _kill_while_writing(world, pk, lambda pid: os.kill(pid, signal.SIGKILL), log)
    done = _wait(lambda: (j := _job(world, pk))["state"] in ("done", "failed", "invalid") and j, "the re-run", log=log)
    assert done["state"] == "done", done["errors"]
    assert done["attempts"] == 2 and done["worker"] != first
    assert done["counts"]["patients.csv"]["created"] == PATIENTS
    assert _count(world, "patients_patient") == PATIENTS and _count(world, "visits_visit") == _expected_visits()
    assert "running it again from the start" in log.read_text()
    assert worker.poll() is None


def test_an_import_whose_whole_worker_is_killed_is_requeued_by_the_tidy_task(world):
    worker, log = _start_worker(world, "worker")
    pk = _queue_import(world)
    _kill_while_writing(world, pk, lambda pid: os.killpg(worker.pid, signal.SIGKILL), log)
    worker.wait(timeout=10)
    assert _job(world, pk)["state"] == "running"  # as the dead worker left it
    assert _count(world, "patients_patient") == 0  # its transaction died with it
    second, second_log = _start_worker(world, "worker2")
    assert "'rerun': 1" in _manage(world, "shell", "-c", TIDY)
    done = _wait(lambda: (j := _job(world, pk))["state"] in ("done", "failed", "invalid") and j, "the re-run",
                 log=second_log)
    assert done["state"] == "done" and done["attempts"] == 2, done["errors"]
    assert _count(world, "patients_patient") == PATIENTS and _count(world, "visits_visit") == _expected_visits()
    assert "'rerun': 0" in _manage(world, "shell", "-c", TIDY)  # nothing left to re-run


def test_a_scan_whose_worker_child_is_killed_resumes_without_doubles(world):
    _manage(world, "import_datasheet", str(world["archive"]))
    with psycopg.connect(world["db"]) as db:
        db.execute("DELETE FROM safety_reminder")
        db.execute("DELETE FROM safety_historicalreminder")
    redis_client.Redis.from_url(world["broker"]).flushdb()  # the import's urgent emails: not this test's
    world["processes"].env["THALIMON_SCAN_CHUNK_PATIENTS"] = "400"  # the nightly scan in 3 chunks
    worker, log = _start_worker(world, "worker")
    _manage(world, "shell", "-c",
            "from safety.tasks import scan_all_reminders; scan_all_reminders.delay()")
    _wait(lambda: re.search(r"Task safety.tasks.scan_reminder_chunk\[\S+\] received", log.read_text()),
          "a chunk of the scan to start", log=log)
    time.sleep(0.3)
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    assert children, log.read_text()[-2000:]
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    # The chunk killed is handed out again (acks_late); the run finishes when its 3 chunks are done.
    _wait(lambda: _finished_runs(world) == 1, "the scan's chunks again", log=log)
    assert "WorkerLostError" in log.read_text()  # it was killed mid-scan, then handed out again
    dry = json.loads(_manage(world, "scan_reminders", "--dry-run", "--format", "json"))
    with psycopg.connect(world["db"]) as db:
        stored = db.execute(
            "SELECT p.code, r.kind, r.due, r.subject FROM safety_reminder r JOIN patients_patient p "
            "ON p.id = r.patient_id WHERE r.state IN ('open', 'acknowledged') AND r.due <= CURRENT_DATE"
        ).fetchall()
    assert dry, "the datasheet gives due reminders"
    assert sorted((r["patient"], r["kind"], r["due"], r["subject"]) for r in dry) == sorted(
        (code, kind, due.isoformat(), subject) for code, kind, due, subject in stored
    )
