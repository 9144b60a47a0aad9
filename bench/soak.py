"""Soak: the 50-user clinic load for 10 minutes with a real worker and beat, during which
Redis is restarted once and the worker killed once (issue 19).

    python bench/soak.py [--users 50] [--seconds 600]

The topology is production's (as docker-compose.yml runs it), each process on its own:
gunicorn × 4 (HTTPS, DEBUG off), a Celery worker (prefork, 2 children) and beat, on
PostgreSQL (a copy of the 10,000-patient benchmark database, dropped at the end) and a
Redis server of the soak's
own (broker and cache; it keeps nothing on disk, so its restart loses what it held, as a
real one does). Locust runs the clinic profile plus clinicians recording lab results.

Faults: at 1/3 of the run Redis is killed and started again 5 s later; at 2/3 an import
is queued and the whole worker is killed (SIGKILL) 3 s later, a new one starting 10 s
after (as a supervisor restarts it). Figures: writes acknowledged and lost (each
acknowledged write looked up), reminders missed or extra (a dry-run scan against the
stored open reminders), jobs stuck, queued work left, errors and p95 inside and outside
the fault windows (a window: from the fault to 30 s after its repair).
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, print_table, setup
from load import PORT, bench_accounts, self_signed_certificate, wait_for_server

WINDOW_AFTER = 30  # seconds after a repair still counted inside its fault window


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Soak:
    def __init__(self, folder, users, seconds):
        self.folder, self.users, self.seconds = Path(folder), users, seconds
        self.redis_port = free_port()
        self.processes = {}
        self.windows = []
        self.events = []
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "CELERY_TASK_ALWAYS_EAGER"},
            "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0", "CACHE_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            # The benchmark accounts have no TOTP device: the second factor is not asked
            # (its cost per page is one session check of the middleware).
            "TWO_FACTOR_REQUIRED": "0", "EMAIL_URL": "dummymail://", "LOG_LEVEL": "WARNING", "MEDIA_ROOT": str(self.folder / "uploads"),
            "THALIMON_VAR_DIR": str(self.folder / "var"), "PYTHONPATH": str(ROOT),
        }

    # --- processes -------------------------------------------------------------------
    def start(self, name, args):
        log = (self.folder / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def kill(self, name):
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def start_redis(self):
        self.start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"])
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", self.redis_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def start_worker(self):
        self.start("worker", [sys.executable, "-m", "celery", "-A", "thalimon", "worker", "--pool", "prefork",
                              "--concurrency", "2", "--loglevel", "WARNING"])

    def manage(self, *args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=600)
        if done.returncode:
            raise SystemExit(done.stderr[-3000:])
        return done.stdout

    def stop_all(self):
        for name in list(self.processes):
            process = self.processes.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)

    # --- faults ------------------------------------------------------------------------
    def faults(self, began):
        """Redis restart at 1/3, an import and a worker kill at 2/3 of the measured run."""
        ramp = self.users  # locust adds one user a second; measuring starts once all are in
        time.sleep(max(0, began + ramp + self.seconds / 3 - time.time()))
        start = time.time()
        self.kill("redis")
        time.sleep(5)
        self.start_redis()
        self.windows.append(("Redis restarted", start, time.time() + WINDOW_AFTER))
        time.sleep(max(0, began + ramp + 2 * self.seconds / 3 - time.time()))
        start = time.time()
        self.manage("shell", "-c", QUEUE_IMPORT.format(archive=self.folder / "import.zip"))
        time.sleep(3)
        self.kill("worker")
        time.sleep(10)
        self.start_worker()
        self.windows.append(("worker killed", start, time.time() + WINDOW_AFTER))


QUEUE_IMPORT = (
    "from django.contrib.auth.models import User; from django.core.files.base import ContentFile; "
    "from reports.actions import import_job_queue; "
    "import_job_queue(actor=User.objects.get(username='bench-lead'), "
    "upload_file=ContentFile(open('{archive}', 'rb').read(), name='soak.zip'))"
)
CHECKS = """
import json
from outbox.models import OutboxMessage
from patients.models import Patient
from reports.models import ImportJob
from safety.models import OPEN_STATES, Reminder
from safety.scan import scan_reminders
from django.utils import timezone
from visits.models import LabResult
writes = [json.loads(line)["write"] for line in open('{log}') if '"write"' in line]
codes = dict(Patient.objects.filter(code__in={{w[0] for w in writes}}).values_list("code", "pk"))
stored = set(LabResult.objects.filter(test="wbc", patient_id__in=codes.values()).values_list("patient__code", "date", "value"))
from datetime import date
from decimal import Decimal
lost = [w for w in writes if (w[0], date.fromisoformat(w[1]), Decimal(w[2])) not in stored]
today = timezone.localdate()
dry = {{(r.patient, r.kind, r.due, r.subject) for r in scan_reminders(as_of=today, dry_run=True).due}}
open_due = {{(c, k, d, s) for c, k, d, s in Reminder.objects.filter(state__in=OPEN_STATES, due__lte=today)
            .values_list("patient__code", "kind", "due", "subject")}}
print(json.dumps({{"writes": len(writes), "lost": len(lost), "missed": len(dry - open_due), "extra": len(open_due - dry),
                  "jobs_stuck": ImportJob.objects.filter(state__in=["queued", "validated", "running"]).count(),
                  "jobs": list(ImportJob.objects.values_list("state", "attempts")),
                  "queued_work_left": OutboxMessage.objects.filter(delivered_at=None).count()}}))
