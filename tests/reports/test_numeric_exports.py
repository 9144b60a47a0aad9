"""The cohort report's CSV and XLSX hold every figure of the JSON as a number.

Each test writes the files, reads them back as a spreadsheet program would (the csv
module with ``utf-8-sig``; openpyxl) and looks every numeric leaf of the JSON report up
in the row and column where it belongs. Where a leaf belongs is written out below
(``EXPECTED``), independently of reports/exports.py.
"""

import csv
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from reports import exports

BOM = b"\xef\xbb\xbf"
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"
TEXT_HEADERS = {"section", "figure", "key", "unit (of mean, SD, median, Q1, Q3, CI, value)"}
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")

SHARE = {"n": "n", "pct": "percent (%)", "of": "denominator"}
MEAN_SD = ["mean", "SD"]
MEDIAN_IQR = ["median", "Q1", "Q3"]
SURVIVAL = {"n": "n", "events": "events", "median_months": "median",
            r"median_ci\.0": "95 % CI lower", r"median_ci\.1": "95 % CI upper"}


def _fields(row, columns):
    """The leaves below the object ``row`` (a pattern) go to its own row: each field (a
    list position when ``columns`` is a list) to the column named."""
    pairs = enumerate(columns) if isinstance(columns, list) else columns.items()
    return [(rf"({row})\.{field}", r"\1", column) for field, column in pairs]


# (pattern of a JSON leaf path, key of its row, header of its column); first match wins.
EXPECTED = [
    (r"n_patients", "n_patients", "n"),
    (r"(baseline)\.n", r"\1.n", "n"),
    *_fields(r"baseline\.age_median_iqr", MEDIAN_IQR),
    *_fields(r"baseline\.(?:montreal_location|montreal_behavior)\.\w+", SHARE),
    *_fields(r"baseline\.\w+", SHARE),
    *_fields(r"induction\.(?:response|remission)\.\d+", SHARE),
    (r"(induction\.assessed\.\d+)", r"\1", "n"),
    *_fields(r"induction\.cdai_mean_sd\.\d+", MEAN_SD),
    *_fields(r"induction\.(?:crp|esr)_median_iqr\.\d+", MEDIAN_IQR),
    *_fields(r"relapse_free|adverse_events\.ae_free", SURVIVAL),
    (r"(relapse_free\.km\.\d+|adverse_events\.ae_free_km\.\d+)", r"\1", "proportion (0–1)"),
    (r"adverse_events\.patients", "adverse_events", "n"),
    (r"adverse_events\.pct", "adverse_events", "percent (%)"),
    (r"adverse_events\.events", "adverse_events", "events"),
    (r"(adverse_events\.by_term\.\w+)", r"\1", "n"),
    (r"adverse_events\.by_term_events\.(\w+)", r"adverse_events.by_term.\1", "events"),
    (r"(adverse_events\.nervous_system_patients)", r"\1", "n"),
    (r"(adverse_events\.(?:thalidomide_withdrawn|azathioprine_withdrawn|both_withdrawn|hospitalised))",
     r"\1", "events"),
    (r"(endoscopy\.n)", r"\1", "n"),
    *_fields(r"endoscopy\.(?:remission|mucosal_healing|mucosal_healing_at_last)", SHARE),
    *_fields(r"endoscopy\.(?:cdeis|rutgeerts)_mean_sd\.(?:baseline|follow_up)", MEAN_SD),
    (r"(titration\.(?:dose_changes|overrides|deviations\.\w+))", r"\1", "n"),
    (r"(exposure\.(?:patient_months|ae_per_100_patient_months))", r"\1", "value"),
    *_fields(r"exposure\.cumulative_dose_g_median_iqr", MEDIAN_IQR),
    (r"exposure\.cumulative_dose_n", "exposure.cumulative_dose_g_median_iqr", "n"),
    (r"(prescriptions\.(?:issued|dispensed|overrides|deviations\.\w+))", r"\1", "n"),
    (r"(prescriptions\.(?:no_deviation|dispensed_in_time))_pct", r"\1_pct", "percent (%)"),
    (r"(prescriptions\.(?:no_deviation|dispensed_in_time))", r"\1_pct", "n"),  # the n beside its share
]
# The n of a paired mean-SD block stands in both of its rows.
BLOCK_N = re.compile(r"(endoscopy\.(?:cdeis|rutgeerts)_mean_sd)\.n")


