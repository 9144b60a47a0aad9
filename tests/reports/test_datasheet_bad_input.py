"""Bad datasheets (interfaces.md §1 import rules): for every column of every file a
bad value, and the bad files, headers and zips. Each case must give exactly ONE
clear error ``file:line: column: message`` and import nothing at all.

The base datasheet fills every column of every file with a valid value (one
patient, one row in each file); each case changes one cell (or one file).
"""

import csv
import io
import zipfile

import pytest

from patients.models import Patient
from reports.datasheet import FILES, import_datasheet
from safety.models import AdverseEvent, Alert, Reminder
from therapy.models import DoseChange, PregnancyTest, Prescription, TherapyCourse
from visits.models import Endoscopy, LabResult, Visit

pytestmark = pytest.mark.django_db

MODELS = [Patient, TherapyCourse, Visit, LabResult, DoseChange, Endoscopy, AdverseEvent,
          PregnancyTest, Prescription, Alert, Reminder]

BASE = {
    "patients.csv": {
        "patient": "BI01", "site": "MAIN", "sex": "F", "birth_date": "1990-05-01", "height_cm": "165",
        "standard_weight_kg": "60", "diagnosis": "CD", "aid_type": "", "montreal_location": "L3",
        "upper_gi": "0", "montreal_behavior": "B1", "perianal": "0", "reproductive_potential": "1",
        "non_reproductive_reason": "", "irregular_cycles": "0", "smoker": "0",
        "ileocolic_resection": "1", "prior_biologic": "0",
        "tpmt": "normal", "nudt15": "normal", "thalidomide_start": "2022-01-10",
        "thalidomide_stop": "", "target_dose_mg": "100", "regimen": "adult", "regimen_reason": "",
        "premenarchal": "0", "contraception_start": "2021-11-01",
        "xanthine_oxidase_inhibitor": "0", "status": "active", "status_date": "",
        "baseline_cdai": "250", "crp_at_lor": "12", "esr_at_lor": "30", "tgn_on_aza_mono": "240",
    },
    "visits.csv": {
        "patient": "BI01", "date": "2022-01-24", "contact": "clinic", "weight_kg": "60",
        "cdai_stools": "20", "cdai_pain": "8", "cdai_wellbeing": "10", "cdai_complications": "1",
        "cdai_antidiarrheal": "0", "cdai_mass": "0", "hematocrit": "38", "cdai": "", "hbi": "3",
        "mayo": "", "aidai": "2", "neuropathy_grade": "0", "contraception_confirmed": "1",
        "relapse_event": "", "heart_rate": "70", "mayo_endoscopic": "1",
        "global_assessment": "improved", "background_therapy": "unchanged", "breastfeeding": "0",
        "neurological_review": "0", "notes": "note", "cdai_computed": "", "clinical_status": "",
    },
    "labs.csv": {
        "patient": "BI01", "date": "2022-01-24", "test": "hemoglobin", "value": "120", "unit": "g/L",
    },
    "doses.csv": {
        "patient": "BI01", "drug": "thalidomide", "date": "2022-01-10", "dose_mg": "25",
        "reason": "start", "override_reason": "", "deviations": "",
    },
    "endoscopies.csv": {
        "patient": "BI01", "date": "2022-01-05", "cdeis": "8.5", "ses_cd": "10", "rutgeerts": "2",
        "ulceration": "1",
    },
    "adverse_events.csv": {
        "patient": "BI01", "onset": "2022-02-01", "term": "other", "term_text": "headache",
        "grade": "1", "serious": "0", "drug": "unrelated", "action_thalidomide": "none",
        "action_azathioprine": "none", "hospitalised": "0", "resolved": "2022-02-05",
    },
    "pregnancy_tests.csv": {"patient": "BI01", "date": "2022-01-09", "result": "negative"},
    "prescriptions.csv": {
        "patient": "BI01", "issue_date": "2022-01-10", "dose_mg": "25", "days_supply": "28",
        "contraception_confirmed": "1", "dispensed_date": "2022-01-12", "authorisation": "A-1",
        "override_reason": "", "risk_category": "", "deviations": "",
    },
}

