"""The ``non_reproductive_reason`` column of ``patients.csv`` (interfaces.md §1, R5.1).

A female patient is of reproductive potential unless an exemption is recorded:
hysterectomy, bilateral oophorectomy, ≥ 24 consecutive months without menses
(this column) or premenarchal (its own flag). ``reproductive_potential`` = 0 with
an exemption is stored as given and pregnancy prevention (R5.2 tests) stops; a 0
without one is a warning, stored as empty, and R5.1 applies (pregnancy-test
reminders while thalidomide is given, R7). The column is optional: a datasheet
without it imports as before.
"""

import csv
import shutil
from pathlib import Path

import pytest

from patients.models import NonReproductiveReason, Patient
from reports.datasheet import FILE_ORDER, FILES, export_datasheet, import_datasheet
from safety.models import AdverseEvent, Alert, Reminder
from safety.scan import scan_reminders
from therapy.models import DoseChange, PregnancyTest, Prescription, TherapyCourse
from visits.models import Endoscopy, LabResult, Visit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "fixtures" / "example_datasheet"
REASONS = ["hysterectomy", "bilateral_oophorectomy", "amenorrhoea_24_months"]
PATIENT = {
    "patient": "NR01", "sex": "F", "birth_date": "1985-04-02", "diagnosis": "CD",
    "montreal_location": "L3", "montreal_behavior": "B1", "reproductive_potential": "0",
    "non_reproductive_reason": "hysterectomy", "premenarchal": "0",
    "thalidomide_start": "2023-01-09",
}
# Thalidomide given and never stopped, no pregnancy test recorded: for a woman of
# reproductive potential a test is due from the start (R5.2, R7 pregnancy_test_due).
DOSES = [
    {"patient": "NR01", "drug": "thalidomide", "date": "2023-01-09", "dose_mg": "25"},
    {"patient": "NR01", "drug": "thalidomide", "date": "2023-01-23", "dose_mg": "50"},
]


def _write(folder, patient_changes=None, *, drop=()):
    """A datasheet of one patient (``PATIENT`` with changes, ``drop``ped columns left
    out of the header) and her thalidomide rows."""
    folder.mkdir(parents=True, exist_ok=True)
    patient = {k: v for k, v in {**PATIENT, **(patient_changes or {})}.items() if k not in drop}
    for name, rows in (("patients.csv", [patient]), ("doses.csv", DOSES)):
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _pregnancy_reminders(code="NR01"):
    return Reminder.objects.filter(patient__code=code, kind="pregnancy_test_due")


def _stored_counts():
    models = (Patient, TherapyCourse, DoseChange, Reminder)
    return {m.__name__: m.objects.count() for m in models} | {
        f"history.{m.__name__}": m.history.count() for m in models
    }


def _r51_warnings(report):
    return [w for w in report.warnings if w.column == "reproductive_potential"]


# --- the format -------------------------------------------------------------------------
def test_the_column_sits_after_reproductive_potential():
    names = [c.name for c in FILES["patients.csv"].columns]
    index = names.index("non_reproductive_reason")
    assert names[index - 1 : index + 2] == [
        "reproductive_potential", "non_reproductive_reason", "irregular_cycles",
    ]
    column = FILES["patients.csv"].by_name["non_reproductive_reason"]
    assert not column.required
    assert list(column.choices) == REASONS == list(NonReproductiveReason.values)


def test_docs_list_the_patient_columns_in_the_order_of_the_format():
    text = (ROOT / "docs" / "interfaces.md").read_text(encoding="utf-8")
    section = text.split("### 1.2 `patients.csv`")[1].split("### 1.3")[0]
    documented = []
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            documented += [name.strip(" `") for name in first_cell.split(",")]
    implemented = [c.name for c in FILES["patients.csv"].columns]
    assert [name for name in documented if name in implemented] == implemented
    row = next(line for line in section.splitlines() if line.startswith("| `non_reproductive_reason`"))
    assert "Not yet" not in row


# --- importing ----------------------------------------------------------------------------
@pytest.mark.parametrize("reason", REASONS)
def test_female_with_an_exemption_keeps_zero_and_gets_no_pregnancy_test_reminder(tmp_path, reason):
    report = import_datasheet(_write(tmp_path / "sheet", {"non_reproductive_reason": reason}))
    assert report.errors == [], [str(e) for e in report.errors]
    assert _r51_warnings(report) == []
    patient = Patient.objects.get(code="NR01")
    assert (patient.reproductive_potential, patient.non_reproductive_reason) == (False, reason)
    assert not patient.is_female_of_reproductive_potential
    assert DoseChange.objects.filter(patient=patient, drug="thalidomide").count() == 2
    scan_reminders()
    assert not _pregnancy_reminders().exists()


def test_premenarchal_flag_is_an_exemption_without_a_reason(tmp_path):
    sheet = _write(tmp_path / "sheet", {"non_reproductive_reason": "", "premenarchal": "1"})
    report = import_datasheet(sheet)
    assert report.errors == [] and _r51_warnings(report) == []
    patient = Patient.objects.get(code="NR01")
    assert (patient.reproductive_potential, patient.premenarchal) == (False, True)
    scan_reminders()
    assert not _pregnancy_reminders().exists()


