"""Checking and importing a datasheet: all of it in one transaction, or with any
error nothing, with history (the acting user, or none = "system (import)").

The import works in phases, each reported to ``progress(phase, done, total)``:

1. ``reading``: the files are streamed into a staging file on local disk
   (``staging.py``; done/total in bytes);
2. ``validating``: the headers once, then the rows a batch of patients at a time
   (``Plan``; done/total in rows). Every error is found; nothing is written;
3. ``writing``: without any error, each batch is checked again against the stored
   records as they are now and written, all batches in one transaction;
4. ``scanning``: the reminders of the patients written are rescanned once
   (``rescans_deferred`` + ``scan_reminders(patient_ids=…)``), in the same transaction.

Only one batch is in memory at a time, so the import's memory does not grow with the
datasheet.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from safety.actions import rescans_deferred, sites_follow_patients
from safety.scan import scan_reminders
from thalimon.protections import CLINICAL_DATA, bump_generation

from .format import FILE_ORDER
from .plan import Plan
from .reading import datasheet_size
from .report import DatasheetInvalid, Findings, ImportReport
from .staging import Staging
from .writing import write_plan

READING, VALIDATING, WRITING, SCANNING = "reading", "validating", "writing", "scanning"


def _no_progress(phase, done, total):
    return None


@contextmanager
def _gc_paused():
    """The cyclic garbage collector re-walks every live object as thousands of rows
    are built (~15 % of an import's time); reference counting still frees them, and
    a collection runs between batches."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def validate_datasheet(files, *, actor=None) -> ImportReport:
    """Check everything; write nothing. ``files`` as returned by ``read_datasheet``."""
    with _gc_paused():
        plan = Plan(files, actor=actor, today=timezone.localdate()).run()
    return plan.report(dry_run=True)


def _add_counts(total, counts):
    for name, figures in counts.items():
        into = total.setdefault(name, {"created": 0, "updated": 0, "unchanged": 0})
        for key, value in figures.items():
            into[key] += value


def _report(findings, counts, *, dry_run):
    counts = {name: counts[name] for name in FILE_ORDER if name in counts}  # in the format's order
    return ImportReport(
        errors=findings.errors, warnings=findings.warnings, counts=counts, dry_run=dry_run,
        error_total=findings.error_count, warning_total=findings.warning_count,
    )


def _stage(staging, path, max_bytes, progress):
    total = datasheet_size(path)
    read = [0]

    def counter(n):
        read[0] += n
        progress(READING, read[0], total)

    progress(READING, 0, total)
    staging.load(path, max_bytes=max_bytes, counter=counter)
    progress(READING, total or read[0], total or read[0])


def _check(staging, *, actor, today, progress):
    """Every error of the datasheet (headers, then batch by batch) and the counts."""
    findings, counts = Findings(), {}
    Plan(staging.headers(), actor=actor, today=today, findings=findings).check_files()
    if findings.error_count:
        return findings, counts
    done = 0
    progress(VALIDATING, 0, staging.rows_total)
    for files, rows in staging.batches():
        with _gc_paused():
            plan = Plan(files, actor=actor, today=today, findings=findings).run()
            _add_counts(counts, plan.counts)
            del plan
        gc.collect()
        done += rows
        progress(VALIDATING, done, staging.rows_total)
    return findings, counts


def _write(staging, *, actor, today, progress):
    """Write every batch (inside the caller's transaction); the errors found now (a record
    changed since the check) and the counts written."""
    findings, counts, ids, done = Findings(), {}, [], 0
    progress(WRITING, 0, staging.rows_total)
    for files, rows in staging.batches():
        with _gc_paused():
            plan = Plan(files, actor=actor, today=today, findings=findings).run()
            if not findings.error_count:
                write_plan(plan)
                ids.extend(b.patient.pk for b in plan.bundles.values())
                _add_counts(counts, plan.counts)
            del plan
        gc.collect()
        done += rows
        progress(WRITING, done, staging.rows_total)
    return findings, counts, ids


def import_datasheet(path, *, actor=None, dry_run=False, max_bytes=None, progress=None) -> ImportReport:
    """Import a datasheet folder or zip: all of it, or with any error nothing."""
    progress = progress or _no_progress
    today = timezone.localdate()
    with Staging() as staging:
        try:
            _stage(staging, path, max_bytes, progress)
        except DatasheetInvalid as invalid:
            return ImportReport(errors=list(invalid.errors), dry_run=dry_run, error_total=len(invalid.errors))
        findings, counts = _check(staging, actor=actor, today=today, progress=progress)
        checked = _report(findings, counts, dry_run=dry_run)
        if dry_run or checked.errors:
            return checked
        with rescans_deferred(), transaction.atomic():
            written, counts, ids = _write(staging, actor=actor, today=today, progress=progress)
            if written.error_count:  # changed while it was checked: nothing is written
                transaction.set_rollback(True)
                return _report(written, counts, dry_run=False)
            progress(SCANNING, 0, len(ids))
            scan_reminders(patient_ids=ids)
            # A patient transferred while the import ran: its new rows follow it (issue 18).
            sites_follow_patients(ids)
            progress(SCANNING, len(ids), len(ids))
            transaction.on_commit(lambda: bump_generation(CLINICAL_DATA))  # cached reports are rebuilt
        checked.counts = _report(written, counts, dry_run=False).counts
        checked.written = True
    return checked