# (file, column, bad value, a fragment of the expected message)
CELL_CASES = [
    # patients.csv
    ("patients.csv", "site", "no site!", "is not a site code"),  # the command line creates a good unknown code
    ("patients.csv", "sex", "X", "unknown code 'X'; expected one of: M, F"),
    ("patients.csv", "birth_date", "1990-02-30", "must be a date as YYYY-MM-DD"),
    ("patients.csv", "birth_date", "2999-01-01", "is in the future"),
    ("patients.csv", "height_cm", "1.65", "Height must be between 40 and 250 cm"),
    ("patients.csv", "height_cm", "tall", "must be a number"),
    ("patients.csv", "standard_weight_kg", "600", "Standard weight must be between 2 and 250 kg"),
    ("patients.csv", "diagnosis", "IBD", "unknown code 'IBD'"),
    ("patients.csv", "aid_type", "FMF", "applies to AID only"),
    ("patients.csv", "montreal_location", "L5", "unknown code 'L5'"),
    ("patients.csv", "upper_gi", "2", "must be 0 or 1, got '2'"),
    ("patients.csv", "montreal_behavior", "B4", "unknown code 'B4'"),
    ("patients.csv", "perianal", "yes", "must be 0 or 1"),
    ("patients.csv", "reproductive_potential", "2", "must be 0 or 1"),
    ("patients.csv", "non_reproductive_reason", "menopause",
     "unknown code 'menopause'; expected one of: hysterectomy, bilateral_oophorectomy, "
     "amenorrhoea_24_months"),
    ("patients.csv", "irregular_cycles", "x", "must be 0 or 1"),
    ("patients.csv", "smoker", "true", "must be 0 or 1"),
    ("patients.csv", "ileocolic_resection", "maybe", "must be 0 or 1"),
    ("patients.csv", "prior_biologic", "2", "must be 0 or 1"),
    ("patients.csv", "tpmt", "fast", "unknown code 'fast'"),
    ("patients.csv", "nudt15", "slow", "unknown code 'slow'"),
    ("patients.csv", "thalidomide_start", "2022-01-11",
     "must equal the first thalidomide row of doses.csv (2022-01-10)"),
    ("patients.csv", "thalidomide_start", "2999-01-01", "is in the future"),
    ("patients.csv", "thalidomide_stop", "2022-02-01", "must be empty (ongoing)"),
    ("patients.csv", "target_dose_mg", "150", "Target dose"),
    ("patients.csv", "regimen", "child", "unknown code 'child'"),
    ("patients.csv", "regimen_reason", "x" * 201, "at most 200 characters"),
    ("patients.csv", "premenarchal", "2", "must be 0 or 1"),
    ("patients.csv", "contraception_start", "2999-01-01", "is in the future"),
    ("patients.csv", "xanthine_oxidase_inhibitor", "y", "must be 0 or 1"),
    ("patients.csv", "status", "dead", "unknown code 'dead'"),
    ("patients.csv", "status_date", "2022-06-01", "Status date is only for died"),
    ("patients.csv", "baseline_cdai", "2000", "Baseline CDAI must be between 0 and 1100"),
    ("patients.csv", "crp_at_lor", "-1", "CRP at loss of response must be between 0 and 500 mg/L"),
    ("patients.csv", "esr_at_lor", "fast", "must be a number"),
    ("patients.csv", "tgn_on_aza_mono", "5000", "between 0 and 3000"),
    # visits.csv
    ("visits.csv", "patient", "NOPE", "unknown patient 'NOPE'"),
    ("visits.csv", "patient", "bi01", "did you mean 'BI01'?"),
    ("visits.csv", "date", "2999-01-01", "is in the future"),
    ("visits.csv", "date", "24/01/2022", "must be a date as YYYY-MM-DD"),
    ("visits.csv", "contact", "video", "unknown code 'video'; expected one of: clinic, phone"),
    ("visits.csv", "weight_kg", "0.5", "Weight must be"),
    ("visits.csv", "cdai_stools", "-3", "Liquid or very soft stools must be"),
    ("visits.csv", "cdai_pain", "22", "0–21"),
    ("visits.csv", "cdai_pain", "2.5", "must be a whole number, got '2.5'"),
    ("visits.csv", "cdai_wellbeing", "29", "0–28"),
    ("visits.csv", "cdai_complications", "7", "0–6"),
    ("visits.csv", "cdai_antidiarrheal", "2", "must be 0 or 1"),
    ("visits.csv", "cdai_mass", "3", "Abdominal mass must be 0 (none), 2 (questionable) or 5"),
    ("visits.csv", "hematocrit", "0.42", "Haematocrit must be given in %"),
    ("visits.csv", "cdai", "1200", "CDAI total must be between 0 and 1100"),
    ("visits.csv", "hbi", "250", "HBI total must be between 0 and 200"),
    ("visits.csv", "mayo", "13", "Mayo total must be between 0 and 12"),
    ("visits.csv", "aidai", "400", "AIDAI"),
    ("visits.csv", "neuropathy_grade", "5", "must be one of 0, 1, 2, 3, 4, got 5"),
    ("visits.csv", "contraception_confirmed", "yes", "must be 0 or 1"),
    ("visits.csv", "relapse_event", "flare", "unknown code 'flare'"),
    ("visits.csv", "heart_rate", "300", "Heart rate must be between 20 and 250"),
    ("visits.csv", "mayo_endoscopic", "4", "Mayo endoscopic subscore must be 0–3"),
    ("visits.csv", "global_assessment", "better", "unknown code 'better'"),
    ("visits.csv", "background_therapy", "paused", "unknown code 'paused'"),
    ("visits.csv", "breastfeeding", "2", "must be 0 or 1"),
    ("visits.csv", "neurological_review", "x", "must be 0 or 1"),
    ("visits.csv", "notes", "bad\x00note", "NUL character"),
    # labs.csv
    ("labs.csv", "patient", "NOPE", "unknown patient 'NOPE'"),
    ("labs.csv", "date", "2999-01-01", "is in the future"),
    ("labs.csv", "test", "ferritin", "unknown code 'ferritin'"),
    ("labs.csv", "value", "9.8", "Haemoglobin 9.8 is outside the plausible range 30–250: expected g/L"),
    ("labs.csv", "value", "n/a", "must be a number"),
    ("labs.csv", "unit", "g/dL", "Haemoglobin must be given in g/L; 'g/dL' is not accepted"),
    # doses.csv
    ("doses.csv", "patient", "NOPE", "unknown patient 'NOPE'"),
    ("doses.csv", "drug", "aspirin", "unknown code 'aspirin'"),
    ("doses.csv", "date", "2022-02-30", "must be a date as YYYY-MM-DD"),
    ("doses.csv", "date", "2999-01-01", "is in the future"),
    ("doses.csv", "dose_mg", "500", "Dose must be between 0 and 400 mg/day"),
    # a negative thalidomide dose once crashed the course step (ValueError) instead of this line
    ("doses.csv", "dose_mg", "-25", "Dose must be between 0 and 400 mg/day"),
    ("doses.csv", "dose_mg", "25mg", "must be a number (digits and a decimal point, no unit)"),
    ("doses.csv", "reason", "x" * 201, "at most 200 characters"),
    ("doses.csv", "override_reason", "a\x00b", "NUL character"),
    # endoscopies.csv
    ("endoscopies.csv", "patient", "NOPE", "unknown patient 'NOPE'"),
    ("endoscopies.csv", "date", "2999-01-01", "is in the future"),
    ("endoscopies.csv", "cdeis", "50", "CDEIS total must be between 0 and 44"),
    ("endoscopies.csv", "ses_cd", "61", "SES-CD total must be between 0 and 60"),
    ("endoscopies.csv", "rutgeerts", "5", "must be one of 0, 1, 2, 3, 4, got 5"),
    ("endoscopies.csv", "ulceration", "2", "must be 0 or 1"),
    # adverse_events.csv
    ("adverse_events.csv", "patient", "NOPE", "unknown patient 'NOPE'"),
    ("adverse_events.csv", "onset", "2999-01-01", "is in the future"),
    ("adverse_events.csv", "term", "headache", "unknown code 'headache'"),
    ("adverse_events.csv", "term_text", "", "Description: say what the event was"),
    ("adverse_events.csv", "grade", "6", "must be one of 1, 2, 3, 4, 5, got 6"),
    ("adverse_events.csv", "serious", "2", "must be 0 or 1"),
    ("adverse_events.csv", "drug", "aspirin", "unknown code 'aspirin'"),
    ("adverse_events.csv", "action_thalidomide", "stopped", "unknown code 'stopped'"),
    ("adverse_events.csv", "action_azathioprine", "halved", "unknown code 'halved'"),
    ("adverse_events.csv", "hospitalised", "2", "must be 0 or 1"),
    ("adverse_events.csv", "resolved", "2022-01-01", "Resolution date cannot be before the onset"),
    # pregnancy_tests.csv
    ("pregnancy_tests.csv", "patient", "NOPE", "unknown patient 'NOPE'"),
    ("pregnancy_tests.csv", "date", "2999-01-01", "is in the future"),
    ("pregnancy_tests.csv", "result", "pending", "unknown code 'pending'"),
    # prescriptions.csv (R9)
    ("prescriptions.csv", "patient", "NOPE", "unknown patient 'NOPE'"),
    ("prescriptions.csv", "issue_date", "2999-01-01", "is in the future"),
    ("prescriptions.csv", "dose_mg", "twenty", "must be a number"),
    ("prescriptions.csv", "days_supply", "367", "Days of supply must be between 1 and 366"),
    ("prescriptions.csv", "contraception_confirmed", "y", "must be 0 or 1"),
    ("prescriptions.csv", "dispensed_date", "2022-01-09", "cannot be dispensed before its issue date"),
    ("prescriptions.csv", "authorisation", "A" * 61, "at most 60 characters"),
    ("prescriptions.csv", "override_reason", "a\x00b", "NUL character"),
]

