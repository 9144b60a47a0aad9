"""Hypothesis against the forms and every datasheet column: no input gives a
server error, and a refused input writes nothing."""

import shutil
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thalimon.roles import CLINICIAN

pytestmark = pytest.mark.django_db
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
EXAMPLE = Path(__file__).resolve().parent / "fixtures" / "example_datasheet"

# Cells as a clinic's spreadsheet might hold them: numbers, dates, codes, junk.
cells = st.one_of(
    st.just(""),
    st.integers(-10_000, 10_000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.sampled_from(["0", "1", "M", "F", "CD", "UC", "AID", "clinic", "phone", "negative", "positive",
                     "thalidomide", "azathioprine", "2999-01-01", "1.5e3", "  ", "NaN", "—", "0,42", "x" * 300]),
    st.text(max_size=30),
)


def _counts():
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in (
        "patients", "visits", "safety")}


@pytest.fixture
def signed_in(make_user):
    client = Client()
    client.force_login(make_user(CLINICIAN))
    return client


PATIENT_FIELDS = ["code", "full_name", "sex", "birth_date", "height_cm", "standard_weight_kg", "diagnosis",
                  "montreal_location", "montreal_behavior", "reproductive_potential", "tpmt", "nudt15",
                  "baseline_cdai", "crp_at_lor", "status", "status_date", "contraception_start"]


@FUZZ
@given(data=st.fixed_dictionaries({name: cells for name in PATIENT_FIELDS}))
def test_patient_form_never_fails_with_a_server_error(signed_in, data):
    before = _counts()
    response = signed_in.post(reverse("patients:create"), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert _counts() == before


VISIT_FIELDS = ["date", "contact", "weight_kg", "cdai_stools", "cdai_pain", "cdai_wellbeing", "cdai_mass",
                "hematocrit", "cdai_entered", "neuropathy_grade", "heart_rate", "lab_crp", "lab_hemoglobin",
                "lab_wbc", "relapse_event", "contraception_confirmed"]


@FUZZ
@given(data=st.fixed_dictionaries({name: cells for name in VISIT_FIELDS}))
def test_visit_form_and_live_cdai_never_fail(signed_in, make_patient, data):
    from patients.models import Patient

    patient = Patient.objects.filter(code="FZ-1").first() or make_patient(code="FZ-1")
    before = _counts()
    preview = signed_in.post(reverse("visits:cdai_preview", args=[patient.code]), data)
    assert preview.status_code == 200
    response = signed_in.post(reverse("visits:create", args=[patient.code]), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert _counts() == before


@FUZZ
@given(data=st.fixed_dictionaries({"drug": cells, "date": cells, "dose_mg": cells, "override": cells,
                                   "override_reason": cells}))
def test_dose_change_never_fails(signed_in, make_patient, data):
    from patients.models import Patient

    patient = Patient.objects.filter(code="FZ-2").first() or make_patient(code="FZ-2")
    before = _counts()
    check = signed_in.post(reverse("visits:dose_check", args=[patient.code]), data)
    assert check.status_code == 200
    response = signed_in.post(reverse("visits:dose_change", args=[patient.code]), data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert _counts() == before


def _datasheet_columns():
    from reports.datasheet import FILES

    return [(name, column.name) for name, spec in FILES.items() for column in spec.columns]


@FUZZ
@given(target=st.sampled_from(_datasheet_columns()), value=cells, line=st.integers(0, 3))
def test_any_value_in_any_datasheet_column_is_an_error_line_or_imported(tmp_path_factory, target, value, line):
    import csv

    from reports.datasheet import import_datasheet

    folder = tmp_path_factory.mktemp("ds") / "datasheet"
    shutil.copytree(EXAMPLE, folder)
    name, column = target
    path = folder / name
    rows = list(csv.reader(path.open())) if path.exists() else [["patient"]]
    if column not in rows[0]:
        rows[0].append(column)
        for row in rows[1:]:
            row.append("")
    if len(rows) == 1:
        rows.append([""] * len(rows[0]))
    index = rows[0].index(column)
    row = rows[1 + line % (len(rows) - 1)]
    row[index] = value.replace("\x00", "")
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    before = _counts()
    report = import_datasheet(folder, dry_run=False)  # must never raise
    if report.errors:
        assert _counts() == before  # all or nothing
        assert all(str(e).count(":") >= 3 for e in report.errors)  # file:line: column: message
