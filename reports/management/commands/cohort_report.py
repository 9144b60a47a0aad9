"""python manage.py cohort_report --format json|pdf|xlsx|csv --out FILE [--as-of DATE] [--diagnosis CD|UC|AID|all]
[--site CODE]

Without ``--site``, the whole network (every site); with it, that site's patients only
(interfaces.md §2). The operator's tool: any site may be chosen."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports import exports
from reports.management.arguments import add_report_arguments
from reports.selectors import cohort_report
from sites.models import Site
from thalimon.command_args import refuse_future


class Command(BaseCommand):
    help = "Write the cohort report (interfaces.md section 3; clinical-rules.md R8)."

    def add_arguments(self, parser):
        add_report_arguments(parser, ["json", "pdf", "xlsx", "csv"])
        parser.add_argument("--site", default=None, metavar="CODE",
                            help="a site's code: that site's patients only (default: the whole network)")

    def handle(self, *args, format, out, as_of, diagnosis, site, **options):
        refuse_future(as_of)
        site_ids = None if site is None else [_site_id(site)]
        report = cohort_report(as_of=as_of, diagnosis=diagnosis, site_ids=site_ids)
        if format == "json":
            content = exports.as_json(report).encode()
        elif format == "csv":
            content = exports.as_csv(report)  # bytes: UTF-8 with a BOM
        elif format == "xlsx":
            content = exports.as_xlsx(report)
        else:
            from reports.pdf import cohort_report_pdf

            content = cohort_report_pdf(report)
        path = Path(out)
        if path.parent and not path.parent.exists():
            raise CommandError(f"--out: the folder {path.parent} does not exist.")
        path.write_bytes(content)
        where = f"site {report['site']}" if report["site"] else "all sites"
        self.stdout.write(self.style.SUCCESS(
            f"Cohort report ({where}, {report['n_patients']} patients, as of {report['as_of']}) written to {path}."
        ))


def _site_id(code):
    """The id of the site ``code`` names (compared ignoring case, as in a datasheet)."""
    sites = dict(Site.objects.values_list("code", "pk"))
    code = code.strip()
    found = [sites[code]] if code in sites else [pk for stored, pk in sites.items() if stored.lower() == code.lower()]
    if len(found) != 1:
        known = ", ".join(sorted(sites)) or "none"
        raise CommandError(f"--site: unknown site '{code}'; known sites: {known}.")
    return found[0]
