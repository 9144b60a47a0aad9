"""Network report files: JSON, CSV and XLSX (issue 18).

The JSON is the network report dict as reports/network.py makes it. The CSV is the
comparison table as numbers: one row a site (code order) and a last row ``(network)`` (the
pooled cohort), one column a figure, empty where the JSON has null. The XLSX holds the
same table (sheet "sites") and the funnel plot's data (sheet "funnel": each placed site
with its proportion, limits and positions; then the sites not placed). Like the cohort
report's files they are language-neutral (English headers whoever asks) and a text
cell never starts a formula.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.exports import CSV_ENCODING
from reports.network import FUNNEL_LIMITS
from thalimon.protections import spreadsheet_safe

# The site column of the pooled row: no site code has brackets (sites.models.SITE_CODE_VALIDATOR).
NETWORK_ROW = "(network)"
# (key of a comparison row, header)
COLUMNS = [
    ("site", "site"),
    ("name", "site name"),
    ("patients", "patients"),
    ("response_n", "response week 12 n"),
    ("response_of", "response week 12 of"),
    ("response_pct", "response week 12 %"),
    ("remission_n", "remission week 12 n"),
    ("remission_of", "remission week 12 of"),
    ("remission_pct", "remission week 12 %"),
    ("relapse_free_n", "relapse-free analysis n"),
    ("relapse_free_events", "relapses"),
    ("relapse_free_12m", "relapse-free at 12 months (KM proportion)"),
    ("ae_events", "adverse events"),
    ("patient_months", "patient-months"),
    ("ae_per_100_patient_months", "AEs per 100 patient-months"),
    ("dose_changes", "dose changes checked"),
    ("dose_changes_with_deviation", "dose changes with a deviation"),
    ("deviation_rate_pct", "deviation rate %"),
    ("deviation_findings", "deviation codes (all)"),
]
TEXT_COLUMNS = {"site", "name"}
FUNNEL_HEADER = ["site", "site name", "week-12 denominator (n)", "in remission", "proportion",
                 *[f"{level} % {side}" for level, _ in FUNNEL_LIMITS for side in ("lower limit", "upper limit")],
                 *[f"{level} % position" for level, _ in FUNNEL_LIMITS]]


def table_rows(result):
    """The comparison table's rows (sites, then the network) as lists of cells in COLUMNS order."""
    network = {**result["network"], "site": NETWORK_ROW, "name": "all sites (pooled)"}
    return [
        [spreadsheet_safe(row.get(key)) if key in TEXT_COLUMNS else row.get(key) for key, _ in COLUMNS]
        for row in [*result["sites"], network]
    ]


def network_csv(result):
    """The comparison table, UTF-8 with a BOM: bytes ready to write."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for _, header in COLUMNS])
    for row in table_rows(result):
        writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue().encode(CSV_ENCODING)


def network_xlsx(result):
    """Sheet "sites": the comparison table; sheet "funnel": the funnel plot's data."""
    book = Workbook()
    sheet = book.active
    sheet.title = "sites"
    sheet.append([header for _, header in COLUMNS])
    for row in table_rows(result):
        sheet.append(row)
    funnel = result["funnel"]
    plot = book.create_sheet("funnel")
    plot.append([f"pooled week-12 remission: {funnel['pooled']['n']} of {funnel['pooled']['of']}",
                 funnel["pooled"]["proportion"]])
    plot.append(FUNNEL_HEADER)
    for site in funnel["sites"]:
        limits = [value for level, _ in FUNNEL_LIMITS for value in site["limits"][level]]
        positions = [site["position"][level] for level, _ in FUNNEL_LIMITS]
        plot.append([spreadsheet_safe(site["site"]), spreadsheet_safe(site["name"]), site["n"], site["remitted"],
                     site["proportion"], *limits, *positions])
    for code in funnel["not_placed"]:
        plot.append([spreadsheet_safe(code), "", 0, None, None, *[None] * 4, *["not placed (no denominator)"] * 2])
    for row in (sheet[1], plot[2]):
        for cell in row:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