# Text keys, null for the whole network: not figures (said in the n_patients row's label).
TEXT_KEYS = {"site", "sites"}


def _leaves(value, prefix=""):
    """(path, value) of every number or null of the JSON, chart curves and text left out."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "curve" and not (prefix == "" and key in TEXT_KEYS):
                yield from _leaves(inner, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{prefix}.{index}")
    elif not isinstance(value, str):
        yield prefix, value


def _places(path, value):
    """Where a leaf must be: [(row key, column header)]; a figure added later to the
    report (no pattern yet) must still be there, in the column "value" of its own row."""
    block = BLOCK_N.fullmatch(path)
    if block:
        return [(f"{block[1]}.baseline", "n"), (f"{block[1]}.follow_up", "n")]
    for pattern, key, column in EXPECTED:
        match = re.fullmatch(pattern, path)
        if match:
            return [(match.expand(key), column)]
    return [(path, "value")]


def _csv_table(content):
    assert content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return rows[0], rows[1:]


def _xlsx_table(content):
    book = load_workbook(io.BytesIO(content))
    rows = [list(row) for row in book["figures"].iter_rows(values_only=True)]
    return rows[0], rows[1:], book


def _by_key(header, rows):
    keys = [row[header.index("key")] for row in rows]
    assert len(keys) == len(set(keys)), "a row key stands twice"
    return {row[header.index("key")]: row for row in rows}


def _xlsx_number(cell, value):
    """A numeric cell's number; a whole float (15.0) comes back as 15 (Excel has one kind)."""
    assert type(cell) in (int, float), f"{cell!r} is not a number"
    assert isinstance(cell, int) or not isinstance(value, int), f"{cell!r} is not a whole number"
    return cell


def _csv_number(text, value):
    assert PLAIN_NUMBER.fullmatch(text), f"{text!r} is not a plain number"
    return int(text) if isinstance(value, int) else float(text)


def _check(report, header, rows, *, empty, number):
    """Every leaf is a number equal to the JSON's (empty for null) in its row and column,
    and no text stands in a number column; returns how many numbers were found."""
    table = _by_key(header, rows)
    checked = 0
    for path, value in _leaves(report):
        for key, column in _places(path, value):
            assert key in table, f"{path}: no row {key}"
            cell = table[key][header.index(column)]
            if value is None:
                assert cell == empty, f"{path}: {cell!r} where the JSON has null"
                continue
            assert number(cell, value) == value, f"{path}: {cell!r} != {value!r}"
            checked += 1
    for row in rows:
        for name, cell in zip(header, row, strict=True):
            if name not in TEXT_HEADERS and cell != empty:
                number(cell, 0.5)
    return checked


def _check_xlsx(report, content):
    header, rows, _ = _xlsx_table(content)
    return _check(report, header, rows, empty=None, number=_xlsx_number)


def _check_csv(report, content):
    header, rows = _csv_table(content)
    return _check(report, header, rows, empty="", number=_csv_number)