# Computed export columns: any value is accepted; a differing one is only a warning.
WARNING_CASES = [
    ("visits.csv", "cdai_computed", "abc"),
    ("visits.csv", "clinical_status", "relapse"),
    ("doses.csv", "deviations", "step_too_soon"),
    ("prescriptions.csv", "risk_category", "male"),
    ("prescriptions.csv", "deviations", "early_repeat"),
]


def _write(folder, sheet, *, headers=None):
    folder.mkdir(parents=True, exist_ok=True)
    for name, row in sheet.items():
        header = (headers or {}).get(name, list(row))
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerow([row.get(column, "") for column in list(row)])
    return folder


def _sheet(changes=None):
    """The base datasheet with {(file, column): value} changes."""
    sheet = {name: dict(row) for name, row in BASE.items()}
    for (name, column), value in (changes or {}).items():
        sheet[name][column] = value
    return sheet


def _counts():
    return {m.__name__: m.objects.count() for m in MODELS} | {
        f"history.{m.__name__}": m.history.count() for m in MODELS
    }


def _only_error(report, prefix, fragment):
    lines = [str(e) for e in report.errors]
    assert len(lines) == 1, lines
    assert lines[0].startswith(prefix), lines
    assert fragment in lines[0], lines
    return lines[0]


def test_base_datasheet_is_valid_and_fills_every_column(tmp_path):
    for name, spec in FILES.items():
        assert list(BASE[name]) == [c.name for c in spec.columns], name
    report = import_datasheet(_write(tmp_path / "sheet", _sheet()))
    assert report.errors == [], [str(e) for e in report.errors]
    assert {name: c["created"] for name, c in report.counts.items()} == {n: 1 for n in BASE}


