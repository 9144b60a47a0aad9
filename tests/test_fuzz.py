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
                     "thalidomide", "azathioprine", "2999-01-01", "1.5e3", "  ", "NaN", "—", "0,42", "x" * 300,
                     # issue 13: NUL bytes and over-long text never reach the database as a 500
                     "a\x00b", "\x00", "12\x00", "y" * 5000, "=1+1", "@SUM(A1)"]),
    st.text(max_size=30),
)


# Records that are saved and then announced as an alarm (error level), not refusals.
SAVED_WITH_AN_ALARM = ("POSITIVE pregnancy test", "Contraception NOT confirmed")


def _counts():
    from django.apps import apps

    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in (
        "patients", "visits", "safety", "therapy")}


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
    check = signed_in.post(reverse("therapy:dose_check", args=[patient.code]), data)
    assert check.status_code == 200
    response = signed_in.post(reverse("therapy:dose_change", args=[patient.code]), data)
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
    row[index] = value  # NUL bytes included (issue 13)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    before = _counts()
    report = import_datasheet(folder, dry_run=False)  # must never raise
    if report.errors:
        assert _counts() == before  # all or nothing
        assert all(str(e).count(":") >= 3 for e in report.errors)  # file:line: column: message


# --- every other form of the app, found from the URL configuration ------------------------
# The pages above get field lists of their own (with the live previews); every other page
# that shows a form is fuzzed here with the form's own field names, so a new form cannot
# escape. Uploads are fuzzed through the datasheet columns above.
FUZZED_ABOVE = {"patients:create", "visits:create", "visits:cdai_preview", "therapy:dose_change",
                "therapy:dose_check", "reports:upload"}
ACTIONS_WITHOUT_FORM_CLASS = {  # POST-only endpoints and the fields their pages send
    "safety:reminder_complete": ["note"],
    "safety:reminder_snooze": ["days", "reason"],
}


def _form_pages():
    from tests.test_access_matrix import MATRIX

    return sorted(name for name in MATRIX if name not in FUZZED_ABOVE)


@pytest.fixture
def care_user(make_user):
    from django.contrib.auth.models import Group

    from thalimon.roles import NURSE

    user = make_user(CLINICIAN)
    user.groups.add(Group.objects.get(name=NURSE))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", _form_pages())
@FUZZ
@given(data=st.data())
def test_every_other_form_never_fails_and_a_refusal_writes_nothing(care_user, records, name, data):
    from django.contrib.messages import get_messages

    from tests.test_access_matrix import _url

    url = _url(name, records)
    fields = ACTIONS_WITHOUT_FORM_CLASS.get(name)
    if fields is None:
        page = care_user.get(url)
        form = (page.context or {}).get("form") if page.status_code == 200 else None
        if form is None or not hasattr(form, "fields"):
            return  # not a form page (a list, a report, a PDF, a redirect)
        fields = list(form.fields)
    values = data.draw(st.fixed_dictionaries({field: cells for field in fields}))
    # NUL bytes included (issue 13): every form must refuse them by name, never a 500.
    before = _counts()
    response = care_user.post(url, values)
    assert response.status_code in (200, 302), (name, response.status_code)
    # Only the messages this request added (a redirect leaves them for the next page).
    added = list(get_messages(response.wsgi_request))
    refused = response.status_code == 200 or any(
        m.level_tag in ("warning", "error") and not str(m).startswith(SAVED_WITH_AN_ALARM) for m in added
    )
    if response.status_code == 302:
        care_user.get(response.url)  # shows, and so clears, this request's messages
    if refused:
        assert _counts() == before, name


def test_the_form_fuzzer_reaches_the_forms(care_user, records):
    """Guard against a vacuous fuzz: the pages above do show their forms to the fuzzing user."""
    from tests.test_access_matrix import _url

    found = set(ACTIONS_WITHOUT_FORM_CLASS)
    for name in _form_pages():
        page = care_user.get(_url(name, records))
        if page.status_code == 200 and hasattr((page.context or {}).get("form"), "fields"):
            found.add(name)
    assert {
        "patients:edit", "patients:course", "visits:edit", "visits:lab_create", "visits:endoscopy_create",
        "visits:endoscopy_edit", "therapy:therapy_start", "therapy:pregnancy_test_create",
        "therapy:contraception_create", "therapy:prescription_new", "therapy:prescription_edit", "safety:ae_create", "safety:ae_edit", "safety:ae_detail",
        "safety:reminder_complete", "safety:reminder_snooze",
    } <= found, found