def _full_report():
    """A report with every key of interfaces.md §3 and the documented additions."""
    km = {"12": 0.851, "24": 0.783, "36": 0.701, "48": 0.666, "60": 0.558}
    return {
        "as_of": "2020-06-30", "rules_version": "2024.1", "diagnosis": "CD", "n_patients": 122,
        "baseline": {
            "n": 122, "male": {"n": 70, "pct": 57.4}, "age_median_iqr": [31.0, 24.25, 42.75],
            "montreal_location": {"L1": {"n": 30, "pct": 24.6}, "L3": {"n": 92, "pct": 75.4}},
            "upper_gi": {"n": 12, "pct": 9.8}, "montreal_behavior": {"B1": {"n": 60, "pct": 49.2}},
            "perianal": {"n": 80, "pct": 65.6}, "smoker": {"n": 5, "pct": 4.1},
            "prior_biologic": {"n": 0, "pct": 0.0}, "ileocolic_resection": {"n": 20, "pct": 16.4},
        },
        "induction": {
            "response": {w: {"n": 14 + i, "pct": 11.5 + i, "of": 122 - i} for i, w in enumerate(["4", "8", "12", "24"])},
            "remission": {"4": {"n": 9, "pct": 7.4, "of": 122}, "8": {"n": 0, "pct": None, "of": 0},
                          "12": {"n": 30, "pct": 24.6, "of": 122}, "24": {"n": 41, "pct": 33.6, "of": 122}},
            "cdai_mean_sd": {"0": [204.1, 57.4], "4": [150.25, 40.1], "8": [120.0, None],
                             "12": [None, None], "24": [99.5, 30.75]},
            "crp_median_iqr": {"0": [15.0, 7.6, 25.2], "4": [9.1, 4.2, 18.35], "8": [None, None, None],
                               "12": [5.5, 2.0, 11.0], "24": [3.25, 1.5, 7.0]},
            "esr_median_iqr": {"0": [32.0, 27.0, 42.0], "4": [25.0, 17.5, 33.0], "8": [20.0, 12.0, 30.0],
                               "12": [18.0, 11.0, 26.0], "24": [15.0, 10.0, 21.0]},
            "assessed": {"0": 120, "4": 110, "8": 0, "12": 95, "24": 88},
        },
        "relapse_free": {"n": 98, "events": 22, "km": km, "median_months": 74.7, "median_ci": [39.6, None],
                         "curve": {"months": [0.0, 1.5], "survival": [1.0, 0.9]}},
        "adverse_events": {
            "patients": 62, "pct": 50.8, "events": 90,
            "by_term": {"peripheral_neuropathy": 21, "somnolence": 7, "leukopenia": 0},
            "by_term_events": {"peripheral_neuropathy": 23, "somnolence": 7, "leukopenia": 0},
            "nervous_system_patients": 35, "thalidomide_withdrawn": 7, "azathioprine_withdrawn": 5,
            "both_withdrawn": 0, "hospitalised": 1,
            "ae_free_km": {**km, "60": None},
            "ae_free": {"n": 122, "events": 62, "median_months": None, "median_ci": [None, None],
                        "curve": {"months": [0.0]}},
        },
        "endoscopy": {
            "n": 55, "remission": {"n": 35, "pct": 63.6}, "mucosal_healing": {"n": 13, "pct": 23.6},
            "mucosal_healing_at_last": {"n": 11, "pct": 20.0},
            "cdeis_mean_sd": {"baseline": [13.4, 4.92], "follow_up": [6.12, 5.24], "n": 40},
            "rutgeerts_mean_sd": {"baseline": [3.1, 0.7], "follow_up": [1.9, None], "n": 1},
        },
        "titration": {"dose_changes": 48, "deviations": {"step_too_soon": 3, "step_too_large": 1}, "overrides": 2},
        "exposure": {"patient_months": 1834.25, "ae_per_100_patient_months": 4.91,
                     "cumulative_dose_g_median_iqr": [54.6, 21.0, 98.15], "cumulative_dose_n": 119},
        "prescriptions": {"issued": 310, "deviations": {"supply_too_long": 4, "no_pregnancy_test": 1},
                          "no_deviation_pct": 98.4, "dispensed_in_time_pct": 95.5},
        "drill_down_later": {"some_count": 17},  # a key the exporter does not know yet
    }


def test_every_figure_of_a_full_report_is_a_number_in_its_column():
    report = _full_report()
    numbers = sum(1 for _, value in _leaves(report) if value is not None)
    assert _check_csv(report, exports.as_csv(report)) >= numbers
    assert _check_xlsx(report, exports.as_xlsx(report)) >= numbers


