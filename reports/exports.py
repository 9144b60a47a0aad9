"""Cohort report files: JSON, CSV and XLSX (the PDF is reports/pdf.py).

The CSV and the XLSX sheet "figures" hold the report's figures as numbers, in one long
table: one row a reported figure (a percentage with its n and denominator, a mean with
its SD, a median with its quartiles, a Kaplan–Meier proportion, a count), one column a
kind of number. A cell is empty where the JSON has null. The XLSX also keeps one
readable sheet per table of the report (the layout of the page and the PDF).

Every numeric leaf of the JSON is in the long table; ``key`` names the JSON object the
row's numbers come from (``induction.response.4``). A figure this module does not
know yet (a key added to the report later) still gets a row of its own, its number
in ``value``, so nothing is left out silently.
"""

import csv
import io
import json
from decimal import Decimal

from django.utils import translation
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from reports.statistics import round_half_up
from reports.tables import report_tables, site_line
from thalimon.protections import spreadsheet_safe

# (column id, header): one column per kind of figure; the unit of the measured ones is
# in the column "unit" (it changes from row to row: CDAI points, mg/L, months, g ...).
COLUMNS = [
    ("section", "section"),
    ("figure", "figure"),
    ("key", "key"),
    ("week", "week"),
    ("month", "month"),
    ("unit", "unit (of mean, SD, median, Q1, Q3, CI, value)"),
    ("n", "n"),
    ("denominator", "denominator"),
    ("percent", "percent (%)"),
    ("events", "events"),
    ("mean", "mean"),
    ("sd", "SD"),
    ("median", "median"),
    ("q1", "Q1"),
    ("q3", "Q3"),
    ("proportion", "proportion (0–1)"),
    ("ci_lower", "95 % CI lower"),
    ("ci_upper", "95 % CI upper"),
    ("value", "value"),
]
HEADER = [header for _, header in COLUMNS]
TEXT_COLUMNS = {"section", "figure", "key", "unit"}
NUMBER_FORMATS = {"percent": "0.0", "proportion": "0.000"}
CSV_ENCODING = "utf-8-sig"  # the BOM tells spreadsheet programs the file is UTF-8
MISSING = object()


def as_json(report):
    return json.dumps(report, indent=2, ensure_ascii=False, default=str)


def as_csv(report):
    """The figures as numbers (one row a figure), UTF-8 with a BOM: bytes ready to write.
    Language-neutral (issue 17): its words are English whoever asks."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    with translation.override("en"):
        for row in figure_rows(report):
            writer.writerow(["" if cell is None else cell for cell in _cells(row)])
    return out.getvalue().encode(CSV_ENCODING)


def as_xlsx(report):
    """One readable sheet per table, then the figures as numeric cells on sheet 'figures'.
    Language-neutral (issue 17): its words are English whoever asks."""
    book = Workbook()
    book.remove(book.active)
    with translation.override("en"):
        sites = site_line(report)
        for table in report_tables(report):
            _summary_sheet(book, table, sites)
        _figures_sheet(book, figure_rows(report))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cells(row):
    """A row's cells in column order: text made spreadsheet-safe, numbers left numbers."""
    return [
        spreadsheet_safe(row.get(column)) if column in TEXT_COLUMNS else row.get(column)
        for column, _ in COLUMNS
    ]


def _summary_sheet(book, table, sites):
    """A table of the report; under its title, the sites its figures cover."""
    sheet = book.create_sheet(table.key[:31])
    sheet.append([table.title])
    sheet["A1"].font = Font(bold=True, size=12)
    sheet.append([spreadsheet_safe(sites)])
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


def _figures_sheet(book, rows):
    sheet = book.create_sheet("figures")
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(_cells(row))
    for index, (column, _) in enumerate(COLUMNS):
        letter = sheet.cell(row=1, column=index + 1).column_letter
        sheet.column_dimensions[letter].width = {"figure": 52, "key": 40, "unit": 22, "section": 16}.get(column, 11)
        if column in NUMBER_FORMATS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
                cell.number_format = NUMBER_FORMATS[column]
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = sheet.dimensions


# ---------------------------------------------------------------------------
# The report as rows of numbers
# ---------------------------------------------------------------------------


