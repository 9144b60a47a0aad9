"""python manage.py network_report --format json|csv|xlsx --out FILE [--as-of DATE] [--diagnosis CD|UC|AID|all]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports import network_exports
from reports.exports import as_json
from reports.management.arguments import add_report_arguments
from reports.network_selectors import network_report
from thalimon.command_args import refuse_future


class Command(BaseCommand):
    help = "Write the network report: every site's figures side by side and the funnel plot's data (issue 18)."

    def add_arguments(self, parser):
        add_report_arguments(parser, ["json", "csv", "xlsx"])

    def handle(self, *args, format, out, as_of, diagnosis, **options):
        refuse_future(as_of)
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
