"""Visit pages: the form (with its live CDAI), the detail page with the status
badge and reason, bad input named and nothing lost, the patient page's
timeline and its query count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from therapy.actions import historical_course_save
from visits.actions import visit_record
from visits.models import Endoscopy, LabResult, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(make_patient, clinician):
    # Male, standard weight 70 kg: with weight 70 the weight term is 0.
    patient = make_patient(code="GI-0500", standard_weight_kg=Decimal("70"), baseline_cdai=Decimal("300"))
    historical_course_save(actor=clinician, patient=patient, start_date=date(2024, 1, 1))
    return patient


def visit_data(**overrides):
    data = {
        "date": "2024-02-12",
        "contact": "clinic",
        "weight_kg": "70",
        "cdai_stools": "10",  # ×2 = 20
        "cdai_pain": "4",  # ×5 = 20
        "cdai_wellbeing": "6",  # ×7 = 42
        "cdai_complication_flags": ["arthritis"],  # ×20 = 20
        "cdai_antidiarrheal": "false",
        "cdai_mass": "0",
        "hematocrit": "44",  # 6 × (47 − 44) = 18
        "neuropathy_grade": "0",
        "contraception_confirmed": "true",
        "lab_crp": "12.5",
        "lab_wbc": "3.4",
    }
    data.update(overrides)
    return data


# 20 + 20 + 42 + 20 + 0 + 0 + 18 + 0 = 120: < 150 and 300 − 120 = 180 ≥ 70 → remission (R2.2)


def test_clinician_records_a_visit_and_sees_status_and_reason(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[patient.code]), visit_data(), follow=True)
    visit = Visit.objects.get(patient=patient)
    assert visit.cdai == 120 and visit.clinical_status == "remission"
    assert visit.cdai_complications == 1
    page = response.content.decode()
    assert "status-remission" in page
    assert "CDAI 120: below 150 and 180 below baseline 300" in page
    assert LabResult.objects.get(patient=patient, test="crp").value == Decimal("12.5")
    assert "High" in page and "Low" in page  # CRP 12.5 above 0–3; WBC 3.4 below 4–10


def test_live_cdai_preview_uses_the_server_computation(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(reverse("visits:cdai_preview", args=[patient.code]), visit_data())
    page = response.content.decode()
    assert "CDAI 120" in page and 'data-cdai-state="computed"' in page
    missing = client.post(reverse("visits:cdai_preview", args=[patient.code]), visit_data(hematocrit=""))
    assert "missing" in missing.content.decode() and "haematocrit" in missing.content.decode()
    assert not Visit.objects.exists()  # a preview saves nothing


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("hematocrit", "0.42", "not as a fraction"),
        ("cdai_pain", "22", "0–21"),
        ("cdai_wellbeing", "29", "0–28"),
        ("cdai_mass", "3", "Abdominal mass: choose one of the options listed"),
        ("date", (timezone.localdate() + timedelta(days=1)).isoformat(), "cannot be in the future"),
        ("lab_hemoglobin", "9.8", "expected g/L"),
        ("weight_kg", "0.5", "between 2 and 300 kg"),
    ],
)
def test_bad_input_is_named_and_the_form_keeps_what_was_typed(client, clinician, patient, field, value, message):
    client.force_login(clinician)
    response = client.post(
        reverse("visits:create", args=[patient.code]), visit_data(**{field: value}, notes="kept text")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "kept text" in page and 'value="10"' in page
    assert not Visit.objects.exists() and not LabResult.objects.exists()


def test_edit_visit_rescores_and_keeps_history(client, clinician, patient):
    client.force_login(clinician)
    client.post(reverse("visits:create", args=[patient.code]), visit_data())
    visit = Visit.objects.get()
    response = client.post(reverse("visits:edit", args=[visit.pk]), visit_data(cdai_pain="20", expected_version=visit.version))
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.cdai == 200  # 120 + 5 × 16; Δ 100 ≥ 70 but not < 150 → response
    assert visit.clinical_status == "response"
    history = client.get(reverse("visits:history", args=[visit.pk])).content.decode()
    assert "Abdominal pain (7-day sum of 0–3)" in history and "4 → 20" in history


def test_endoscopy_form_computes_cdeis_and_refuses_rutgeerts_without_resection(client, clinician, patient):
    client.force_login(clinician)
    url = reverse("visits:endoscopy_create", args=[patient.code])
    refused = client.post(url, {"date": "2024-02-01", "rutgeerts": "2", "ulceration": "unknown"})
    assert "only after ileocolonic resection" in refused.content.decode()
    ok = client.post(
        url,
        {
            "date": "2024-02-01",
            "ulceration": "unknown",
            "ileum_explored": "on",
            "ileum_superficial": "on",
            "ileum_involved": "5",
            "ileum_ulcerated": "2",
        },
    )
    assert ok.status_code == 302
    assert Endoscopy.objects.get().cdeis == Decimal("13.0")  # 6 + 5 + 2 = 13, n = 1


def test_endoscopy_form_refuses_ulcerated_above_involved(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(
        reverse("visits:endoscopy_create", args=[patient.code]),
        {"date": "2024-02-01", "ulceration": "unknown", "ileum_explored": "on", "ileum_involved": "2", "ileum_ulcerated": "4"},
    )
    assert "cannot be larger than the surface involved" in response.content.decode()
    assert not Endoscopy.objects.exists()


def test_lab_form_saves_and_refuses_implausible_values(client, clinician, patient):
    client.force_login(clinician)
    url = reverse("visits:lab_create", args=[patient.code])
    refused = client.post(url, {"date": "2024-02-01", "lab_crp": "5", "lab_albumin": "3.5"})
    assert "expected g/L" in refused.content.decode()
    assert not LabResult.objects.exists()
    client.post(url, {"date": "2024-02-01", "lab_crp": "5", "lab_albumin": "35"})
    assert LabResult.objects.count() == 2


def test_course_form_refuses_stop_before_start(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(
        reverse("patients:course", args=[patient.code]),
        {"stop_date": "2023-12-01", "stop_reason": "x", "target_dose_mg": "100"},
    )
    assert "cannot be before the start" in response.content.decode()


def test_patient_page_shows_timeline_and_charts(client, nurse, clinician, patient):
    visit_record(actor=clinician, patient=patient, date=date(2024, 2, 12), cdai_entered=Decimal("120"))
    client.force_login(nurse)
    page = client.get(reverse("patients:detail", args=[patient.code])).content.decode()
    assert "figure-cdai" in page and "plotly-basic.min.js" in page
    assert "status-remission" in page
    assert "New visit" not in page  # nurses view, they do not record visits


def _patient_page_queries(client, patient):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("patients:detail", args=[patient.code]))
    assert response.status_code == 200
    return len(captured)


def test_patient_page_query_count_does_not_grow_with_visits(client, clinician, patient):
    client.force_login(clinician)

    def add_visits(n, start):
        Visit.objects.bulk_create(
            Visit(patient=patient, date=date(2024, 1, 2) + timedelta(days=start + i), contact="clinic", cdai=100 + i)
            for i in range(n)
        )
        LabResult.objects.bulk_create(
            LabResult(patient=patient, date=date(2024, 1, 2) + timedelta(days=start + i), test="crp", value=5)
            for i in range(n)
        )

    add_visits(10, 0)
    with_10 = _patient_page_queries(client, patient)
    add_visits(90, 10)
    with_100 = _patient_page_queries(client, patient)
    assert with_10 == with_100


# --- regressions from the second read against clinical-rules.md -------------------
def test_no_complication_ticked_counts_as_zero(client, clinician, patient):
    client.force_login(clinician)
    client.post(reverse("visits:create", args=[patient.code]), visit_data(cdai_complication_flags=[]))
    visit = Visit.objects.get()
    assert visit.cdai_complications == 0
    assert visit.cdai == 100  # 120 − 20 × 1


def test_unticking_every_complication_resets_the_count(client, clinician, patient):
    client.force_login(clinician)
    client.post(reverse("visits:create", args=[patient.code]), visit_data())
    visit = Visit.objects.get()
    client.post(reverse("visits:edit", args=[visit.pk]), visit_data(cdai_complication_flags=[], expected_version=visit.version))
    visit.refresh_from_db()
    assert (visit.cdai_complications, visit.cdai) == (0, 100)


def test_moving_a_visit_moves_its_labs_and_an_emptied_lab_is_deleted(client, clinician, patient):
    client.force_login(clinician)
    client.post(reverse("visits:create", args=[patient.code]), visit_data())
    visit = Visit.objects.get()
    client.post(reverse("visits:edit", args=[visit.pk]), visit_data(date="2024-02-13", lab_wbc="", expected_version=visit.version))
    assert list(LabResult.objects.values_list("date", "test")) == [(date(2024, 2, 13), "crp")]


def test_phone_contact_refuses_cdai_items(client, clinician, patient):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[patient.code]), visit_data(contact="phone"))
    assert "recorded only at clinic visits" in response.content.decode()
    assert not Visit.objects.exists()


def test_lab_reference_shown_for_the_patients_sex_and_age(client, clinician, make_patient):
    girl = make_patient(code="GI-0600", sex="F", birth_date=date(2016, 5, 1), diagnosis="AID", aid_type="SAVI",
                        montreal_location="", montreal_behavior="")
    client.force_login(clinician)
    page = client.get(reverse("visits:lab_create", args=[girl.code])).content.decode()
    assert "Reference 115–150" in page  # haemoglobin, female
    assert "Reference 0–8" in page  # CRP, child under 16 (R12)


def test_live_cdai_counts_no_ticked_complication_as_zero(client, clinician, patient):
    client.force_login(clinician)
    page = client.post(
        reverse("visits:cdai_preview", args=[patient.code]), visit_data(cdai_complication_flags=[])
    ).content.decode()
    assert "CDAI 100" in page  # 120 − 20: the preview agrees with the saved visit