def figure_rows(report):
    """Every figure of the report as a dict of column id → value, in the report's order."""
    rows = _Rows(report or {})
    rows.add("report", _cohort_label(report or {}), "n_patients", n="n_patients")
    rows.used.update({"site", "sites"})  # text, said in the label above (null: the whole network)
    for name, section in SECTIONS:
        if isinstance(rows.at(name), dict):
            section(rows)
    rows.add_the_rest()
    return rows.rows


def _cohort_label(report):
    parts = [f"diagnosis {report['diagnosis']}" if report.get("diagnosis") else "",
             f"as of {report['as_of']}" if report.get("as_of") else "",
             f"rules {report['rules_version']}" if report.get("rules_version") else ""]
    details = ", ".join(part for part in parts if part)
    if "sites" in report:  # the sites the figures cover (issue 18), first
        details = f"{site_line(report)}; {details}" if details else site_line(report)
    return f"Patients in the cohort ({details})" if details else "Patients in the cohort"


def _number(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    return value if isinstance(value, (int, float)) else None


class _Rows:
    """The rows built so far, and the JSON paths they have taken their numbers from."""

    def __init__(self, report):
        self.report = report
        self.rows = []
        self.used = set()

    def at(self, path, default=None):
        value = self.report
        for part in path.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return default
        return value

    def add(self, section, figure, key, *, unit="", week=None, month=None, derived=None, **paths):
        """A row; each keyword names a column and the JSON path of its number."""
        row = {"section": section, "figure": figure, "key": key, "unit": unit, "week": week, "month": month}
        for column, path in paths.items():
            self.used.add(path)
            row[column] = _number(self.at(path))
        row.update(derived or {})
        self.rows.append(row)

    def times(self, path):
        """The time points of an object keyed by week or month ("4", "12"), in order."""
        return sorted((self.at(path) or {}), key=lambda key: (not key.isdigit(), int(key) if key.isdigit() else 0, key))

    def share(self, section, figure, path, *, denominator=None, **extra):
        """n, denominator, percent of an {"n", "pct"(, "of")} object."""
        if self.at(f"{path}.of", MISSING) is not MISSING:
            extra["denominator"] = f"{path}.of"
            denominator = None
        self.add(section, figure, path, n=f"{path}.n", percent=f"{path}.pct",
                 derived=None if denominator is None else {"denominator": denominator}, **extra)

    def mean_sd(self, section, figure, path, *, unit, **extra):
        self.add(section, figure, path, unit=unit, mean=f"{path}.0", sd=f"{path}.1", **extra)

    def median_iqr(self, section, figure, path, *, unit, **extra):
        self.add(section, figure, path, unit=unit, median=f"{path}.0", q1=f"{path}.1", q3=f"{path}.2", **extra)

    def survival(self, section, figure, path, **extra):
        """Patients, events, median months (95 % CI) of a Kaplan–Meier estimate."""
        self.add(section, figure, path, unit="months", n=f"{path}.n", events=f"{path}.events",
                 median=f"{path}.median_months", ci_lower=f"{path}.median_ci.0",
                 ci_upper=f"{path}.median_ci.1", **extra)

    def km(self, section, figure, path):
        for month in self.times(path):
            self.add(section, figure, f"{path}.{month}", month=_time(month), proportion=f"{path}.{month}")

    def add_the_rest(self):
        """A row for every numeric (or null) leaf no section has taken: nothing is dropped."""
        for path, _value in _leaves(self.report):
            if path not in self.used:
                self.add(path.split(".")[0], f"Other figure: {path}", path, value=path)


def _leaves(value, prefix=""):
    """(path, number or None) of every leaf, but text and the charts' curves."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "curve":  # chart data, not a reported figure
                yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{prefix}.{index}")
    elif value is None or _number(value) is not None:
        yield prefix, value


def _time(key):
    return int(key) if key.isdigit() else None


def _percent_of(count, denominator):
    """The per-term percentage of Table 4 (1 decimal, half up), None without a denominator."""
    if _number(count) is None or not _number(denominator):
        return None
    return round_half_up(Decimal(count) * 100 / Decimal(denominator), 1)


def _label(code):
    return str(code).replace("_", " ").capitalize()


# ---------------------------------------------------------------------------
# One function a section of interfaces.md §3
# ---------------------------------------------------------------------------


def _baseline(rows):
    n = _number(rows.at("baseline.n"))
    rows.add("baseline", "Patients", "baseline.n", n="baseline.n")
    rows.share("baseline", "Male", "baseline.male", denominator=n)
    rows.median_iqr("baseline", "Age at thalidomide start", "baseline.age_median_iqr", unit="years")
    for group, label in (("montreal_location", "Montreal location"), ("montreal_behavior", "Montreal behaviour")):
        for code in rows.at(f"baseline.{group}") or {}:
            rows.share("baseline", f"{label} {code}", f"baseline.{group}.{code}", denominator=n)
        if group == "montreal_location":
            rows.share("baseline", "Upper GI disease (L4)", "baseline.upper_gi", denominator=n)
    for key, label in (("perianal", "Perianal disease"), ("smoker", "Smoker"),
                       ("prior_biologic", "Prior biologic"), ("ileocolic_resection", "Ileocolic resection")):
        rows.share("baseline", label, f"baseline.{key}", denominator=n)


def _induction(rows):
    for key, label in (("response", "Response (R2.2)"),
                       ("remission", "Remission (R2.2)")):
        for week in rows.times(f"induction.{key}"):
            rows.share("induction", label, f"induction.{key}.{week}", week=_time(week))
    for week in rows.times("induction.assessed"):
        rows.add("induction", "Patients assessed (week 0: with a baseline CDAI)", f"induction.assessed.{week}",
                 week=_time(week), n=f"induction.assessed.{week}")
    for week in rows.times("induction.cdai_mean_sd"):
        rows.mean_sd("induction", "CDAI", f"induction.cdai_mean_sd.{week}", unit="CDAI points", week=_time(week))
    for key, label, unit in (("crp", "CRP", "mg/L"), ("esr", "ESR", "mm/h")):
        for week in rows.times(f"induction.{key}_median_iqr"):
            rows.median_iqr("induction", label, f"induction.{key}_median_iqr.{week}", unit=unit, week=_time(week))


def _relapse_free(rows):
    rows.survival("relapse_free", "Relapse-free survival among responders: patients, relapses, median months",
                  "relapse_free")
    rows.km("relapse_free", "Relapse-free proportion (Kaplan–Meier)", "relapse_free.km")


def _adverse_events(rows):
    n = _number(rows.at("n_patients"))
    rows.add("adverse_events", "Any adverse event (patients; events)", "adverse_events", n="adverse_events.patients",
             percent="adverse_events.pct", events="adverse_events.events", derived={"denominator": n})
    nervous = rows.at("adverse_events.nervous_system_patients")
    rows.add("adverse_events", "Nervous system (neuropathy, somnolence, vertigo, fatigue, insomnia)",
             "adverse_events.nervous_system_patients", n="adverse_events.nervous_system_patients",
             derived={"denominator": n, "percent": _percent_of(nervous, n)})
    for term, count in (rows.at("adverse_events.by_term") or {}).items():
        paths = {"n": f"adverse_events.by_term.{term}"}
        if rows.at(f"adverse_events.by_term_events.{term}", MISSING) is not MISSING:
            paths["events"] = f"adverse_events.by_term_events.{term}"
        rows.add("adverse_events", f"Adverse event: {_label(term)}", f"adverse_events.by_term.{term}",
                 derived={"denominator": n, "percent": _percent_of(count, n)}, **paths)
    for key, label in (("thalidomide_withdrawn", "Led to thalidomide withdrawal only"),
                       ("azathioprine_withdrawn", "Led to azathioprine withdrawal only"),
                       ("both_withdrawn", "Led to withdrawal of both drugs"),
                       ("hospitalised", "Hospitalised")):
        rows.add("adverse_events", f"{label} (events)", f"adverse_events.{key}", events=f"adverse_events.{key}")
    if isinstance(rows.at("adverse_events.ae_free"), dict):
        rows.survival("adverse_events", "Adverse-event-free survival: patients, events, median months",
                      "adverse_events.ae_free")
    rows.km("adverse_events", "Adverse-event-free proportion (Kaplan–Meier)", "adverse_events.ae_free_km")


def _endoscopy(rows):
    n = _number(rows.at("endoscopy.n"))
    rows.add("endoscopy", "Patients with a baseline and a later endoscopy", "endoscopy.n", n="endoscopy.n")
    for key, label in (("remission", "Endoscopic remission"),
                       ("mucosal_healing", "Mucosal healing (at any follow-up endoscopy)"),
                       ("mucosal_healing_at_last", "Mucosal healing at the last endoscopy")):
        if isinstance(rows.at(f"endoscopy.{key}"), dict):
            rows.share("endoscopy", label, f"endoscopy.{key}", denominator=n)
    for score, label, unit in (("cdeis", "CDEIS", "CDEIS points"), ("rutgeerts", "Rutgeerts score", "Rutgeerts (i0–i4)")):
        for when, words in (("baseline", "at baseline"), ("follow_up", "at the last follow-up")):
            block_n = f"endoscopy.{score}_mean_sd.n"
            paths = {"n": block_n} if rows.at(block_n, MISSING) is not MISSING else {}
            rows.mean_sd("endoscopy", f"{label} {words} (n: patients with both)",
                         f"endoscopy.{score}_mean_sd.{when}", unit=unit, **paths)


def _titration(rows):
    rows.add("titration", "Thalidomide dose changes checked", "titration.dose_changes", n="titration.dose_changes")
    for code in rows.at("titration.deviations") or {}:
        rows.add("titration", f"Dose changes with deviation {code}", f"titration.deviations.{code}",
                 n=f"titration.deviations.{code}")
    rows.add("titration", "Overrides", "titration.overrides", n="titration.overrides")


def _exposure(rows):
    rows.add("exposure", "Patient-months on thalidomide", "exposure.patient_months", unit="patient-months",
             value="exposure.patient_months")
    rows.add("exposure", "Adverse events per 100 patient-months", "exposure.ae_per_100_patient_months",
             unit="events per 100 patient-months", value="exposure.ae_per_100_patient_months")
    paths = {"n": "exposure.cumulative_dose_n"} if rows.at("exposure.cumulative_dose_n", MISSING) is not MISSING else {}
    rows.median_iqr("exposure", "Cumulative thalidomide dose per patient (n: patients with dose rows)",
                    "exposure.cumulative_dose_g_median_iqr", unit="g", **paths)


def _prescriptions(rows):
    rows.add("prescriptions", "Prescriptions issued", "prescriptions.issued", n="prescriptions.issued")
    for code in rows.at("prescriptions.deviations") or {}:
        rows.add("prescriptions", f"Prescriptions with deviation {code}", f"prescriptions.deviations.{code}",
                 n=f"prescriptions.deviations.{code}")
    # The n of each share (an addition to §3), where the report has it.
    counts = {key: f"prescriptions.{key}" for key in ("no_deviation", "dispensed", "dispensed_in_time")
              if rows.at(f"prescriptions.{key}", MISSING) is not MISSING}
    rows.add("prescriptions", "Prescriptions without a deviation (denominator: issued)",
             "prescriptions.no_deviation_pct", percent="prescriptions.no_deviation_pct",
             **({"n": counts["no_deviation"], "denominator": "prescriptions.issued"} if "no_deviation" in counts
                else {}))
    if "dispensed" in counts:
        rows.add("prescriptions", "Prescriptions dispensed", "prescriptions.dispensed", n=counts["dispensed"])
    rows.add("prescriptions", "Dispensed in time (denominator: dispensed)", "prescriptions.dispensed_in_time_pct",
             percent="prescriptions.dispensed_in_time_pct",
             **({"n": counts["dispensed_in_time"], "denominator": counts["dispensed"]}
                if "dispensed_in_time" in counts and "dispensed" in counts else {}))
    if rows.at("prescriptions.overrides", MISSING) is not MISSING:
        rows.add("prescriptions", "Prescriptions with an override", "prescriptions.overrides",
                 n="prescriptions.overrides")


SECTIONS = [
    ("baseline", _baseline),
    ("induction", _induction),
    ("relapse_free", _relapse_free),
    ("adverse_events", _adverse_events),
    ("endoscopy", _endoscopy),
    ("titration", _titration),
    ("exposure", _exposure),
    ("prescriptions", _prescriptions),
]