"""


def write_import(path, copies=50):
    """New patients (the example datasheet's 4, copied under codes of this run), for the
    import queued just before the worker is killed."""
    import zipfile

    run = time.strftime("%H%M%S")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for csv_file in sorted((ROOT / "tests" / "fixtures" / "example_datasheet").glob("*.csv")):
            header, *rows = csv_file.read_text().splitlines()
            lines = [header] + [f"S{run}{copy:02d}-{row}" for copy in range(copies) for row in rows]
            archive.writestr(f"datasheet/{csv_file.name}", "\n".join(lines) + "\n")


def _admin(*statements):
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--patients", type=int, default=10_000, help="the cohort's size (smaller: a smoke run)")
    args = parser.parse_args()
    setup()
    from common import generate_cohort

    from safety.scan import scan_reminders

    generate_cohort(args.patients)
    scan_reminders()
    bench_accounts()
    # The soak writes (labs, an import of new patients): it runs on a copy of the benchmark
    # database, dropped at the end, so that the other benchmarks keep measuring the same data.
    from django.db import connection

    source = connection.settings_dict["NAME"]
    copy = f"{source}_soak"
    connection.close()
    _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)', f'CREATE DATABASE "{copy}" TEMPLATE "{source}"')

    with tempfile.TemporaryDirectory(prefix="thalimon-soak-") as folder:
        soak = Soak(folder, args.users, args.seconds)
        soak.env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{copy}"
        write_import(Path(folder) / "import.zip")
        key, cert = self_signed_certificate(folder)
        soak.manage("collectstatic", "--noinput", "-v0")
        soak.start_redis()
        soak.start("web", [str(Path(sys.executable).parent / "gunicorn"), "thalimon.wsgi:application", "--bind",
                           f"127.0.0.1:{PORT}", "--workers", "4", "--certfile", str(cert), "--keyfile", str(key),
                           "--log-level", "warning", "--access-logfile", os.devnull])
        soak.start_worker()
        soak.start("beat", [sys.executable, "-m", "celery", "-A", "thalimon", "beat", "--loglevel", "WARNING",
                            "--schedule", str(Path(folder) / "beat-schedule")])
        log = Path(folder) / "requests.jsonl"
        try:
            wait_for_server(f"https://127.0.0.1:{PORT}/accounts/login/")
            began = time.time()
            faults = threading.Thread(target=soak.faults, args=(began,), daemon=True)
            faults.start()
            subprocess.run(
                [str(Path(sys.executable).parent / "locust"), "-f", str(Path(__file__).parent / "locustfile.py"),
                 "--headless", "-u", str(args.users), "-r", "1", "-t", f"{args.users + args.seconds}s",
                 "--host", f"https://127.0.0.1:{PORT}", "--only-summary", "--stop-timeout", "15"],
                cwd=ROOT, env={**soak.env, "THALIMON_LOAD_PROFILE": "clinic", "THALIMON_SOAK_LOG": str(log)},
                check=False, timeout=args.users + args.seconds + 300,
                stdout=(Path(folder) / "locust.log").open("w"), stderr=subprocess.STDOUT,
            )
            faults.join(timeout=120)
            measured_from = began + args.users
            # What beat does every few minutes, done now rather than waited for.
            soak.manage("shell", "-c", "from reports.actions import import_jobs_tidy; import_jobs_tidy()")
            deadline = time.time() + 300
            while True:
                checks = json.loads(soak.manage("shell", "-c", CHECKS.format(log=log)).strip().splitlines()[-1])
                if (not checks["jobs_stuck"] and not checks["queued_work_left"]) or time.time() > deadline:
                    break
                time.sleep(10)
        finally:
            soak.stop_all()
            kept = ROOT / "var" / "bench" / "soak-logs"  # the processes' logs, for a look afterwards
            kept.mkdir(parents=True, exist_ok=True)
            for name in ("web.log", "worker.log", "beat.log", "redis.log", "requests.jsonl", "locust.log"):
                if (Path(folder) / name).exists():
                    (kept / name).write_text((Path(folder) / name).read_text())
        requests = [json.loads(line) for line in log.read_text().splitlines() if '"name"' in line]
    _admin(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
    requests = [r for r in requests if r["t"] >= measured_from]
    inside = [r for r in requests if any(start <= r["t"] <= end for _, start, end in soak.windows)]
    outside = [r for r in requests if r not in inside]

    def figures(rows):
        errors = [r for r in rows if r["error"]]
        kinds = sorted({f"{r['name']} {r['status'] or 'no answer'}" for r in errors})
        return (f"{len(rows)} requests, {len(errors)} errors, p95 {percentile([r['ms'] for r in rows], 0.95):.0f} ms"
                + (f" (errors: {', '.join(kinds)})" if kinds else ""))

    print_table(
        f"Soak: {args.users} users, {args.seconds} s, Redis restarted once and the worker killed once",
        [
            ("writes acknowledged / lost", f"{checks['writes']} / {checks['lost']}", "0 lost"),
            ("reminders missed / extra (dry run vs stored)", f"{checks['missed']} / {checks['extra']}", "0 missed"),
            ("import jobs stuck (states, runs)", f"{checks['jobs_stuck']} {checks['jobs']}", "0 stuck"),
            ("queued work left undelivered", str(checks["queued_work_left"]), "0"),
            ("fault windows", "; ".join(f"{name} {end - start:.0f} s" for name, start, end in soak.windows)),
            ("inside the fault windows", figures(inside)),
            ("outside the fault windows", figures(outside), "0 errors, p95 < 500 ms"),
        ],
    )


if __name__ == "__main__":
    main()
