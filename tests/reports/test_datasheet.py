"""Cohort datasheet import and export (interfaces.md §1–2) on the example datasheet.

Expected values are worked by hand from clinical-rules.md: EX01's CDAIs and
statuses as in tests/visits/test_services.py (R1.1, R2.1–R2.3), EX04's day-7 step
(R3.2: an increase less than 14 days after the previous change is
``step_too_soon``; imported history is stored with its deviations, R3.5), EX02's
stop (R3.1: the first 0 mg row is the first day without the drug).
"""

import csv
import shutil
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from patients.models import Patient
from reports.datasheet import FILE_ORDER, export_datasheet, import_datasheet, read_datasheet
from safety.models import AdverseEvent, Alert, Reminder
from therapy.models import DoseChange, PregnancyTest, Prescription, TherapyCourse
from visits.models import Endoscopy, LabResult, Visit

pytestmark = pytest.mark.django_db

SHARED_EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"  # the clinic's example datasheet
MODELS = [Patient, TherapyCourse, Visit, LabResult, DoseChange, Endoscopy, AdverseEvent, PregnancyTest, Prescription]
EXPECTED_ROWS = {
    "patients.csv": 4,
    "visits.csv": 18,
    "labs.csv": 12,
    "doses.csv": 15,
    "endoscopies.csv": 4,
    "adverse_events.csv": 4,
    "pregnancy_tests.csv": 10,
    "prescriptions.csv": 12,
}
# EX01: male, 172 cm, no standard weight → 22.1 × 1.72² = 65.38064 kg (R1.1).
EX01_EXPECTED = {
    date(2021, 2, 1): (309, ""),  # day 0: the baseline visit, no status (R2.1)
    date(2021, 2, 15): (None, ""),  # phone contact: no CDAI
    date(2021, 3, 1): (246, "no_response"),  # Δ 63 < 70
    date(2021, 3, 29): (134, "remission"),  # 28+20+42+36+8.076 = 134.08 → 134; < 150, Δ 175
    date(2021, 4, 26): (77, "remission"),
    date(2021, 7, 19): (58, "remission"),
    date(2022, 4, 11): (314, "relapse"),  # 314 > 150 and > nadir 58 + 70 (R2.3)
}


def _table_counts():
    return {model.__name__: model.objects.count() for model in MODELS} | {
        f"history.{model.__name__}": model.history.count() for model in MODELS
    }


def _delete_everything():
    for model in (Reminder, Alert, Prescription, AdverseEvent, PregnancyTest, DoseChange, Endoscopy, LabResult,
                  Visit, TherapyCourse, Patient):
        model.objects.all().delete()


