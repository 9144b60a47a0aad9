"""Benchmark: a network of clinics — 50 sites, 100,000 patients, 1,000,000 visits (issue 18).

    python bench/network_scale.py [--scale 0.02] [--rounds 30] [--workers 1,2]

Generates the cohort of ``bench/common.py`` at network size (10 monthly visits a patient,
doses, labs, pregnancy tests, adverse events, spread over 50 sites; written with
PostgreSQL COPY) into its own database, ``thalimon_bench_network`` (``NETWORK_DATABASE_URL``
moves it), then measures:

* the nightly scan fanned out in chunks (``safety.fanout``) by a real ``celery worker``
  process with one and with two processes (``--concurrency``), broker Redis db 4
  (``NETWORK_BROKER_URL``); targets < 5 min with one, measurably faster with two;
* the cohort report of one site (``reports.selectors.cohort_report(site_ids=…)``, where the
  selector has it; the table says when it has not), target < 3 s, and of the network, < 30 s;
* the patient list and the inbox of a site user against the bare one-query view (the
  interleaved medians of ``bench/pages.py``); target ≤ 5× bare;
* the queries of the list and the inbox for a user of 1 site and of 6: equal.

``--scale`` shrinks everything but the number of sites (0.02: 2,000 patients), for a quick
run while developing; the table's title says the size measured.
"""

import argparse
import inspect
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ["DATABASE_URL"] = os.environ.get(
    "NETWORK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thalimon_bench_network")
BROKER = os.environ.get("NETWORK_BROKER_URL", "redis://127.0.0.1:6379/4")

from common import ROOT, generate_cohort, print_table, setup, timed, vacuum_analyze  # noqa: E402

SITES = 50
PATIENTS = 100_000
VISITS_PER_PATIENT = 10
LABEL = "net"


def clean_slate():
    """No reminders, urgent events, queued work or scan runs: each measured scan starts alike
    (a first scan, which writes every reminder), without the history rows of the last one."""
    from outbox.models import OutboxMessage
    from safety.models import Alert, Reminder, ScanChunk, ScanRun

    for model in (Reminder.history.model, Reminder, Alert.history.model, Alert, OutboxMessage, ScanChunk, ScanRun):
        model.objects.all()._raw_delete(model.objects.db)
    vacuum_analyze()


class Worker:
    """A real ``celery worker`` process (prefork, ``concurrency`` children) on the benchmark
    database and Redis db 4, as production runs it; stopped as the init system would."""

    def __init__(self, concurrency, folder, chunk):
        self.concurrency, self.folder, self.chunk = concurrency, Path(folder), chunk
        self.log = self.folder / f"worker-{concurrency}.log"

    def __enter__(self):
        env = {k: v for k, v in os.environ.items() if k not in ("CELERY_TASK_ALWAYS_EAGER",)}
        env.update(DEBUG="0", SECRET_KEY="bench-only-not-a-secret-0123456789-abcdefghij", PYTHONPATH=str(ROOT),
                   REDIS_URL=BROKER, CELERY_BROKER_URL=BROKER, THALIMON_VAR_DIR=str(self.folder / "var"),
                   SECURE_SSL_REDIRECT="0", THALIMON_SCAN_CHUNK_PATIENTS=str(self.chunk))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "thalimon", "worker", "--pool", "prefork", "--concurrency",
             str(self.concurrency), "--loglevel", "INFO", "--without-mingle", "--without-gossip",
             "--hostname", f"bench{self.concurrency}@%h"],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while " ready." not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def use_broker():
    """Publish to the real broker (the benchmark's settings are eager, like make bench's)."""
    from thalimon.celery import app

    app.conf.update(task_always_eager=False, broker_url=BROKER, broker_connection_timeout=5)
    app._pool = None
    app.amqp._producer_pool = None


def fanned_out_scan(concurrency, folder, chunk, as_of, timeout):
    """Seconds from queuing the nightly scan to its last chunk done, with a worker of
    ``concurrency`` processes; and the run (its chunks' own times)."""
    from safety.models import ScanRun
    from safety.tasks import scan_all_reminders

    clean_slate()
    subprocess.run(["redis-cli", "-u", BROKER, "FLUSHDB"], check=False, capture_output=True)
    with Worker(concurrency, folder, chunk) as worker:
        before = ScanRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        start = time.perf_counter()
        scan_all_reminders.delay(as_of.isoformat())
        while True:
            run = ScanRun.objects.filter(pk__gt=before).first()
            if run is not None and run.finished_at is not None:
                return time.perf_counter() - start, run
            if time.perf_counter() - start > timeout or worker.process.poll() is not None:
                raise RuntimeError(f"the scan did not finish:\n{worker.log.read_text()[-3000:]}")
            time.sleep(0.2)


def scan_rows(concurrency, seconds, run):
    from safety.models import Reminder

    chunks = list(run.chunks.all())
    busy = sum((c.finished_at - c.started_at).total_seconds() for c in chunks)
    created = sum(c.counts.get("created", 0) for c in chunks)
    retried = sum(1 for c in chunks if c.attempts > 1)
    label = f"fanned-out scan, worker --concurrency {concurrency}"
    target = "< 5 min" if concurrency == 1 else "faster than with 1"
    return (label, f"{seconds:.1f} s, {len(chunks)} chunks of {run.chunk_size} ({busy:.0f} s of chunk work, "
                   f"{retried} retried), {created} reminders created, {Reminder.objects.count()} stored", target)