def test_every_column_of_every_file_has_a_bad_value_case():
    covered = {(name, column) for name, column, *_ in CELL_CASES + WARNING_CASES}
    covered.add(("patients.csv", "patient"))  # test_bad_patient_code below
    missing = {(n, c.name) for n, spec in FILES.items() for c in spec.columns} - covered
    assert missing == set()


@pytest.mark.parametrize(
    "name, column, value, fragment",
    CELL_CASES,
    ids=[f"{n}-{c}-{i}" for i, (n, c, *_) in enumerate(CELL_CASES)],
)
def test_bad_cell(tmp_path, name, column, value, fragment):
    before = _counts()
    report = import_datasheet(_write(tmp_path / "sheet", _sheet({(name, column): value})))
    _only_error(report, f"{name}:2: {column}: ", fragment)
    assert _counts() == before


def test_bad_patient_code(tmp_path):
    sheet = _sheet()
    for row in sheet.values():
        row["patient"] = "bad code!"
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    _only_error(report, "patients.csv:2: patient: ", "Patient code must be 1–32 letters")
    assert _counts() == {k: 0 for k in _counts()}


@pytest.mark.parametrize("name, column, value", WARNING_CASES)
def test_computed_column_value_is_a_warning_not_an_error(tmp_path, name, column, value):
    report = import_datasheet(_write(tmp_path / "sheet", _sheet({(name, column): value})))
    assert report.errors == []
    assert [(w.file, w.line, w.column) for w in report.warnings] == [(name, 2, column)]
    assert "computed from the record" in report.warnings[0].message  # never the stored value itself


