"""prescriptions.csv (interfaces.md §1, R9): imported with its R9.3 codes computed and
stored (historical rows are never refused), exported with ``risk_category`` and
``deviations``, round trip identical, re-import changes nothing.

The example datasheet's twelve prescriptions, worked by hand under the default
profile (``eu_ppp``: 28 days for a woman of reproductive potential, 84 for anyone
else; a negative test dated issue − 3 … issue; dispense by issue + 7 for a woman of
reproductive potential, not checked for others; 25 mg tablets, halves allowed):

EX01 (male; thalidomide 25 mg 02-01, 50 mg 02-15, 100 mg 03-01, 50 mg 04-26, 2021):
  02-01 25 mg ×14, dispensed 02-01 ............ none (dose 25 in force)
  02-15 50 mg ×14, dispensed 02-16 ............ none (02-01 + 14 = 02-15: 0 days left)
  03-01 100 mg ×84, not confirmed ............. contraception_not_confirmed (84 ≤ 84;
                                                02-16 + 14 = 03-02: 1 day left ≤ 7)
  04-26 50 mg ×28 ............................. early_repeat (03-01 + 84 = 05-24: 28 days left)
EX02 (female of reproductive potential, no contraception start recorded; negative tests
      04-27, 05-10, 05-17, 05-24, 05-31, 06-07, 07-05 …; 25/50/75 mg from 05-10, 05-24, 06-07):
  05-10 25 mg ×14, dispensed 05-10 ............ start_not_covered (R5.3: no contraception start)
  05-24 50 mg ×28, dispensed 06-02 ............ dispensed_too_late (dispense by 05-31)
  06-17 75 mg ×28, never dispensed ............ no_recent_negative_test (window 06-14 … 06-17,
                                                latest 06-07); early_repeat (06-02 + 28 = 06-30:
                                                13 days left)
  07-05 75 mg ×28, dispensed 07-05 ............ none (06-17's is void from 06-25; 06-30 − 07-05 < 0)
EX03 (male; 25 mg 09-07, 50 mg 09-21, 2020):
  09-07 25 mg ×14 ............................. none
  09-21 50 mg ×90 ............................. supply_too_long (90 > 84)
  12-21 30 mg ×28 ............................. dose_mismatch (50 in force);
                                                dose_not_dispensable (30 / 25 = 1.2 tablets)
EX04 (female, reproductive_potential 0 without an exemption → of reproductive potential
      (R5.1); no pregnancy test, no contraception start; start 2022-01-10):
  01-10 25 mg ×28, not confirmed, undispensed . no_recent_negative_test; start_not_covered;
                                                contraception_not_confirmed
"""

import csv
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from patients.models import Patient
from reports.datasheet import FILE_ORDER, export_datasheet, import_datasheet
from tests.reports.test_datasheet import _delete_everything, _rewrite
from tests.reports.test_datasheet_bad_input import _counts, _sheet, _write
from therapy.models import Prescription

pytestmark = pytest.mark.django_db

FRP, MALE = "female_reproductive_potential", "male"
EXPECTED = {
    ("EX01", date(2021, 2, 1)): (MALE, []),
    ("EX01", date(2021, 2, 15)): (MALE, []),
    ("EX01", date(2021, 3, 1)): (MALE, ["contraception_not_confirmed"]),
    ("EX01", date(2021, 4, 26)): (MALE, ["early_repeat"]),
    ("EX02", date(2021, 5, 10)): (FRP, ["start_not_covered"]),
    ("EX02", date(2021, 5, 24)): (FRP, ["dispensed_too_late"]),
    ("EX02", date(2021, 6, 17)): (FRP, ["no_recent_negative_test", "early_repeat"]),
    ("EX02", date(2021, 7, 5)): (FRP, []),
    ("EX03", date(2020, 9, 7)): (MALE, []),
    ("EX03", date(2020, 9, 21)): (MALE, ["supply_too_long"]),
    ("EX03", date(2020, 12, 21)): (MALE, ["dose_mismatch", "dose_not_dispensable"]),
    ("EX04", date(2022, 1, 10)): (FRP, ["no_recent_negative_test", "start_not_covered",
                                        "contraception_not_confirmed"]),
}


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _stored():
    return {(p.patient.code, p.issue_date): p for p in Prescription.objects.select_related("patient")}


