"""Benchmark: a full reminder scan over 10,000 patients with realistic histories.

    python bench/scan_reminders.py

Target (issue): under 60 s on the 2-core machine, with a number of queries
per batch that does not grow with the number of patients.
"""

import argparse
import time

from common import print_table, setup, timed


def main():
    parser = argparse.ArgumentParser()
    parser.parse_args()
    setup()
    from common import generate_cohort
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from patients.models import Patient
    from safety.models import Reminder
    from safety.records import BATCH_SIZE
    from safety.scan import scan_reminders
    from visits.models import Visit

    results = {}
    with timed("generate", results):
        generate_cohort()
    n_patients = Patient.objects.filter(code__startswith="BENCH-").count()
    n_visits = Visit.objects.filter(patient__code__startswith="BENCH-").count()
    Reminder.objects.all()._raw_delete(Reminder.objects.db)  # a clean slate, without 30,000 history rows
    today = timezone.localdate()
    # CaptureQueriesContext counts a window of connection.queries_log (at most 9,000 entries).
    reset_queries()

    with CaptureQueriesContext(connection) as first_queries:
        start = time.perf_counter()
        first = scan_reminders(as_of=today)
        first_seconds = time.perf_counter() - start
    reset_queries()
    with CaptureQueriesContext(connection) as second_queries:
        start = time.perf_counter()
        second = scan_reminders(as_of=today)
        second_seconds = time.perf_counter() - start
    reset_queries()
    with CaptureQueriesContext(connection) as full_batch:
        scan_reminders(as_of=today, patient_ids=list(Patient.objects.values_list("pk", flat=True)[:BATCH_SIZE]))
    reset_queries()
    with CaptureQueriesContext(connection) as small_batch:
        scan_reminders(as_of=today, patient_ids=list(Patient.objects.values_list("pk", flat=True)[:10]))
    dry_start = time.perf_counter()
    scan_reminders(as_of=today, dry_run=True)
    dry_seconds = time.perf_counter() - dry_start
    batches = -(-first.patients // BATCH_SIZE)
    print_table(
        f"Reminder scan ({n_patients} patients, {n_visits} visits, batch {BATCH_SIZE}, as of {today})",
        [
            ("first scan (stores)", f"{first_seconds:.1f} s, {first.created} reminders created", "< 60 s"),
            ("second scan (idempotent)", f"{second_seconds:.1f} s, {second.created} created, {second.resolved} resolved"),
            ("dry run", f"{dry_seconds:.1f} s, {len(first.due)} due"),
            ("queries, first scan", f"{len(first_queries)} in {batches} batches"),
            ("queries, second scan", f"{len(second_queries)} in {batches} batches"),
            ("queries, one batch of 1000 / of 10 patients", f"{len(full_batch)} / {len(small_batch)}",
             "the same whatever the batch holds"),
            ("generation", f"{results['generate']:.1f} s (not part of the target)"),
        ],
    )


if __name__ == "__main__":
    main()