def test_time_points_are_numbers_and_rows_follow_the_report():
    header, rows, book = _xlsx_table(exports.as_xlsx(_full_report()))
    table = _by_key(header, rows)
    week, month = header.index("week"), header.index("month")
    assert table["induction.response.12"][week] == 12 and table["induction.cdai_mean_sd.0"][week] == 0
    assert table["relapse_free.km.36"][month] == 36 and table["relapse_free.km.36"][week] is None
    assert table["induction.crp_median_iqr.4"][header.index("unit (of mean, SD, median, Q1, Q3, CI, value)")] == "mg/L"
    assert table["relapse_free"][header.index("unit (of mean, SD, median, Q1, Q3, CI, value)")] == "months"
    # Table 4's per-term percentage (of the cohort) is there as a number too.
    assert table["adverse_events.by_term.peripheral_neuropathy"][header.index("percent (%)")] == 17.2
    assert table["adverse_events.by_term.peripheral_neuropathy"][header.index("denominator")] == 122
    sections = [row[0] for row in rows]
    assert sections.index("induction") < sections.index("relapse_free") < sections.index("prescriptions")
    # The readable summary stays: one formatted sheet per table, text as on the page.
    assert {"induction", "adverse_events", "exposure", "figures"} <= set(book.sheetnames)
    induction = [list(r) for r in book["induction"].iter_rows(values_only=True)]
    assert induction[3][:3] == ["Response, n (%)", None, "14 (11.5 %)"]


def test_the_csv_is_utf8_with_a_bom_and_keeps_its_dashes():
    content = exports.as_csv(_full_report())
    assert content[:3] == BOM and content[3:4] != BOM[:1]
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header[0] == "section" and "proportion (0–1)" in header  # an en dash, not mojibake
    assert "Relapse-free proportion (Kaplan–Meier)" in content.decode("utf-8-sig")


def test_text_is_guarded_against_formulas_and_numbers_stay_numbers():
    report = _full_report()
    report["=cmd"] = {"a": 2}  # a top-level key the exporter does not know: section "=cmd"
    report["exposure"]["patient_months"] = -1.5  # a negative number is still a number
    header, rows = _csv_table(exports.as_csv(report))
    table = _by_key(header, rows)
    assert table["'=cmd.a"][header.index("section")] == "'=cmd"
    assert table["'=cmd.a"][header.index("value")] == "2"
    assert table["exposure.patient_months"][header.index("value")] == "-1.5"
    xheader, xrows, _ = _xlsx_table(exports.as_xlsx(report))
    xtable = _by_key(xheader, xrows)
    assert xtable["exposure.patient_months"][xheader.index("value")] == -1.5
    assert xtable["'=cmd.a"][xheader.index("section")] == "'=cmd"
    assert xtable["'=cmd.a"][xheader.index("value")] == 2


@pytest.mark.django_db
def test_the_exports_of_an_imported_datasheet_hold_every_json_figure(tmp_path):
    call_command("import_datasheet", str(EXAMPLE))
    files = {}
    for fmt in ("json", "csv", "xlsx"):
        call_command("cohort_report", "--format", fmt, "--out", str(tmp_path / f"r.{fmt}"))
        files[fmt] = (tmp_path / f"r.{fmt}").read_bytes()
    report = json.loads(files["json"])
    assert report["n_patients"] == 4 and report["adverse_events"]["events"] >= 1
    numbers = sum(1 for _, value in _leaves(report) if value is not None)
    assert numbers >= 60  # the example has figures in every section: the check is not vacuous
    assert files["csv"].startswith(BOM)
    assert _check_csv(report, files["csv"]) >= numbers
    assert _check_xlsx(report, files["xlsx"]) >= numbers


@pytest.mark.django_db
def test_the_web_downloads_are_numeric_and_the_csv_has_a_bom(client, clinic_lead, tmp_path):
    call_command("import_datasheet", str(EXAMPLE))
    client.force_login(clinic_lead)
    report = json.loads(client.get(reverse("reports:download", args=["json"])).content)
    response = client.get(reverse("reports:download", args=["csv"]))
    assert response["Content-Type"].startswith("text/csv") and response.content.startswith(BOM)
    assert _check_csv(report, response.content) > 0
    xlsx = client.get(reverse("reports:download", args=["xlsx"]))
    assert _check_xlsx(report, xlsx.content) > 0