def timed_report(**kwargs):
    """(seconds, report, queries) of one cohort report and its JSON."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from reports.exports import as_json
    from reports.selectors import cohort_report

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        report = cohort_report(**kwargs)
        as_json(report)
        return time.perf_counter() - start, report, len(queries)


def cohort_rows(sites):
    """The cohort report of single sites (median of three), where the selector takes
    ``site_ids``, and of the whole network."""
    import statistics

    from reports.selectors import cohort_report

    rows = []
    if "site_ids" in inspect.signature(cohort_report).parameters:
        measured = [timed_report(site_ids=[site.pk]) for site in sites[:3]]
        seconds, report, queries = measured[0]
        rows.append(("cohort report of one site (median of 3 sites)",
                     f"{statistics.median(m[0] for m in measured):.2f} s for about {report['n_patients']} patients, "
                     f"{queries} queries", "< 3 s"))
    else:
        rows.append(("cohort report of one site", "not measured: cohort_report takes no site_ids here", "< 3 s"))
    seconds, report, queries = timed_report()
    rows.append(("cohort report of the whole network",
                 f"{seconds:.1f} s for {report['n_patients']} patients, {queries} queries", "< 30 s"))
    rows.append(network_report_row())
    return rows


def network_report_row():
    """The network report (every site's row beside the network's, from one pass over the
    patients), computed (the cache emptied first), with its queries."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.network_selectors import network_report

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = network_report()
        seconds = time.perf_counter() - start
    return ("network report (50 sites' rows and the network's)",
            f"{seconds:.1f} s for {len(result['sites'])} sites, {len(queries)} queries", "< 30 s")


def site_user(username, sites):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from sites.models import Membership

    user, _ = get_user_model().objects.get_or_create(username=username)
    user.groups.set([Group.objects.get(name="Clinician"), Group.objects.get(name="Nurse")])
    Membership.objects.filter(user=user).delete()
    Membership.objects.bulk_create(Membership(user=user, site=site) for site in sites)
    return user


def page_rows(sites, rounds):
    from django.db import connection, reset_queries
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from pages import timed_interleaved

    one, six = site_user("bench-site-1", sites[:1]), site_user("bench-site-6", sites[:6])
    clients = {}
    for user in (one, six):
        clients[user.username] = Client()
        clients[user.username].force_login(user)
    pages = [("bare one-query view", "get", "/bench/bare/", None), ("patient list", "get", "/patients/", None),
             ("reminder inbox", "get", "/inbox/", None)]
    rows = []
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"]):
        medians = timed_interleaved(clients["bench-site-1"], pages, rounds)
        bare = medians["bare one-query view"]
        for label, seconds in medians.items():
            target = "" if label.startswith("bare") else "≤ 5× bare"
            rows.append((f"{label}, user of 1 site", f"{seconds * 1000:.1f} ms median ({seconds / bare:.1f}× bare)",
                         target))
        for label, _, url, _ in pages[1:]:
            counts = []
            for username in ("bench-site-1", "bench-site-6"):
                clients[username].get(url)  # warm: the session, permissions cached per request anyway
                reset_queries()
                with CaptureQueriesContext(connection) as queries:
                    assert clients[username].get(url).status_code == 200
                counts.append(len(queries))
            rows.append((f"queries, {label}: user of 1 site / of 6 sites", f"{counts[0]} / {counts[1]}",
                         "equal"))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 100,000 patients (sites stay 50)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--workers", default="1,2",
                        help="worker concurrencies to measure, comma-separated ('' measures no scan)")
    parser.add_argument("--chunk", type=int, default=0,
                        help="patients per chunk (default: the setting's 2,000, times --scale: 50 chunks)")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.utils import timezone

    from patients.models import Patient
    from sites.models import Site
    from visits.models import Visit

    n_patients = max(int(PATIENTS * args.scale), SITES)
    chunk = args.chunk or max(int(settings.THALIMON_SCAN_CHUNK_PATIENTS * args.scale), 1)
    results = {}
    with timed("generate", results):
        made = generate_cohort(n_patients, visits_per_patient=VISITS_PER_PATIENT, seed_label=LABEL, sites=SITES,
                               copy=True, processes=2)
    n_visits = Visit.objects.count()
    sites = list(Site.objects.filter(code__startswith="S").order_by("code"))
    use_broker()
    today = timezone.localdate()
    rows = []
    scans = {}
    with tempfile.TemporaryDirectory(prefix="network-scale-") as folder:
        for concurrency in (int(n) for n in args.workers.split(",") if n.strip()):
            seconds, run = fanned_out_scan(concurrency, folder, chunk, today, args.timeout)
            scans[concurrency] = seconds
            rows.append(scan_rows(concurrency, seconds, run))
    if 1 in scans and 2 in scans:
        rows.append(("two worker processes against one", f"{scans[1] / scans[2]:.2f}× as fast", "> 1"))
    vacuum_analyze()  # the scan rewrote the reminders: the planner's statistics as autovacuum keeps them
    rows += cohort_rows(sites)
    rows += page_rows(sites, args.rounds)
    rows.append(("generation (COPY, 2 processes; not part of a target)",
                 f"{results['generate']:.0f} s" if made else "already there"))
    print_table(f"Network of clinics ({len(sites)} sites, {Patient.objects.count()} patients, {n_visits} visits, "
                f"{os.cpu_count()} cores shared)", rows)


if __name__ == "__main__":
    main()
