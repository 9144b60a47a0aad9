"""python manage.py import_datasheet PATH [--dry-run]

Imports a cohort datasheet folder or .zip (interfaces.md §1): everything is
validated first and every error is listed as ``file:line: column: message``;
with any error nothing is imported and the command exits non-zero. History
rows carry no user ("system (import)").
"""

from django.core.management.base import BaseCommand, CommandError

from reports.datasheet import FILE_ORDER, import_datasheet


class Command(BaseCommand):
    help = "Import a cohort datasheet (folder or zip); --dry-run validates only."

    def add_arguments(self, parser):
        parser.add_argument("path", help="datasheet folder or .zip")
        parser.add_argument("--dry-run", action="store_true", help="validate only; write nothing")

    def handle(self, *args, path, dry_run, **options):
        report = import_datasheet(path, actor=None, dry_run=dry_run)
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for error in report.errors:
            self.stderr.write(str(error))
        if report.errors:
            raise CommandError(
                f"{len(report.errors)} error{'s' if len(report.errors) != 1 else ''}; "
                "nothing was imported."
            )
        for name in FILE_ORDER:
            if name in report.counts:
                c = report.counts[name]
                self.stdout.write(
                    f"{name:<20} {c['created']} created, {c['updated']} updated, "
                    f"{c['unchanged']} unchanged"
                )
        mode = "dry run: valid, nothing written" if dry_run else "imported"
        self.stdout.write(self.style.SUCCESS(f"Datasheet {mode} ({len(report.warnings)} warnings)."))
