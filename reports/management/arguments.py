"""The arguments every report command takes: --format, --out, --as-of, --diagnosis."""

from reports.cohort import ALL_DIAGNOSES
from thalimon.command_args import as_of_date


def add_report_arguments(parser, formats):
    parser.add_argument("--format", choices=formats, required=True)
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--as-of", type=as_of_date, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument(
        "--diagnosis", choices=["CD", "UC", "AID", ALL_DIAGNOSES], default="CD",
        help=f"the cohort's diagnosis, or {ALL_DIAGNOSES} for every patient (default: CD)",
    )
