"""Benchmark: page timings against a bare one-query view, measured in the same run.

    python bench/pages.py [--rounds 30]

Targets (issue 7): list pages and the inbox at most 5× the bare view; the patient
page with 100 visits at most 250 ms median. Uses the scan benchmark's database
(10,000 patients); run bench/scan_reminders.py first (make bench does).
"""

import argparse
import statistics
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal

from common import print_table, setup, vacuum_analyze

from tests.faults.server import app_server


def timed_interleaved(client, pages, rounds):
    """Median time of each page, measured round-robin (one request of every page per round)
    so that the machine's background noise falls on every page alike, the bare view included."""
    samples = {label: [] for label, *_ in pages}
    for _label, method, url, data in pages:  # warm-up: caches, template loading, connection
        client.post(url, data or {}) if method == "post" else client.get(url)
    for _ in range(rounds):
        for label, method, url, data in pages:
            start = time.perf_counter()
            response = client.post(url, data or {}) if method == "post" else client.get(url)
            samples[label].append(time.perf_counter() - start)
            assert response.status_code in (200, 302), (url, response.status_code)
    return {label: statistics.median(values) for label, values in samples.items()}


def connection_latency(session, paths, rounds):
    """Median latency of each page over HTTP with a new database connection per request
    (CONN_MAX_AGE=0) and with persistent connections (60 s, the PostgreSQL default), the two
    servers asked in turn so that background noise falls on both alike."""
    samples = {(path, age): [] for path in paths for age in (0, 60)}
    with app_server(0) as per_request, app_server(60) as persistent:
        bases = {0: per_request, 60: persistent}
        for round_ in range(rounds + 1):  # round 0: warm-up
            for path in paths:
                for age, base in bases.items():
                    request = urllib.request.Request(base + path, headers={"Cookie": f"sessionid={session}"})
                    start = time.perf_counter()
                    with urllib.request.urlopen(request, timeout=60) as response:
                        response.read()
                        assert response.status == 200, (path, response.status)
                    if round_:
                        samples[(path, age)].append(time.perf_counter() - start)
    return {key: statistics.median(values) for key, values in samples.items()}


def connection_table(session, pages, rounds):
    medians = connection_latency(session, [path for _, path in pages], rounds)
    table = []
    for label, path in pages:
        per_request, persistent = medians[(path, 0)], medians[(path, 60)]
        table.append((label, f"{persistent * 1000:.1f} ms persistent vs {per_request * 1000:.1f} ms per-request "
                             f"connection (−{(per_request - persistent) * 1000:.1f} ms)"))
    return table


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    setup()
    from common import generate_cohort
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client, override_settings
    from django.utils import timezone

    from patients.models import Patient
    from safety.scan import scan_reminders
    from sites.models import MAIN_CODE, MAIN_NAME, Membership, Site
    from therapy.actions import historical_course_save
    from visits.models import Visit

    generate_cohort()
    today = timezone.localdate()
    user, _ = get_user_model().objects.get_or_create(username="bench-clinician")
    user.groups.set([Group.objects.get(name="Clinician"), Group.objects.get(name="Nurse")])
    site = Site.objects.get_or_create(code=MAIN_CODE, defaults={"name": MAIN_NAME})[0]
    Membership.objects.get_or_create(user=user, site=site)
    patient = Patient.objects.filter(code="BENCH-P100").first()
    if patient is None:
        patient = Patient.objects.create(code="BENCH-P100", sex="M", birth_date=today - timedelta(days=40 * 365),
                                         diagnosis="CD", height_cm=Decimal("175"), site=site)
        historical_course_save(actor=user, patient=patient, start_date=today - timedelta(days=1000))
        Visit.objects.bulk_create(
            Visit(patient=patient, date=today - timedelta(days=10 * i), contact="clinic", cdai=150 + i % 50,
                  clinical_status="response")
            for i in range(100)
        )
    scan_reminders(as_of=today)
    # The scan rewrites the reminders: refresh the planner's statistics after it, as autovacuum
    # does on a running clinic's database (stale counts gave the inbox a plan for 9 rows, not 11,000).
    vacuum_analyze()
    client = Client()
    client.force_login(user)
    visit_data = {"date": today.isoformat(), "contact": "phone", "contraception_confirmed": "unknown"}
    pages = [
        ("bare one-query view", "get", "/bench/bare/", None),
        ("patient list", "get", "/patients/", None),
        ("patient list, search matching every patient", "get", "/patients/?q=BENCH-00&diagnosis=CD", None),
        ("patient list, search for one patient", "get", "/patients/?q=004217", None),
        ("reminder inbox", "get", "/inbox/", None),
        ("patient page, 100 visits", "get", "/patients/BENCH-P100/", None),
        ("visit form POST (refused, re-rendered)", "post", "/patients/BENCH-P100/visits/new/",
         {**visit_data, "date": "2999-01-01"}),
    ]
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"]):
        medians = timed_interleaved(client, pages, args.rounds)
    bare = medians["bare one-query view"]
    rows = list(medians.items())
    table = []
    for label, seconds in rows:
        ratio = seconds / bare
        target = ""
        if label.startswith(("patient list", "reminder inbox")):
            target = "≤ 5× bare"
        if label.startswith("patient page"):
            target = "≤ 250 ms median"
        table.append((label, f"{seconds * 1000:.1f} ms median ({ratio:.1f}× bare)", target) if target
                     else (label, f"{seconds * 1000:.1f} ms median ({ratio:.1f}× bare)"))
    print_table(f"Pages (Django test client, {Patient.objects.count()} patients, {args.rounds} rounds)", table)
    # Persistent database connections (CONN_MAX_AGE) against one connection per request,
    # over HTTP: the test client above keeps its connection whatever the setting.
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["127.0.0.1"]):
        table = connection_table(client.cookies["sessionid"].value, [
            ("bare one-query view", "/bench/bare/"), ("patient list", "/patients/"),
            ("patient page, 100 visits", "/patients/BENCH-P100/"),
        ], args.rounds)
    print_table(f"Page latency with persistent vs per-request database connections (HTTP, one server "
                f"thread each, {args.rounds} rounds)", table)


if __name__ == "__main__":
    main()
