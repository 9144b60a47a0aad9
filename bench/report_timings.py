"""Benchmark: the cohort report JSON and one visit PDF for 10,000 patients × 30 visits.

    python bench/report_timings.py

Targets (issue): cohort report JSON under 30 s, one visit PDF under 1.5 s.
"""

import argparse
import json
import statistics
import time

from common import generate_cohort, print_table, setup, timed


def main():
    parser = argparse.ArgumentParser()
    parser.parse_args()
    setup()
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from patients.models import Patient
    from reports.exports import as_json
    from reports.pdf import visit_summary_pdf
    from reports.selectors import cohort_report
    from visits.models import Visit

    results = {}
    with timed("generate", results):
        generate_cohort()
    n_visits = Visit.objects.count()
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        report = cohort_report()
        body = as_json(report)
        report_seconds = time.perf_counter() - start
    visit = Visit.objects.filter(patient__code__startswith="BENCH-", cdai__isnull=False).order_by("-date").first()
    pdf_times = []
    for _ in range(5):
        start = time.perf_counter()
        visit_summary_pdf(visit)
        pdf_times.append(time.perf_counter() - start)
    print_table(
        f"Reports ({Patient.objects.count()} patients, {n_visits} visits)",
        [
            ("cohort report JSON", f"{report_seconds:.1f} s for {report['n_patients']} patients, "
                                   f"{len(body) // 1024} KiB, {len(queries)} queries", "< 30 s"),
            ("one visit PDF (median of 5)", f"{statistics.median(pdf_times):.2f} s", "< 1.5 s"),
        ],
    )
    json.loads(body)


if __name__ == "__main__":
    main()