# --- cross-file rules ----------------------------------------------------------------------
def test_pregnancy_test_of_a_male_patient(tmp_path):
    sheet = _sheet({("patients.csv", "sex"): "M", ("patients.csv", "irregular_cycles"): ""})
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    _only_error(report, "pregnancy_tests.csv:2: result: ", "female patients only")
    assert _counts() == {k: 0 for k in _counts()}


def test_rutgeerts_without_resection(tmp_path):
    sheet = _sheet({("patients.csv", "ileocolic_resection"): "0"})
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    _only_error(report, "endoscopies.csv:2: rutgeerts: ", "ileocolonic resection")


def test_visit_before_birth(tmp_path):
    sheet = _sheet({("visits.csv", "date"): "1980-01-01"})
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    _only_error(report, "visits.csv:2: date: ", "before the patient's birth date")


def test_thalidomide_stop_must_be_the_zero_row(tmp_path):
    folder = _write(tmp_path / "sheet", _sheet({("patients.csv", "thalidomide_stop"): "2022-03-01"}))
    with open(folder / "doses.csv", "a", newline="") as handle:
        handle.write("BI01,thalidomide,2022-02-20,0,somnolence,,\n")
    report = import_datasheet(folder)
    _only_error(report, "patients.csv:2: thalidomide_stop: ",
                "must equal the 0 mg row that follows it (2022-02-20)")


def test_target_dose_without_a_course(tmp_path):
    sheet = _sheet({("patients.csv", "thalidomide_start"): "", ("patients.csv", "regimen"): ""})
    del sheet["doses.csv"]
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    _only_error(report, "patients.csv:2: target_dose_mg: ", "needs a thalidomide course")


def test_duplicate_natural_key(tmp_path):
    folder = _write(tmp_path / "sheet", _sheet())
    with open(folder / "labs.csv", "a", newline="") as handle:
        handle.write("BI01,2022-01-24,hemoglobin,121,g/L\n")
    report = import_datasheet(folder)
    _only_error(report, "labs.csv:3: test: ", "duplicate of line 2")
    assert _counts() == {k: 0 for k in _counts()}


def test_more_cells_than_columns(tmp_path):
    folder = _write(tmp_path / "sheet", _sheet())
    with open(folder / "pregnancy_tests.csv", "a", newline="") as handle:
        handle.write("BI01,2022-01-20,negative,oops\n")
    report = import_datasheet(folder)
    _only_error(report, "pregnancy_tests.csv:3: ", "more cells than columns")


# --- files and headers -----------------------------------------------------------------------
def test_misspelt_header(tmp_path):
    sheet = _sheet()
    header = ["cdai_pian" if c == "cdai_pain" else c for c in sheet["visits.csv"]]
    folder = _write(tmp_path / "sheet", sheet, headers={"visits.csv": header})
    report = import_datasheet(folder)
    _only_error(report, "visits.csv:1: cdai_pian: ", "unknown column (did you mean cdai_pain?)")
    assert _counts() == {k: 0 for k in _counts()}


def test_duplicate_header(tmp_path):
    sheet = _sheet()
    header = [c if c != "result" else "date" for c in sheet["pregnancy_tests.csv"]]
    report = import_datasheet(_write(tmp_path / "sheet", sheet,
                                     headers={"pregnancy_tests.csv": header}))
    lines = [str(e) for e in report.errors]
    assert "pregnancy_tests.csv:1: date: duplicate column" in lines
    assert "pregnancy_tests.csv:1: result: required column missing from the header" in lines
    assert _counts() == {k: 0 for k in _counts()}


def test_required_column_missing(tmp_path):
    sheet = _sheet()
    del sheet["labs.csv"]["value"]
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    _only_error(report, "labs.csv:1: value: ", "required column missing from the header")