def test_historical_prescriptions_are_imported_with_their_codes_never_refused(imported):
    assert imported.counts["prescriptions.csv"] == {"created": 12, "updated": 0, "unchanged": 0}
    stored = _stored()
    assert {key: (p.risk_category, p.deviations) for key, p in stored.items()} == EXPECTED
    late = stored[("EX02", date(2021, 5, 24))]
    assert late.dispense_by == date(2021, 5, 31) and late.programme == "eu_ppp"
    assert late.quantity_units == Decimal("56")  # 50 mg × 28 days / 25 mg tablets
    assert late.rules_version and "2021-06-02" in late.check_reasons[0]
    assert stored[("EX01", date(2021, 3, 1))].dispense_by is None  # not checked for a man (eu_ppp)
    assert stored[("EX03", date(2020, 12, 21))].quantity_units is None  # not dispensable
    assert stored[("EX01", date(2021, 2, 1))].authorisation == "PPP-0001"
    # The import does not know the prescriber; the history names the importing user (none here).
    assert all(p.prescribed_by is None for p in stored.values())
    assert Prescription.history.filter(history_type="+", history_user=None).count() == 12


def test_export_adds_risk_category_and_deviations_in_the_r93_order(imported, tmp_path):
    export_datasheet(tmp_path / "out")
    rows = _rows(tmp_path / "out" / "prescriptions.csv")
    header = (tmp_path / "out" / "prescriptions.csv").read_text().splitlines()[0]
    assert header == ("patient,issue_date,dose_mg,days_supply,contraception_confirmed,dispensed_date,"
                      "authorisation,override_reason,risk_category,deviations")
    got = {(r["patient"], date.fromisoformat(r["issue_date"])): (r["risk_category"], r["deviations"]) for r in rows}
    assert got == {key: (category, ";".join(codes)) for key, (category, codes) in EXPECTED.items()}
    ex04 = next(r for r in rows if r["patient"] == "EX04")
    assert (ex04["dose_mg"], ex04["contraception_confirmed"], ex04["dispensed_date"], ex04["override_reason"]) == (
        "25", "0", "", "historical paper record")


def test_round_trip_and_reimport_change_nothing(imported, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    export_datasheet(first)
    _delete_everything()
    assert import_datasheet(first).errors == []
    export_datasheet(second)
    for name in FILE_ORDER:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    before = _counts() | {"Prescription": Prescription.objects.count(),
                          "history.Prescription": Prescription.history.count()}
    again = import_datasheet(second)
    assert again.errors == [] and again.warnings == []
    assert again.counts["prescriptions.csv"] == {"created": 0, "updated": 0, "unchanged": 12}
    assert before == _counts() | {"Prescription": Prescription.objects.count(),
                                  "history.Prescription": Prescription.history.count()}


def test_computed_columns_that_differ_are_warnings_and_the_computed_values_are_stored(imported, tmp_path):
    export_datasheet(tmp_path / "out")

    def change(rows):
        for row in rows:
            if row["patient"] == "EX03" and row["issue_date"] == "2020-09-21":
                row["risk_category"], row["deviations"] = "female_not_reproductive_potential", "early_repeat"

    _rewrite(tmp_path / "out" / "prescriptions.csv", change)
    history = Prescription.history.count()
    report = import_datasheet(tmp_path / "out")
    assert report.errors == []
    assert [(w.file, w.line, w.column) for w in report.warnings if w.file == "prescriptions.csv"] == [
        ("prescriptions.csv", 11, "risk_category"), ("prescriptions.csv", 11, "deviations"),
    ]
    assert all("computed from the record" in w.message for w in report.warnings)
    assert Prescription.history.count() == history
    assert _stored()[("EX03", date(2020, 9, 21))].deviations == ["supply_too_long"]


def test_a_changed_row_is_rechecked_and_kept_in_history(imported, example):
    def dispense_in_time(rows):
        for row in rows:
            if row["patient"] == "EX02" and row["issue_date"] == "2021-05-24":
                row["dispensed_date"] = "2021-05-31"  # the last valid day (issue + 7)

    _rewrite(example / "prescriptions.csv", dispense_in_time)
    report = import_datasheet(example)
    assert report.errors == []
    assert report.counts["prescriptions.csv"] == {"created": 0, "updated": 1, "unchanged": 11}
    row = _stored()[("EX02", date(2021, 5, 24))]
    assert row.deviations == [] and row.dispensed_date == date(2021, 5, 31)
    assert [h.history_type for h in row.history.order_by("history_date")] == ["+", "~"]
    assert [h.deviations for h in row.history.order_by("history_date")] == [["dispensed_too_late"], []]


# --- one error line per bad value ----------------------------------------------------------
TODAY = timezone.localdate()
BAD_CASES = [
    ("issue_date", (TODAY + timedelta(days=1)).isoformat(), "is in the future"),
    ("issue_date", "2022-02-30", "must be a date as YYYY-MM-DD"),
    ("dispensed_date", "2022-01-09", "cannot be dispensed before its issue date"),
    ("dispensed_date", (TODAY + timedelta(days=1)).isoformat(), "is in the future"),
    ("patient", "NOPE", "unknown patient 'NOPE'"),
    ("contraception_confirmed", "yes", "must be 0 or 1, got 'yes'"),
    ("dose_mg", "25mg", "must be a number"),
    ("dose_mg", "0", "Daily dose must be between 0.1 and 400 mg/day"),
    ("dose_mg", "12.25", "decimal place"),
    ("days_supply", "0", "Days of supply must be between 1 and 366"),
    ("days_supply", "400", "Days of supply must be between 1 and 366"),
    ("days_supply", "28.5", "must be a whole number"),
    ("days_supply", "", "required: the cell is empty"),
    ("authorisation", "A" * 61, "at most 60 characters"),
]


@pytest.mark.parametrize("column, value, fragment", BAD_CASES, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(BAD_CASES)])
def test_a_bad_value_is_one_error_line_and_nothing_is_written(tmp_path, column, value, fragment):
    before = _counts() | {"Prescription": Prescription.objects.count()}
    report = import_datasheet(_write(tmp_path / "sheet", _sheet({("prescriptions.csv", column): value})))
    lines = [str(e) for e in report.errors]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"prescriptions.csv:2: {column}: ") and fragment in lines[0], lines
    assert before == _counts() | {"Prescription": Prescription.objects.count()}


