"""The patient banner (every page of a patient) and the flowsheet (dates as columns),
worked from a small record whose every figure is set by hand here."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from thalimon.roles import CLINIC_LEAD
from therapy.actions import dose_change_record, historical_course_save, pregnancy_test_record
from visits.actions import lab_results_record, visit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(make_patient, clinician):
    """A woman of reproductive potential with regular cycles: thalidomide 25 mg from day 0
    (28 days ago), 50 mg from day 14; AZA 100 mg at 60 kg; negative tests on days 0, 14, 21
    and 28 (today); contraception confirmed and neuropathy grade 0 on day 14; platelets
    low on day 14."""
    today = timezone.localdate()
    start = today - timedelta(days=28)
    patient = make_patient(
        code="GI-0700", sex="F", birth_date=date(1994, 5, 1), reproductive_potential=True,
        irregular_cycles=False, full_name="Ona Fictional",
    )
    historical_course_save(actor=clinician, patient=patient, start_date=start)
    visit_record(actor=clinician, patient=patient, date=start, weight_kg=Decimal("60"), cdai_entered=260)
    pregnancy_test_record(actor=clinician, patient=patient, date=start, result="negative")
    dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=start, dose_mg=25, historical=True)
    dose_change_record(actor=clinician, patient=patient, drug="azathioprine", date=start, dose_mg=100, historical=True)
    day14 = start + timedelta(days=14)
    visit_record(actor=clinician, patient=patient, date=day14, weight_kg=Decimal("60"), cdai_entered=180,
                 neuropathy_grade=0, contraception_confirmed=True)
    pregnancy_test_record(actor=clinician, patient=patient, date=day14, result="negative")
    dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=day14, dose_mg=50, historical=True)
    lab_results_record(actor=clinician, patient=patient, date=day14, lab_values={"platelets": Decimal("95")})
    # R5.2: weekly tests before day 28; the day-28 test (today) covers 28 days more.
    pregnancy_test_record(actor=clinician, patient=patient, date=start + timedelta(days=21), result="negative")
    pregnancy_test_record(actor=clinician, patient=patient, date=today, result="negative")
    return {"patient": patient, "start": start, "day14": day14, "today": today}


def _banner(page):
    start = page.index("data-patient-banner")
    return page[start: page.index("</section>", start)]


@pytest.mark.parametrize("url_name", ["patients:detail", "patients:history", "visits:create", "therapy:dose_change"])
def test_banner_on_every_page_of_the_patient(client, clinician, record, url_name):
    client.force_login(clinician)
    banner = _banner(client.get(reverse(url_name, args=["GI-0700"])).content.decode())
    assert "GI-0700" in banner and "Ona Fictional" in banner
    assert "50 mg/day</strong> · day 28" in banner  # 50 mg since day 14; day 28 today
    assert "100 mg/day</strong> · 1.67 mg/kg" in banner  # 100 / 60 kg, two decimals
    # R3.2: the next step 14 days after the last change (day 14 + 14 = today), +25 mg.
    assert f"75 mg/day from {record['today']:%Y-%m-%d}" in banner
    assert "covered" in banner and "not covered" not in banner
    assert f"confirmed {record['day14']:%Y-%m-%d}" in banner


def test_banner_hides_the_name_from_roles_without_identity(client, make_user, record):
    client.force_login(make_user(CLINIC_LEAD))
    banner = _banner(client.get(reverse("patients:detail", args=["GI-0700"])).content.decode())
    assert "GI-0700" in banner
    assert "Ona Fictional" not in banner and "1994-05-01" not in banner


def test_no_banner_off_the_patient_pages(client, clinician, record):
    client.force_login(clinician)
    assert "data-patient-banner" not in client.get(reverse("patients:list")).content.decode()


def test_flowsheet_dates_are_columns_newest_first(client, clinician, record):
    client.force_login(clinician)
    response = client.get(reverse("patients:detail", args=["GI-0700"]))
    sheet = response.context["flowsheet"]
    day21 = record["start"] + timedelta(days=21)
    assert sheet["dates"] == [record["today"], day21, record["day14"], record["start"]]
    rows = {row["label"]: row["cells"] for row in sheet["rows"]}
    assert rows["Day of course"] == [28, 21, 14, 0]
    assert [c["value"] for c in rows["Thalidomide"]] == [Decimal("50"), Decimal("50"), Decimal("50"), Decimal("25")]
    assert [c["changed"] for c in rows["Thalidomide"]] == [False, False, True, True]
    assert [c["value"] for c in rows["Azathioprine"]] == [Decimal("100")] * 4
    assert [c["changed"] for c in rows["Azathioprine"]] == [False, False, False, True]  # in force after day 0
    assert [t.result if t else None for t in rows["Pregnancy test"]] == ["negative"] * 4
    assert [v.cdai if v else None for v in rows["CDAI"]] == [None, None, 180, 260]
    platelets = rows["Platelets"]
    assert platelets[2].value == Decimal("95") and platelets[2].flag == "low" and platelets[0] is None
    html = response.content.decode()
    assert "data-flowsheet" in html and "lab-low" in html


def test_flowsheet_of_a_man_has_no_pregnancy_row(client, clinician, make_patient):
    patient = make_patient(code="GI-0701", sex="M")
    visit_record(actor=clinician, patient=patient, date=timezone.localdate(), cdai_entered=200)
    client.force_login(clinician)
    sheet = client.get(reverse("patients:detail", args=["GI-0701"])).context["flowsheet"]
    assert "Pregnancy test" not in [row["label"] for row in sheet["rows"]]


def test_flowsheet_shows_the_newest_twelve_dates_then_all(client, clinician, make_patient):
    patient = make_patient(code="GI-0702", sex="M")
    first = timezone.localdate() - timedelta(days=300)
    for n in range(15):
        visit_record(actor=clinician, patient=patient, date=first + timedelta(days=14 * n), cdai_entered=200 - n)
    client.force_login(clinician)
    url = reverse("patients:detail", args=["GI-0702"])
    sheet = client.get(url).context["flowsheet"]
    assert len(sheet["dates"]) == 12 and sheet["hidden_dates"] == 3
    assert sheet["dates"][0] == first + timedelta(days=14 * 14)
    assert len(client.get(url + "?dates=all").context["flowsheet"]["dates"]) == 15


def test_patient_page_queries_do_not_grow_with_the_record(client, clinician, make_patient,
                                                          django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def page_queries(code, visits):
        patient = make_patient(code=code, sex="F", reproductive_potential=True)
        first = timezone.localdate() - timedelta(days=400)
        historical_course_save(actor=clinician, patient=patient, start_date=first)
        for n in range(visits):
            day = first + timedelta(days=14 * n)
            visit_record(actor=clinician, patient=patient, date=day, cdai_entered=200, weight_kg=Decimal("60"))
            lab_results_record(actor=clinician, patient=patient, date=day, lab_values={"crp": Decimal("5")})
        client.force_login(clinician)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("patients:detail", args=[code])).status_code == 200
        return len(queries)

    assert page_queries("GI-0710", 2) == page_queries("GI-0711", 20)


def test_full_history_lists_every_clinical_change_newest_first(client, clinician, record):
    from visits.models import Visit

    visit = Visit.objects.get(patient=record["patient"], date=record["day14"])
    from visits.actions import visit_update

    visit_update(actor=clinician, visit=visit, expected_version=visit.version, neuropathy_grade=1)
    client.force_login(clinician)
    url = reverse("patients:history", args=["GI-0700"])
    entries = list(client.get(url).context["entries"])
    kinds = {entry.kind for entry in entries}
    assert {"patient", "course", "dose", "pregnancy", "visit", "lab"} <= kinds
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)
    newest = entries[0]
    assert newest.subject == f"Visit {record['day14']:%Y-%m-%d}" and newest.action == "Changed"
    # Diffed against the same visit's previous version, not another record's.
    assert [c[0] for c in newest.changes] == ["Peripheral neuropathy grade (CTCAE 0–4)"] or any(
        "neuropathy" in c[0].lower() for c in newest.changes)
    only_doses = list(client.get(url + "?kind=dose").context["entries"])
    assert {e.kind for e in only_doses} == {"dose"} and len(only_doses) == 3  # 25, AZA 100, 50 mg


def test_full_history_hides_identity_from_roles_without_it(client, make_user, record):
    from patients.actions import patient_update

    patient = record["patient"]
    patient_update(actor=None, patient=patient, full_name="Ona Renamed", expected_version=patient.version)
    client.force_login(make_user(CLINIC_LEAD))
    html = client.get(reverse("patients:history", args=["GI-0700"])).content.decode()
    assert "Ona Renamed" not in html and "Ona Fictional" not in html and "hidden for your role" in html


def test_flowsheet_marks_changes_not_continuations_and_shows_a_phone_no(client, clinician, make_patient):
    """R3.1: a row at the dose already taken is a continuation (not bold); R5.3: a "no" to
    contraception by phone shows even when a clinic visit the same day did not ask."""
    from therapy.actions import contraception_confirm

    patient = make_patient(code="GI-0703", sex="M")
    start = timezone.localdate() - timedelta(days=20)
    historical_course_save(actor=clinician, patient=patient, start_date=start)
    dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=start, dose_mg=25, historical=True)
    dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=start + timedelta(days=10),
                       dose_mg=25, historical=True)
    day = start + timedelta(days=15)
    visit_record(actor=clinician, patient=patient, date=day, cdai_entered=200)
    contraception_confirm(actor=clinician, patient=patient, date=day, contact="phone", confirmed=False)
    client.force_login(clinician)
    sheet = client.get(reverse("patients:detail", args=["GI-0703"])).context["flowsheet"]
    rows = {row["label"]: row["cells"] for row in sheet["rows"]}
    assert sheet["dates"] == [day, start + timedelta(days=10), start]
    assert [c["changed"] for c in rows["Thalidomide"]] == [False, False, True]
    assert rows["Contraception"][0].flowsheet_contraception is False
    assert rows["Contact"][0].contact == "clinic"


def test_banner_says_a_positive_test_first(client, clinician, make_patient):
    woman = make_patient(code="GI-0704", sex="F", reproductive_potential=True)
    today = timezone.localdate()
    pregnancy_test_record(actor=clinician, patient=woman, date=today - timedelta(days=2), result="negative")
    pregnancy_test_record(actor=clinician, patient=woman, date=today, result="positive")
    client.force_login(clinician)
    banner = _banner(client.get(reverse("patients:detail", args=["GI-0704"])).content.decode())
    assert f"POSITIVE {today:%Y-%m-%d}" in banner