def test_optional_columns_may_be_left_out(tmp_path):
    sheet = _sheet()
    for name in ("visits.csv", "labs.csv", "endoscopies.csv"):
        sheet[name] = {k: v for k, v in sheet[name].items() if k in ("patient", "date", "test", "value")}
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    assert report.errors == []
    assert Visit.objects.get().contact == "clinic"


def test_unknown_file(tmp_path):
    folder = _write(tmp_path / "sheet", _sheet())
    (folder / "notes.csv").write_text("patient,note\nBI01,hello\n")
    report = import_datasheet(folder)
    _only_error(report, "notes.csv:0: ", "unknown file")
    assert _counts() == {k: 0 for k in _counts()}


def test_misspelt_file_name(tmp_path):
    sheet = _sheet()
    sheet["visit.csv"] = sheet.pop("visits.csv")
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    _only_error(report, "visit.csv:0: ", "unknown file (did you mean visits.csv?)")


def test_patients_file_is_required(tmp_path):
    sheet = _sheet()
    del sheet["patients.csv"]
    report = import_datasheet(_write(tmp_path / "sheet", sheet))
    lines = [str(e) for e in report.errors]
    assert lines[0] == ("patients.csv:0: required file missing: a datasheet always has "
                        "patients.csv")
    assert _counts() == {k: 0 for k in _counts()}


def test_not_utf8(tmp_path):
    folder = _write(tmp_path / "sheet", _sheet())
    (folder / "visits.csv").write_bytes(
        (folder / "visits.csv").read_text().replace("note", "café").encode("latin-1")
    )
    report = import_datasheet(folder)
    _only_error(report, "visits.csv:0: ", "not UTF-8")


# --- zips ------------------------------------------------------------------------------------------
def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _csv_text(row):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(row))
    writer.writerow(list(row.values()))
    return buffer.getvalue()


def test_zip_is_imported(tmp_path):
    members = {f"sheet/{name}": _csv_text(row) for name, row in _sheet().items()}
    report = import_datasheet(_zip(tmp_path / "ok.zip", members))
    assert report.errors == []
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    "member, fragment",
    [
        ("../evil.csv", "'..' in the path"),
        ("sheet/../../evil.csv", "'..' in the path"),
        ("/etc/evil.csv", "an absolute path"),
        ("C:/evil.csv", "an absolute path"),
        ("sheet\\..\\evil.csv", "backslashes"),
        ("other/evil.csv", "outside the datasheet folder"),
    ],
)
def test_zip_slip_is_refused(tmp_path, member, fragment):
    members = {f"sheet/{name}": _csv_text(row) for name, row in _sheet().items()}
    members[member] = "patient\nX\n"
    report = import_datasheet(_zip(tmp_path / "slip.zip", members))
    _only_error(report, f"{member}:0: ", fragment)
    assert _counts() == {k: 0 for k in _counts()}


def test_zip_symlink_is_refused(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, row in _sheet().items():
            zf.writestr(name, _csv_text(row))
        info = zipfile.ZipInfo("visits.csv.link")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    report = import_datasheet(path)
    _only_error(report, "visits.csv.link:0: ", "symbolic link")


def test_zip_over_the_size_limit(tmp_path, settings):
    members = {name: _csv_text(row) for name, row in _sheet().items()}
    path = _zip(tmp_path / "big.zip", members)
    settings.THALIMON_MAX_DATASHEET_BYTES = path.stat().st_size - 1
    report = import_datasheet(path)
    _only_error(report, "big.zip:0: ", "above the limit")
    assert _counts() == {k: 0 for k in _counts()}


def test_zip_unpacking_over_the_size_limit(tmp_path, settings):
    members = {name: _csv_text(row) for name, row in _sheet().items()}
    members["visits.csv"] += "\n" * 200_000  # compresses to almost nothing
    path = _zip(tmp_path / "bomb.zip", members)
    settings.THALIMON_MAX_DATASHEET_BYTES = 100_000
    assert path.stat().st_size < 100_000
    report = import_datasheet(path)
    _only_error(report, "bomb.zip:0: ", "unpacks to")


def test_not_a_zip(tmp_path):
    path = tmp_path / "sheet.zip"
    path.write_text("patient\n")
    report = import_datasheet(path)
    _only_error(report, "sheet.zip:0: ", "not a valid zip file")
