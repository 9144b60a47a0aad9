"""Load test: 50 users doing the three journeys for 2 minutes against gunicorn
(4 workers) and PostgreSQL, loopback only, bounded in time.

    python bench/load.py [--users 50] [--seconds 120] [--profile clinic|stress|both]

The server runs with production settings (DEBUG off, HTTPS with a throw-away
self-signed certificate, secure cookies, HSTS, hashed static files) and the
shared Redis cache, as docker-compose.yml runs it. Locust runs on the same
2 cores. Profiles are described in locustfile.py; the targets (0 errors,
p95 under 500 ms) are read on the ``clinic`` profile, ``stress`` shows where
the machine saturates. Uses the benchmark database (10,000 patients).
"""

import argparse
import csv
import os
import secrets
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from common import ROOT, print_table, setup

PORT = 8765
CACHE_URL = "redis://127.0.0.1:6379/13"


def bench_accounts():
    """The three accounts locust signs in with (bench/locustfile.py)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from sites.models import MAIN_CODE, MAIN_NAME, Membership, Site

    for username, role in (("bench-clinician", "Clinician"), ("bench-nurse", "Nurse"), ("bench-lead", "Clinic lead")):
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.set_password("bench-password-2026")
        user.save()
        user.groups.add(Group.objects.get(name=role))
        Membership.objects.get_or_create(user=user, site=Site.objects.get_or_create(
            code=MAIN_CODE, defaults={"name": MAIN_NAME})[0])


def self_signed_certificate(folder):
    key, cert = Path(folder) / "key.pem", Path(folder) / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True,
    )
    return key, cert


def wait_for_server(url):
    context = ssl._create_unverified_context()  # our own throw-away certificate
    for _ in range(60):
        try:
            return urllib.request.urlopen(url, timeout=5, context=context)
        except OSError:
            time.sleep(1)
    raise SystemExit(f"the server did not answer at {url}")


def run_profile(profile, args, env, venv_bin):
    """Users log in one a second (a login hashes the password: PBKDF2, about half a
    second of CPU each, by design); the statistics are reset once all are in, then
    measured for ``args.seconds`` with every user on the journeys."""
    prefix = f"/tmp/thalimon-locust-{profile}"
    ramp = args.users  # one user a second
    subprocess.run(
        [str(venv_bin / "locust"), "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
         "-u", str(args.users), "-r", "1", "-t", f"{ramp + args.seconds}s", "--reset-stats",
         "--host", f"https://127.0.0.1:{PORT}", "--csv", prefix, "--only-summary", "--stop-timeout", "15"],
        cwd=ROOT, env={**env, "THALIMON_LOAD_PROFILE": profile}, check=False, timeout=ramp + args.seconds + 180,
    )
    table = []
    for row in csv.DictReader(open(f"{prefix}_stats.csv")):
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL REQUESTS"
        rps = float(row["Requests/s"])
        table.append((
            name,
            f"{row['Request Count']} requests ({rps:.1f}/s), {row['Failure Count']} failures, "
            f"median {row['50%']} ms, p95 {row['95%']} ms",
            *(("0 errors, p95 < 500 ms",) if name == "ALL REQUESTS" and profile == "clinic" else ()),
        ))
    return table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--profile", choices=["clinic", "stress", "both"], default="both")
    args = parser.parse_args()
    setup()
    from common import generate_cohort

    from safety.scan import scan_reminders

    generate_cohort()
    scan_reminders()
    bench_accounts()

    env = {
        **os.environ, "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CACHE_URL": CACHE_URL, "CELERY_TASK_ALWAYS_EAGER": "1", "LOG_LEVEL": "WARNING",
        # The benchmark accounts have no TOTP device: the second factor is not asked (its
        # cost per page is one session check of the middleware); without this every page
        # would be the redirect to enrolment.
        "TWO_FACTOR_REQUIRED": "0",
    }
    # Hashed static files, as in production (DEBUG off serves them from STATIC_ROOT).
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    import redis

    redis.Redis.from_url(CACHE_URL).flushdb()
    venv_bin = Path(sys.executable).parent
    profiles = ["clinic", "stress"] if args.profile == "both" else [args.profile]
    with tempfile.TemporaryDirectory() as folder:
        key, cert = self_signed_certificate(folder)
        server = subprocess.Popen(
            [str(venv_bin / "gunicorn"), "thalimon.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
             "--workers", "4", "--certfile", str(cert), "--keyfile", str(key), "--log-level", "warning",
             "--access-logfile", os.devnull],
            cwd=ROOT, env=env,
        )
        try:
            wait_for_server(f"https://127.0.0.1:{PORT}/accounts/login/")
            # The cohort report is computed once for its data (then served from the shared
            # cache until a clinical record changes): compute it before the clock starts.
            start = time.perf_counter()
            _warm_report_cache(env)
            print(f"cohort report computed and cached in {time.perf_counter() - start:.1f} s before the load")
            login = _login_seconds()
            tables = {profile: run_profile(profile, args, env, venv_bin) for profile in profiles}
        finally:
            server.terminate()
            server.wait(timeout=30)
    first = tables[profiles[0]]
    first.insert(0, ("one login, alone (PBKDF2 password hash)", f"{login * 1000:.0f} ms median of 5"))
    for profile, table in tables.items():
        print_table(f"Load test, {profile} profile: {args.users} users, {args.seconds} s, gunicorn × 4 "
                    "(HTTPS, DEBUG off) on loopback", table)


def _login_seconds():
    """One login with nothing else running: the password hash dominates it."""
    import http.cookiejar
    import re
    import statistics

    context = ssl._create_unverified_context()
    samples = []
    for _ in range(5):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                             urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"https://127.0.0.1:{PORT}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"username": "bench-nurse", "password": "bench-password-2026",
                                       "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(f"https://127.0.0.1:{PORT}/accounts/login/", data=body,
                                         headers={"Referer": f"https://127.0.0.1:{PORT}/accounts/login/"})
        start = time.perf_counter()
        landed = opener.open(request)
        samples.append(time.perf_counter() - start)
        assert "/accounts/login/" not in landed.geturl(), "the benchmark login was refused"
    return statistics.median(samples)


def _warm_report_cache(env):
    """Fill the shared cache the way the page does (same process settings as the server)."""
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from reports.selectors import cached_cohort_report; "
                               "cached_cohort_report(diagnosis='CD')"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "thalimon.settings"}, check=True,
    )


if __name__ == "__main__":
    main()
