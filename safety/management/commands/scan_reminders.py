"""python manage.py scan_reminders [--as-of DATE] [--dry-run] [--format json]

Computes the due reminders (R7) with the same service as the nightly job.
Without --dry-run it stores new reminders, auto-resolves the ones whose
condition no longer holds and escalates overdue ones (interfaces.md §2).
"""

import json

from django.core.management.base import BaseCommand

from safety.scan import scan_reminders
from safety.schedule import is_overdue
from thalimon.command_args import as_of_date


class Command(BaseCommand):
    help = "Compute due reminders (R7); store, auto-resolve and escalate unless --dry-run."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=as_of_date, default=None, help="YYYY-MM-DD (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="compute only; change nothing")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, as_of, dry_run, format, **options):
        report = scan_reminders(as_of=as_of, dry_run=dry_run)
        rows = [
            {"patient": r.patient, "kind": r.kind, "due": r.due.isoformat(),
             "overdue": is_overdue(r, report.as_of), "subject": r.subject}
            for r in report.due
        ]
        if format == "json":
            self.stdout.write(json.dumps(rows, indent=2))
            return
        for row in rows:
            flag = " OVERDUE" if row["overdue"] else ""
            subject = f" [{row['subject']}]" if row["subject"] else ""
            self.stdout.write(f"{row['patient']:<12} {row['kind']:<24} due {row['due']}{flag}{subject}")
        mode = "dry run, nothing stored" if dry_run else (
            f"{report.created} created, {report.resolved} auto-resolved, {report.escalated} escalated"
        )
        self.stdout.write(
            self.style.SUCCESS(f"{len(rows)} reminders due as of {report.as_of:%Y-%m-%d} "
                               f"for {report.patients} patients ({mode}).")
        )
