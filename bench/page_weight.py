"""Benchmark: page weight and time to interactive of a first load in Chromium.

    python bench/page_weight.py [--rounds 7]

The app served as ``make demo`` serves it (scripts/demo-serve.sh: Django's server with
collected, compressed static files; a Celery worker beside it), in a folder of its own.
A clinician (Playwright, Debian's Chromium) loads a patient page, the lead the cohort
report, each ``--rounds`` times with the browser's cache emptied first. Per page: bytes
transferred (Chromium's encodedDataLength of every response: compressed bodies and their
headers) and the time from the navigation's start until the page has loaded and every
chart is drawn (tests/e2e/page_weight.py). The server is warmed up by one load first
(the report is computed once and cached, as in use).

Pages: the demo's patient with the most visits (demo data, SQLite, as ``make demo``),
and, when bench/pages.py has made it, BENCH-P100 (100 visits) on the benchmark database.

Targets (issue 15): a patient page's first load ≤ 1.5 MB and interactive in ≤ 1 s on loopback.
"""

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from common import print_table, setup

MAX_BYTES = 1_500_000
MAX_SECONDS = 1.0
BENCH_USER, BENCH_PASSWORD = "bench-page-weight", "bench-page-weight-password-2026"


def measure(browser, demo, username, password, path, rounds):
    from tests.e2e.page_weight import first_load, log_in

    chromium = browser.new_browser_cdp_session().send("SystemInfo.getProcessInfo")["processInfo"]
    cpu = {"chromium": next(p["id"] for p in chromium if p["type"] == "browser"), "server": demo.pids()[1]}
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        log_in(context, demo.url, username, password)
        first_load(context, demo.url + path)  # the server warmed up (caches, templates)
        loads = [first_load(context, demo.url + path, cpu=cpu) for _ in range(rounds)]
    finally:
        context.close()
    for load in loads:
        assert load.status == 200 and not load.problems and load.svgs >= load.charts > 0, (path, load)
    return loads


def rows_for(label, loads, targets):
    ms = [load.ms for load in loads]
    last = loads[-1]
    heaviest = sorted(last.by_url.items(), key=lambda item: -item[1])[:2]
    return [
        (f"{label}: transferred", f"{statistics.median(load.bytes for load in loads) / 1e6:.2f} MB in "
                                  f"{last.requests} requests (largest: "
                                  + ", ".join(f"{Path(url).name} {size / 1e3:.0f} kB" for url, size in heaviest) + ")",
         "≤ 1.5 MB" if targets else ""),
        (f"{label}: interactive (loaded, {last.charts} chart{'s' if last.charts != 1 else ''} drawn)",
         f"median {statistics.median(ms) / 1000:.2f} s, max {max(ms) / 1000:.2f} s "
         f"(first byte {statistics.median(load.first_byte_ms for load in loads):.0f} ms, DOMContentLoaded "
         f"{statistics.median(load.dom_content_loaded_ms for load in loads):.0f} ms)",
         "≤ 1 s" if targets else ""),
        (f"{label}: CPU time of a first load",
         f"Chromium {statistics.median(load.cpu_ms['chromium'] for load in loads):.0f} ms, server "
         f"{statistics.median(load.cpu_ms['server'] for load in loads):.0f} ms (median; what a busy machine "
         "does not inflate)", ""),
    ]


def bench_database_user():
    """A clinician with a password on the benchmark database, if bench/pages.py made BENCH-P100."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from patients.models import Patient
    from sites.models import Membership

    if not Patient.objects.filter(code="BENCH-P100").exists():
        return False
    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
    user.set_password(BENCH_PASSWORD)
    user.save()
    user.groups.set([Group.objects.get(name="Clinician")])
    Membership.objects.get_or_create(user=user, site=Patient.objects.get(code="BENCH-P100").site)
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    setup()  # the benchmark database (for BENCH-P100), Django for the shared test helpers
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path
    from tests.e2e.demo_process import (
        DEMO_PASSWORDS,
        patient_with_most_visits,
        prepare,
        running_demo,
    )

    with_bench_patient = bench_database_user()
    rows = []
    with tempfile.TemporaryDirectory(prefix="thalimon-page-weight-") as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        demo_var = Path(folder) / "demo"
        prepare(demo_var)
        code = patient_with_most_visits(demo_var)
        with running_demo(demo_var) as demo:
            patient = measure(browser, demo, "clinician", DEMO_PASSWORDS["clinician"], f"/patients/{code}/",
                              args.rounds)
            report = measure(browser, demo, "lead", DEMO_PASSWORDS["lead"], "/reports/cohort/", args.rounds)
        rows += rows_for(f"patient page ({code}, demo data)", patient, targets=True)
        rows += rows_for("cohort report page (demo data)", report, targets=False)
        if with_bench_patient:
            # The same server on the benchmark database: no frequent scan of its 10,000 patients meanwhile.
            bench_var = Path(folder) / "bench"
            with running_demo(bench_var, DATABASE_URL=os.environ["DATABASE_URL"], REMINDER_SCAN_MINUTES="0") as demo:
                heavy = measure(browser, demo, BENCH_USER, BENCH_PASSWORD, "/patients/BENCH-P100/", args.rounds)
            rows += rows_for("patient page (BENCH-P100, 100 visits)", heavy, targets=True)
        browser.close()
    load = os.getloadavg()[0]
    print_table(f"Page weight and time to interactive (Chromium, first load with an empty cache, served as "
                f"make demo serves, {args.rounds} loads each; load average {load:.1f} on {os.cpu_count()} cores)",
                rows)


if __name__ == "__main__":
    main()
