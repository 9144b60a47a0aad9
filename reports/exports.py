"""Cohort report files: JSON, CSV, XLSX (openpyxl, one sheet per table) and PDF."""

import csv
import io
import json

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from reports.tables import report_tables
from thalimon.protections import spreadsheet_safe


def as_json(report):
    return json.dumps(report, indent=2, ensure_ascii=False, default=str)


def as_csv(report):
    """One long table: table, row, column, value — easy to pivot in any spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "row", "column", "value"])
    for table in report_tables(report):
        for row in table.rows:
            for column, value in zip(table.header[1:], row[1:], strict=False):
                if value != "":
                    writer.writerow([spreadsheet_safe(cell) for cell in (table.title, row[0], column, value)])
    return out.getvalue()


def as_xlsx(report):
    """One sheet per table, plus the raw figures as numbers on sheet 'figures'."""
    book = Workbook()
    book.remove(book.active)
    for table in report_tables(report):
        sheet = book.create_sheet(table.key[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True, size=12)
        sheet.append([])
        sheet.append(table.header)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([spreadsheet_safe(cell) for cell in row])
        if table.note:
            sheet.append([])
            sheet.append([table.note])
        sheet.column_dimensions["A"].width = 58
        for letter in "BCDEF":
            sheet.column_dimensions[letter].width = 20
        for row in sheet.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    figures = book.create_sheet("figures")
    figures.append(["key", "value"])
    for key, value in _flatten(report):
        figures.append([key, spreadsheet_safe(value)])
    figures.column_dimensions["A"].width = 60
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _flatten(value, prefix=""):
    """("induction.response.4.n", 14) pairs: the JSON figures as numbers."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "curve":
                continue  # chart data, not a reported figure
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _flatten(inner, f"{prefix}.{index}")
    else:
        yield prefix, value