def _rewrite(path, change):
    """Rewrite one CSV file: ``change(rows)`` edits the list of dict rows in place."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    change(rows)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# --- importing the example -------------------------------------------------------------
def test_import_example_folder_counts(imported):
    assert imported.counts == {
        name: {"created": n, "updated": 0, "unchanged": 0} for name, n in EXPECTED_ROWS.items()
    }
    assert Visit.objects.count() == 18 and LabResult.objects.count() == 12
    assert TherapyCourse.objects.count() == 4
    # History of every created row, with no user: "system (import)".
    assert Visit.history.filter(history_type="+", history_user=None).count() == 18


def test_import_example_as_zip(tmp_path):
    archive = tmp_path / "datasheet.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(SHARED_EXAMPLE.glob("*.csv")):
            zf.write(path, f"datasheet/{path.name}")  # the files in one folder of the zip
    report = import_datasheet(archive)
    assert report.errors == []
    assert {name: c["created"] for name, c in report.counts.items()} == EXPECTED_ROWS


def test_read_datasheet_gives_rows_with_line_numbers():
    files = read_datasheet(SHARED_EXAMPLE)
    assert sorted(files) == sorted(FILE_ORDER)
    visits = files["visits.csv"]
    assert visits.header[:3] == ["patient", "date", "contact"]
    assert visits[0]["patient"] == "EX01" and visits[0].line == 2


def test_ex01_cdai_and_statuses_are_computed(imported):
    got = {
        v.date: (v.cdai, v.clinical_status) for v in Visit.objects.filter(patient__code="EX01")
    }
    assert got == EX01_EXPECTED
    visit = Visit.objects.get(patient__code="EX01", date=date(2021, 3, 29))
    assert visit.cdai_source == "computed" and visit.status_rule == "R2.2"
    relapse = Visit.objects.get(patient__code="EX01", date=date(2022, 4, 11))
    assert relapse.status_rule == "R2.3"


def test_ex04_entered_totals_and_step_too_soon_stored_with_override(imported):
    # EX04 is charted with entered CDAI totals (R1.1: stored as entered).
    visit = Visit.objects.get(patient__code="EX04", date=date(2022, 1, 10))
    assert (visit.cdai, visit.cdai_source) == (260, "entered")
    first, second = DoseChange.objects.filter(patient__code="EX04").order_by("date")
    # 2022-01-17 is day 7: an increase 7 < 14 days after the start (R3.2) → step_too_soon,
    # stored with the clinician's override reason; historical rows are never refused.
    assert second.kind == "increase"
    assert "step_too_soon" in second.deviations
    assert second.override_reason == "patient request"
    assert "step_too_soon" not in first.deviations and first.kind == "first_dose"


def test_ex04_reproductive_potential_zero_without_exemption_is_not_trusted(imported):
    # Reading (R5.1): a woman is of reproductive potential unless an exemption is
    # recorded; EX04's row has neither non_reproductive_reason (the example leaves the
    # column out) nor premenarchal, so the 0 is stored as empty (warning).
    patient = Patient.objects.get(code="EX04")
    assert patient.reproductive_potential is None
    assert patient.is_female_of_reproductive_potential
    assert any(
        w.file == "patients.csv" and w.line == 5 and w.column == "reproductive_potential"
        for w in imported.warnings
    )


def test_ex02_course_stop_is_the_zero_row(imported):
    course = TherapyCourse.objects.get(patient__code="EX02")
    assert course.start_date == date(2021, 5, 10)
    assert course.stop_date == date(2021, 10, 20)
    assert course.stop_reason == "somnolence"  # the reason of the 0 mg row
    assert course.target_dose_mg == Decimal("75")


def test_import_raises_the_r44_alerts_and_scans_reminders(imported):
    # EX03: platelets 95 < 100 while azathioprine is active → tier B withhold (R4.4).
    platelets = LabResult.objects.get(patient__code="EX03", test="platelets")
    alert = Alert.objects.get(kind="lab", source=f"lab:{platelets.pk}")
    assert alert.tier == "withhold"
    # EX01: WBC 3.4 < 3.5 → review, and < 4.0 suggests leukopenia.
    wbc = LabResult.objects.get(patient__code="EX01", test="wbc", date=date(2021, 3, 29))
    assert Alert.objects.get(source=f"lab:{wbc.pk}").suggest_adverse_event == "leukopenia"
    assert Reminder.objects.filter(patient__code="EX01").exists()


def test_history_records_the_acting_user(example, clinician):
    report = import_datasheet(example, actor=clinician)
    assert report.errors == []
    assert Visit.history.filter(history_user=clinician).count() == 18
    assert DoseChange.objects.filter(decided_by=clinician).count() == 15


# --- dry run, re-import, changes ------------------------------------------------------------
def test_dry_run_writes_nothing(example):
    before = _table_counts()
    report = import_datasheet(example, dry_run=True)
    assert report.errors == [] and report.dry_run
    assert report.counts["visits.csv"] == {"created": 18, "updated": 0, "unchanged": 0}
    assert _table_counts() == before
    assert Alert.objects.count() == 0 and Reminder.objects.count() == 0


def test_reimport_changes_nothing(example, imported):
    before = _table_counts()
    report = import_datasheet(example)
    assert report.errors == []
    assert all(c["created"] == 0 and c["updated"] == 0 for c in report.counts.values())
    assert _table_counts() == before  # no new rows, no new history rows


def test_changed_row_updates_the_stored_one_with_history(example, imported):
    def change(rows):
        for row in rows:
            if row["patient"] == "EX01" and row["date"] == "2021-03-29":
                row["cdai_pain"] = "10"  # 4 → 10: CDAI 134 + 30 = 164

    _rewrite(example / "visits.csv", change)
    visit = Visit.objects.get(patient__code="EX01", date=date(2021, 3, 29))
    report = import_datasheet(example)
    assert report.errors == []
    assert report.counts["visits.csv"] == {"created": 0, "updated": 1, "unchanged": 17}
    assert report.counts["patients.csv"]["unchanged"] == 4
    visit.refresh_from_db()
    assert (visit.pk, visit.cdai_pain, visit.cdai) == (visit.pk, 10, 164)
    assert visit.clinical_status == "response"  # Δ 145 ≥ 70 but not < 150 (R2.2)
    history = list(visit.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert (history[0].cdai_pain, history[1].cdai_pain) == (4, 10)


def test_changed_patient_rescores_every_visit(example, imported):
    def change(rows):
        for row in rows:
            if row["patient"] == "EX01":
                row["baseline_cdai"] = "200"

    _rewrite(example / "patients.csv", change)
    report = import_datasheet(example)
    assert report.errors == []
    assert report.counts["patients.csv"] == {"created": 0, "updated": 1, "unchanged": 3}
    # R2.1: the recorded baseline wins; 134 is Δ 66 < 70 → no response.
    visit = Visit.objects.get(patient__code="EX01", date=date(2021, 3, 29))
    assert visit.clinical_status == "no_response"
    assert Patient.objects.get(code="EX01").history.count() == 2


def test_rows_left_out_of_a_later_datasheet_are_kept(example, imported, tmp_path):
    later = tmp_path / "later"
    later.mkdir()
    shutil.copy(example / "patients.csv", later / "patients.csv")

    def only_one(rows):
        rows[:] = [r for r in rows if r["patient"] == "EX02" and r["date"] == "2021-05-10"]

    shutil.copy(example / "visits.csv", later / "visits.csv")
    _rewrite(later / "visits.csv", only_one)
    before = _table_counts()
    report = import_datasheet(later)
    assert report.errors == []
    assert report.counts["visits.csv"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert _table_counts() == before


def test_pregnancy_test_result_is_never_overwritten(example, imported):
    def change(rows):
        rows[0]["result"] = "positive"

    _rewrite(example / "pregnancy_tests.csv", change)
    before = _table_counts()
    report = import_datasheet(example)
    assert [str(e) for e in report.errors] == [
        "pregnancy_tests.csv:2: result: a different result is already recorded on that date; a "
        "result is never overwritten (a clinician corrects it in the record's history)"
    ]
    assert _table_counts() == before


# --- computed columns ------------------------------------------------------------------------
def test_computed_columns_are_recomputed_and_a_difference_is_a_warning(imported, tmp_path):
    export_datasheet(tmp_path / "out")

    def visits(rows):
        for row in rows:
            if row["patient"] == "EX01" and row["date"] == "2021-03-29":
                assert (row["cdai_computed"], row["clinical_status"]) == ("134", "remission")
                row["cdai_computed"], row["clinical_status"] = "999", "relapse"

    def doses(rows):
        for row in rows:
            if row["patient"] == "EX04" and row["date"] == "2022-01-17":
                assert "step_too_soon" in row["deviations"].split(";")
                row["deviations"] = "start_dose_not_25"

    _rewrite(tmp_path / "out" / "visits.csv", visits)
    _rewrite(tmp_path / "out" / "doses.csv", doses)
    before = _table_counts()
    report = import_datasheet(tmp_path / "out")
    assert report.errors == []
    assert {(w.file, w.line, w.column) for w in report.warnings if w.column in (
        "cdai_computed", "clinical_status", "deviations")} == {
        ("visits.csv", 5, "cdai_computed"), ("visits.csv", 5, "clinical_status"),
        ("doses.csv", 16, "deviations"),
    }
    assert _table_counts() == before
    assert Visit.objects.get(patient__code="EX01", date=date(2021, 3, 29)).cdai == 134


# --- export ------------------------------------------------------------------------------------
def test_export_writes_every_file_with_every_column(imported, tmp_path):
    counts = export_datasheet(tmp_path / "out")
    assert counts == EXPECTED_ROWS
    patients = (tmp_path / "out" / "patients.csv").read_text().splitlines()
    assert patients[0].startswith("patient,site,sex,birth_date,height_cm,standard_weight_kg,diagnosis")
    # Numbers without trailing zeros (55.0 → 55), flags 0/1, empty = unknown (here the
    # non_reproductive_reason after reproductive_potential 1).
    assert patients[2].startswith("EX02,MAIN,F,1996-11-02,161,55,CD,,L1,0,B1,0,1,,0,0,0,1,normal,")
    visits = (tmp_path / "out" / "visits.csv").read_text().splitlines()
    assert visits[0].endswith(",notes,cdai_computed,clinical_status")
    assert visits[4].endswith(",134,remission")
    doses = (tmp_path / "out" / "doses.csv").read_text().splitlines()
    assert doses[0] == "patient,drug,date,dose_mg,reason,override_reason,deviations"


def test_export_import_into_empty_database_export_again_is_identical(imported, tmp_path):
    first = tmp_path / "first"
    second = tmp_path / "second"
    export_datasheet(first)
    _delete_everything()
    assert Patient.objects.count() == 0
    report = import_datasheet(first)
    assert report.errors == []
    export_datasheet(second)
    for name in FILE_ORDER:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # And importing the export over the data it came from changes nothing.
    before = _table_counts()
    report = import_datasheet(second)
    assert all(c["created"] == c["updated"] == 0 for c in report.counts.values())
    assert _table_counts() == before


# --- commands ------------------------------------------------------------------------------------
def test_import_command_succeeds_and_reports_counts(capsys):
    call_command("import_datasheet", str(SHARED_EXAMPLE))
    out = capsys.readouterr().out
    assert "visits.csv" in out and "18 created" in out
    assert Patient.objects.count() == 4


def test_import_command_dry_run_writes_nothing(capsys):
    call_command("import_datasheet", str(SHARED_EXAMPLE), "--dry-run")
    assert "dry run" in capsys.readouterr().out
    assert Patient.objects.count() == 0


def test_import_command_exits_non_zero_with_every_error(example, capsys):
    def change(rows):
        rows[0]["cdai_pain"] = "22"
        rows[2]["date"] = "2999-01-01"

    _rewrite(example / "visits.csv", change)
    with pytest.raises(CommandError) as raised:
        call_command("import_datasheet", str(example))
    assert raised.value.returncode == 1
    assert "2 errors; nothing was imported" in str(raised.value)
    err = capsys.readouterr().err
    assert "visits.csv:2: cdai_pain: " in err and "visits.csv:4: date: " in err
    assert Patient.objects.count() == 0


def test_export_command_writes_the_files(imported, tmp_path, capsys):
    call_command("export_datasheet", str(tmp_path / "out"))
    assert "visits.csv" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILE_ORDER)