def test_a_second_prescription_on_the_same_day_is_a_duplicate(tmp_path):
    folder = _write(tmp_path / "sheet", _sheet())
    with open(folder / "prescriptions.csv", "a", encoding="utf-8") as handle:
        handle.write("BI01,2022-01-10,50,28,1,,,,,\n")
    report = import_datasheet(folder)
    assert [str(e) for e in report.errors] == [
        "prescriptions.csv:3: issue_date: duplicate of line 2 (same patient, issue_date)"
    ]
    assert not Patient.objects.exists() and not Prescription.objects.exists()


# --- access (issue 13) ----------------------------------------------------------------------
def test_a_lead_may_not_change_a_stored_patients_prescription(tmp_path, clinic_lead, clinician):
    assert import_datasheet(_write(tmp_path / "first", _sheet())).written
    same = import_datasheet(_write(tmp_path / "same", _sheet()), actor=clinic_lead)
    assert same.errors == []
    changed = _sheet({("prescriptions.csv", "dispensed_date"): "2022-01-14"})
    refused = import_datasheet(_write(tmp_path / "changed", changed), actor=clinic_lead)
    assert [str(e) for e in refused.errors] == [
        "prescriptions.csv:2: patient: changes a stored patient's record: your role imports new patients and "
        "their history only; a clinician records changes to a stored patient"
    ]
    assert Prescription.objects.get().dispensed_date == date(2022, 1, 12)
    assert import_datasheet(_write(tmp_path / "clinician", changed), actor=clinician).written
    assert Prescription.objects.get().dispensed_date == date(2022, 1, 14)


def test_a_restricted_patients_prescription_is_an_unknown_patient(tmp_path, make_user, clinician):
    from thalimon.roles import CLINICIAN

    assert import_datasheet(_write(tmp_path / "first", _sheet())).written
    team = make_user(CLINICIAN)
    Patient.objects.filter(code="BI01").update(responsible_clinician=team, care_team_only=True)
    only_prescription = {"patients.csv": _sheet()["patients.csv"],
                         "prescriptions.csv": _sheet({("prescriptions.csv", "days_supply"): "14"})["prescriptions.csv"]}
    report = import_datasheet(_write(tmp_path / "restricted", only_prescription), actor=clinician)
    lines = [str(e) for e in report.errors]
    assert lines and all("unknown patient 'BI01'" in line for line in lines), lines
    assert Prescription.objects.get().days_supply == 28
