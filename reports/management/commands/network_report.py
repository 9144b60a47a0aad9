"""python manage.py network_report --format json|csv|xlsx --out FILE [--as-of DATE] [--diagnosis CD|UC|AID|all]"""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reports import network_exports
from reports.cohort import ALL_DIAGNOSES
from reports.exports import as_json
from reports.network_selectors import network_report


def iso_date(value):
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--as-of: expected a date as YYYY-MM-DD, got '{value}'.") from error


class Command(BaseCommand):
    help = "Write the network report: every site's figures side by side and the funnel plot's data (issue 18)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv", "xlsx"], required=True)
        parser.add_argument("--out", required=True, help="file to write")
        parser.add_argument("--as-of", type=iso_date, default=None, help="YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--diagnosis", choices=["CD", "UC", "AID", ALL_DIAGNOSES], default="CD",
            help=f"the cohort's diagnosis, or {ALL_DIAGNOSES} for every patient (default: CD)",
        )

    def handle(self, *args, format, out, as_of, diagnosis, **options):
        if as_of and as_of > timezone.localdate():
            raise CommandError(
                f"--as-of: {as_of:%Y-%m-%d} is in the future; the report cannot count what has not happened."
            )
        path = Path(out)
        if path.parent and not path.parent.exists():
            raise CommandError(f"--out: the folder {path.parent} does not exist.")
        result = network_report(as_of=as_of, diagnosis=diagnosis)
        if format == "json":
            content = as_json(result).encode()
        elif format == "csv":
            content = network_exports.network_csv(result)
        else:
            content = network_exports.network_xlsx(result)
        path.write_bytes(content)
        self.stdout.write(self.style.SUCCESS(
            f"Network report ({len(result['sites'])} sites, {result['network']['patients']} patients, "
            f"as of {result['as_of']}) written to {path}."
        ))
