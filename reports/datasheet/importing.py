"""Checking and importing a datasheet: all of it in one transaction, or with any
error nothing, with history (the acting user, or none = "system (import)"). The
reminders are rescanned once at the end (``rescans_deferred`` +
``scan_reminders(patient_ids=…)``)."""

from __future__ import annotations

import gc
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from safety.actions import rescans_deferred
from safety.scan import scan_reminders
from thalimon.protections import CLINICAL_DATA, bump_generation

from .plan import Plan
from .reading import read_datasheet
from .report import DatasheetInvalid, ImportReport
from .writing import write_plan


@contextmanager
def _gc_paused():
    """The cyclic garbage collector re-walks every live object as millions of rows
    are built (~15 % of an import's time); reference counting still frees them."""
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


def import_datasheet(path, *, actor=None, dry_run=False, max_bytes=None) -> ImportReport:
    """Import a datasheet folder or zip: all of it, or with any error nothing."""
    try:
        files = read_datasheet(path, max_bytes=max_bytes)
    except DatasheetInvalid as invalid:
        return ImportReport(errors=list(invalid.errors), dry_run=dry_run)
    if dry_run:
        return validate_datasheet(files, actor=actor)
    with _gc_paused(), rescans_deferred(), transaction.atomic():
        plan = Plan(files, actor=actor, today=timezone.localdate()).run()
        report = plan.report()
        if report.errors:
            return report
        write_plan(plan)
        ids = [b.patient.pk for b in plan.bundles.values()]
        scan_reminders(patient_ids=ids)
        transaction.on_commit(lambda: bump_generation(CLINICAL_DATA))  # cached reports are rebuilt
        report.written = True
    return report
