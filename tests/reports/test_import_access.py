"""Imports inside the access rules (issue 13, item 3), each pentest finding reproduced:
a restricted record is an unknown patient to whoever may not open it, a clinic lead or
an admin imports new patients but never changes a stored one, and recent dose rows are
checked as on the dose page. Built from the bad-input test's valid one-row datasheet."""

from datetime import timedelta

import pytest
from django.utils import timezone

from patients.models import Patient
from reports.datasheet import import_datasheet
from tests.reports.test_datasheet_bad_input import _counts, _sheet, _write
from therapy.models import DoseChange

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _lines(report):
    return [str(e) for e in report.errors]


@pytest.fixture
def stored(tmp_path):
    """BI01 imported by the operator (the command line: full access)."""
    report = import_datasheet(_write(tmp_path / "first", _sheet()))
    assert report.errors == [] and report.written
    return Patient.objects.get(code="BI01")


@pytest.mark.parametrize("role", ["clinic_lead", "admin_role_user"])
def test_a_lead_or_admin_imports_new_patients_but_never_changes_a_stored_one(request, tmp_path, stored, role):
    actor = request.getfixturevalue(role)
    unchanged = import_datasheet(_write(tmp_path / "same", _sheet()), actor=actor)
    assert unchanged.errors == []  # re-importing what is stored changes nothing: allowed
    new = _sheet({(name, "patient"): "BI02" for name in _sheet()})
    assert import_datasheet(_write(tmp_path / "new", new), actor=actor).written
    before = _counts()
    changed = import_datasheet(_write(tmp_path / "changed", _sheet({("doses.csv", "dose_mg"): "50"})), actor=actor)
    assert _lines(changed) == [
        "doses.csv:2: patient: changes a stored patient's record: your role imports new patients and "
        "their history only; a clinician records changes to a stored patient"
    ]
    assert _counts() == before and not changed.written


def test_a_clinician_may_change_a_stored_patient(tmp_path, stored, clinician):
    report = import_datasheet(_write(tmp_path / "changed", _sheet({("doses.csv", "dose_mg"): "50"})), actor=clinician)
    assert report.errors == [] and report.written


@pytest.mark.parametrize("role", ["clinic_lead", "admin_role_user", "clinician"])
def test_a_restricted_record_is_an_unknown_patient_outside_its_care_team(request, tmp_path, stored, make_user, role):
    from thalimon.roles import CLINICIAN

    team = make_user(CLINICIAN)
    Patient.objects.filter(pk=stored.pk).update(responsible_clinician=team, care_team_only=True)
    actor = request.getfixturevalue(role)
    before = _counts()
    positive = _sheet({("pregnancy_tests.csv", "result"): "positive", ("doses.csv", "dose_mg"): "50"})
    report = import_datasheet(_write(tmp_path / "restricted", positive), actor=actor)
    lines = _lines(report)
    assert lines[0] == "patients.csv:2: patient: unknown patient 'BI01'"
    assert all("unknown patient 'BI01'" in line for line in lines), lines  # nothing else said
    assert not any("negative" in line or "recorded" in line for line in lines)
    assert _counts() == before
    # Its care team imports as before.
    assert import_datasheet(_write(tmp_path / "team", _sheet()), actor=team).errors == []


def test_a_recent_dose_after_a_positive_test_is_refused_as_on_the_dose_page(tmp_path, clinic_lead):
    """The pentest's case, as a new patient: a course started 20 days ago, a positive test
    yesterday, 100 mg recorded today → refused (no override), nothing written."""
    start, positive = TODAY - timedelta(days=20), TODAY - timedelta(days=1)
    sheet = _sheet({
        ("patients.csv", "patient"): "NEW1", ("patients.csv", "thalidomide_start"): start.isoformat(),
        ("patients.csv", "contraception_start"): (start - timedelta(days=40)).isoformat(),
        ("visits.csv", "patient"): "NEW1", ("visits.csv", "date"): start.isoformat(),
        ("labs.csv", "patient"): "NEW1", ("labs.csv", "date"): start.isoformat(),
        ("endoscopies.csv", "patient"): "NEW1", ("endoscopies.csv", "date"): start.isoformat(),
        ("adverse_events.csv", "patient"): "NEW1", ("adverse_events.csv", "onset"): start.isoformat(),
        ("adverse_events.csv", "resolved"): "",
        ("pregnancy_tests.csv", "patient"): "NEW1", ("pregnancy_tests.csv", "date"): positive.isoformat(),
        ("pregnancy_tests.csv", "result"): "positive",
        ("doses.csv", "patient"): "NEW1", ("doses.csv", "date"): start.isoformat(), ("doses.csv", "dose_mg"): "25",
        ("prescriptions.csv", "patient"): "NEW1", ("prescriptions.csv", "issue_date"): start.isoformat(),
        ("prescriptions.csv", "dispensed_date"): start.isoformat(),
    })
    folder = _write(tmp_path / "recent", sheet)
    with open(folder / "doses.csv", "a", encoding="utf-8") as handle:
        handle.write(",".join(["NEW1", "thalidomide", TODAY.isoformat(), "100"] + [""] * (len(sheet["doses.csv"]) - 4))
                     + "\n")
    before = _counts()
    report = import_datasheet(folder, actor=clinic_lead)
    refused = [line for line in _lines(report) if line.startswith("doses.csv:3: dose_mg:")]
    assert refused and "dosed_after_positive_pregnancy_test" in refused[0] and "no override" in refused[0]
    assert _counts() == before and not DoseChange.objects.filter(patient__code="NEW1").exists()

