"""Load test: 50 users doing the three journeys for 2 minutes against gunicorn
(4 workers) and PostgreSQL, loopback only, bounded in time.

    python bench/load.py [--users 50] [--seconds 120]

Targets (issue 7): 0 errors, p95 under 500 ms. Uses the benchmark database
(run bench/scan_reminders.py first; make bench does).
"""

import argparse
import csv
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import ROOT, print_table, setup

PORT = 8765


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    setup()
    from common import generate_cohort
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from safety.services import scan_reminders

    generate_cohort()
    scan_reminders()
    for username, role in (("bench-clinician", "Clinician"), ("bench-nurse", "Nurse"), ("bench-lead", "Clinic lead")):
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.set_password("bench-password-2026")
        user.save()
        user.groups.add(Group.objects.get(name=role))

    env = {**os.environ, "DEBUG": "1", "CELERY_TASK_ALWAYS_EAGER": "1", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
    venv_bin = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(venv_bin / "gunicorn"), "thalimon.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "--workers", "4",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/accounts/login/", timeout=2)
                break
            except OSError:
                time.sleep(1)
        prefix = "/tmp/thalimon-locust"
        subprocess.run(
            [str(venv_bin / "locust"), "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
             "-u", str(args.users), "-r", "10", "-t", f"{args.seconds}s", "--host", f"http://127.0.0.1:{PORT}",
             "--csv", prefix, "--only-summary", "--stop-timeout", "10"],
            cwd=ROOT, env=env, check=False, timeout=args.seconds + 120,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))
    table = []
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL REQUESTS"
        table.append((
            name,
            f"{row['Request Count']} requests, {row['Failure Count']} failures, "
            f"median {row['50%']} ms, p95 {row['95%']} ms",
            *(("0 errors, p95 < 500 ms",) if name == "ALL REQUESTS" else ()),
        ))
    print_table(f"Load test: {args.users} users, {args.seconds} s, gunicorn × 4 on loopback", table)


if __name__ == "__main__":
    main()