@pytest.mark.parametrize("drop", [(), ("non_reproductive_reason",)], ids=["empty", "left-out"])
def test_zero_without_an_exemption_is_a_warning_and_r51_applies(tmp_path, drop):
    sheet = _write(tmp_path / "sheet", {"non_reproductive_reason": ""}, drop=drop)
    report = import_datasheet(sheet)
    assert report.errors == [], [str(e) for e in report.errors]
    assert [(w.file, w.line) for w in _r51_warnings(report)] == [("patients.csv", 2)]
    assert "non_reproductive_reason" in _r51_warnings(report)[0].message
    patient = Patient.objects.get(code="NR01")
    assert patient.reproductive_potential is None and patient.non_reproductive_reason == ""
    assert patient.is_female_of_reproductive_potential
    scan_reminders()
    reminder = _pregnancy_reminders().get()
    assert reminder.state == "open"
    assert str(reminder.due) >= PATIENT["thalidomide_start"]


def test_an_unknown_reason_is_one_error_naming_the_column_and_nothing_is_written(tmp_path):
    before = _stored_counts()
    report = import_datasheet(_write(tmp_path / "sheet", {"non_reproductive_reason": "menopause"}))
    assert [str(e) for e in report.errors] == [
        "patients.csv:2: non_reproductive_reason: unknown code 'menopause'; expected one of: "
        "hysterectomy, bilateral_oophorectomy, amenorrhoea_24_months"
    ]
    assert not report.written
    assert _stored_counts() == before


@pytest.mark.parametrize("reproductive_potential", ["", "0", "1"])
def test_a_reason_on_a_male_patient_is_an_error(tmp_path, reproductive_potential):
    before = _stored_counts()
    sheet = _write(tmp_path / "sheet", {"sex": "M", "reproductive_potential": reproductive_potential})
    report = import_datasheet(sheet)
    errors = [str(e) for e in report.errors]
    assert len(errors) == 1, errors
    assert errors[0].startswith("patients.csv:2: non_reproductive_reason: "), errors
    assert "female patients only" in errors[0]
    assert _stored_counts() == before


def test_a_reason_with_reproductive_potential_one_is_the_models_error(tmp_path):
    before = _stored_counts()
    report = import_datasheet(_write(tmp_path / "sheet", {"reproductive_potential": "1"}))
    errors = [str(e) for e in report.errors]
    assert len(errors) == 1, errors
    assert errors[0].startswith("patients.csv:2: reproductive_potential: ")
    assert "choose one or the other" in errors[0]
    assert _stored_counts() == before


def test_a_reason_with_reproductive_potential_empty_is_an_exemption(tmp_path):
    report = import_datasheet(_write(tmp_path / "sheet", {"reproductive_potential": ""}))
    assert report.errors == [] and _r51_warnings(report) == []
    patient = Patient.objects.get(code="NR01")
    assert (patient.reproductive_potential, patient.non_reproductive_reason) == (None, "hysterectomy")
    assert not patient.is_female_of_reproductive_potential
    scan_reminders()
    assert not _pregnancy_reminders().exists()


def test_a_recorded_reason_is_kept_when_a_later_datasheet_leaves_the_column_out(tmp_path):
    assert import_datasheet(_write(tmp_path / "first")).errors == []
    report = import_datasheet(_write(tmp_path / "later", drop=("non_reproductive_reason",)))
    assert report.errors == [] and _r51_warnings(report) == []
    assert report.counts["patients.csv"] == {"created": 0, "updated": 0, "unchanged": 1}
    patient = Patient.objects.get(code="NR01")
    assert (patient.reproductive_potential, patient.non_reproductive_reason) == (False, "hysterectomy")


def test_a_changed_reason_updates_the_patient_with_history(tmp_path):
    assert import_datasheet(_write(tmp_path / "first")).errors == []
    report = import_datasheet(_write(tmp_path / "later", {"non_reproductive_reason": "amenorrhoea_24_months"}))
    assert report.errors == []
    assert report.counts["patients.csv"] == {"created": 0, "updated": 1, "unchanged": 0}
    patient = Patient.objects.get(code="NR01")
    history = [h.non_reproductive_reason for h in patient.history.order_by("history_date")]
    assert history == ["hysterectomy", "amenorrhoea_24_months"]


# --- export and round trip ----------------------------------------------------------------------
def _patient_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _delete_everything():
    for model in (Reminder, Alert, Prescription, AdverseEvent, PregnancyTest, DoseChange, Endoscopy, LabResult,
                  Visit, TherapyCourse, Patient):
        model.objects.all().delete()


def test_export_writes_the_column_and_the_round_trip_is_identical(tmp_path):
    assert import_datasheet(_write(tmp_path / "sheet")).errors == []
    first, second = tmp_path / "first", tmp_path / "second"
    export_datasheet(first)
    header = (first / "patients.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [c.name for c in FILES["patients.csv"].columns]
    row = _patient_rows(first / "patients.csv")[0]
    assert (row["reproductive_potential"], row["non_reproductive_reason"]) == ("0", "hysterectomy")
    _delete_everything()
    report = import_datasheet(first)
    assert report.errors == [] and _r51_warnings(report) == []
    export_datasheet(second)
    for name in FILE_ORDER:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert not Patient.objects.get(code="NR01").is_female_of_reproductive_potential


def test_the_example_without_the_column_still_round_trips(tmp_path):
    example = tmp_path / "example"
    shutil.copytree(EXAMPLE, example)
    assert "non_reproductive_reason" not in (example / "patients.csv").read_text().splitlines()[0]
    assert import_datasheet(example).errors == []
    first, second = tmp_path / "first", tmp_path / "second"
    export_datasheet(first)
    rows = _patient_rows(first / "patients.csv")
    assert [r["non_reproductive_reason"] for r in rows] == [""] * 4  # EX01–EX04: none recorded
    _delete_everything()
    assert import_datasheet(first).errors == []
    export_datasheet(second)
    for name in FILE_ORDER:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name

