"""Issue 15 item 6: the visit PDF is one A4 page whatever the record holds, names the
patient for the roles that may see names (the code for everyone), names the clinician,
has a signature line, and opens in the browser (inline) to print."""

import re
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import pdf
from safety import schedule
from safety.models import AdverseEvent
from safety.records import patient_records
from therapy.actions import historical_course_save
from therapy.models import DoseChange
from visits.actions import visit_record

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
START = TODAY - timedelta(days=120)
ALL_LABS = {
    "crp": "35.2", "esr": "48", "wbc": "3.1", "neutrophils": "1.4", "hemoglobin": "104", "hematocrit": "33",
    "platelets": "512", "mcv": "104", "alt": "88", "ast": "71", "albumin": "29", "creatinine": "120",
    "calprotectin": "1250", "tgn": "180", "mmp": "6100",
}


def _pdf_text(tmp_path, content, name="visit"):
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(content)
    pages = int(next(line.split()[-1] for line in subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Pages:")))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return pages, text


@pytest.fixture
def crowded_visit(make_patient, clinician):
    """A woman on both drugs whose visit has every lab, both dose decisions with
    deviations and an override, ten ongoing adverse events and so ten and more reminders."""
    patient = make_patient(code="GI-FULL", full_name="Olga Sample", sex="F", birth_date=START.replace(year=1990),
                           standard_weight_kg=Decimal("62"), baseline_cdai=Decimal("320"),
                           responsible_clinician=clinician)
    historical_course_save(actor=clinician, patient=patient, start_date=START)
    visit = visit_record(
        actor=clinician, patient=patient, date=TODAY - timedelta(days=1), weight_kg=Decimal("62"),
        cdai_stools=30, cdai_pain=14, cdai_wellbeing=18, cdai_complications=3, cdai_antidiarrheal=True,
        cdai_mass=5, hematocrit=Decimal("33"), neuropathy_grade=1, contraception_confirmed=False,
        lab_values={test: Decimal(value) for test, value in ALL_LABS.items()},
    )
    long_reason = "Discussed at length with the patient and the pharmacist; benefit judged to outweigh the risk. " * 3
    DoseChange.objects.create(patient=patient, drug="thalidomide", date=visit.date, dose_mg=100,
                              deviations=["step_too_large", "step_up_during_neuropathy", "above_max_dose"],
                              override_reason=long_reason, decided_by=clinician)
    DoseChange.objects.create(patient=patient, drug="azathioprine", date=visit.date, dose_mg=150,
                              warnings=["weight_missing", "aza_dose_outside_range"], override_reason=long_reason,
                              decided_by=clinician)
    terms = ["fatigue", "somnolence", "vertigo", "insomnia", "constipation", "arthralgia", "alopecia",
             "blurred_vision", "leukopenia", "menstrual_disorder"]
    for i, term in enumerate(terms):
        AdverseEvent.objects.create(patient=patient, onset=visit.date - timedelta(days=i + 1), term=term,
                                    grade=1 + i % 3, drug="thalidomide")
    return visit


def test_ten_due_reminders_print_on_one_page(client, clinician, crowded_visit, tmp_path):
    (batch,) = list(patient_records(as_of=crowded_visit.date, patient_ids=[crowded_visit.patient.pk]))
    due = schedule.reminders(batch[0][1], crowded_visit.date)
    assert len(due) >= 10  # the case the issue names

    client.force_login(clinician)
    response = client.get(reverse("reports:visit_pdf", args=[crowded_visit.pk]))
    pages, text = _pdf_text(tmp_path, response.content)
    assert pages == 1, text
    shown = pdf.DUE_NEXT_SHOWN
    assert f"and {len(due) - shown} more" in text
    assert "and 6 more (patient page)" in text  # ten adverse events, four listed
    assert "Signature" in text and "What is due next" in text and "Faecal calprotectin" in text
    assert "Above the maximum dose" in text and "step_too_large" not in text  # deviations in words
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(tmp_path / "visit.pdf"), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").exists() and not (tmp_path / "page-2.png").exists()


def test_the_longest_texts_still_print_on_one_page(client, clinician, crowded_visit, tmp_path):
    """Override reasons have no length limit: the PDF shortens them and, if the page
    would still spill, lays itself out compact."""
    crowded_visit.status_reason = "A long outcome explanation. " * 20
    crowded_visit.cdai_reason = "A long CDAI explanation. " * 20
    crowded_visit.save(update_fields=["status_reason", "cdai_reason"])
    DoseChange.objects.filter(patient=crowded_visit.patient).update(override_reason="word " * 800)
    client.force_login(clinician)
    pages, text = _pdf_text(tmp_path, client.get(reverse("reports:visit_pdf", args=[crowded_visit.pk])).content)
    assert pages == 1, text
    assert "Signature" in text and "…" in text


def test_a_plain_visit_is_one_page_too_and_lists_all_it_has(client, clinician, make_patient, tmp_path):
    patient = make_patient(code="GI-LITE")
    visit = visit_record(actor=clinician, patient=patient, date=TODAY, cdai_entered=Decimal("180"))
    client.force_login(clinician)
    pages, text = _pdf_text(tmp_path, client.get(reverse("reports:visit_pdf", args=[visit.pk])).content)
    assert pages == 1 and "more (" not in text and "No change at this visit" in text


def test_identity_for_the_care_team_only_the_code_for_others(client, clinician, clinic_lead, crowded_visit, tmp_path):
    url = reverse("reports:visit_pdf", args=[crowded_visit.pk])
    birth = crowded_visit.patient.birth_date.strftime("%Y-%m-%d")
    client.force_login(clinician)
    _, text = _pdf_text(tmp_path, client.get(url).content, "clinician")
    assert "GI-FULL" in text and "Olga Sample" in text and birth in text
    assert "Carla Clinician" in text  # recorded by, responsible clinician, the name by the signature

    assert not clinic_lead.has_perm("patients.view_patient_identity")
    client.force_login(clinic_lead)
    response = client.get(url)
    assert response.status_code == 200
    _, text = _pdf_text(tmp_path, response.content, "lead")
    assert "GI-FULL" in text
    assert "Olga Sample" not in text and birth not in text and "Birth date" not in text


def test_served_inline_to_open_and_print_with_its_file_name(client, clinician, crowded_visit):
    client.force_login(clinician)
    response = client.get(reverse("reports:visit_pdf", args=[crowded_visit.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="visit-GI-FULL-{crowded_visit.date:%Y-%m-%d}.pdf"'


def test_a_visit_recorded_by_an_import_says_so(make_patient, clinician):
    patient = make_patient(code="GI-IMP")
    visit = visit_record(actor=clinician, patient=patient, date=TODAY, cdai_entered=Decimal("180"))
    visit.created_by = None
    context = pdf.visit_summary_context(visit)
    assert context["recorded_by"] is None and context["show_identity"] is False
    from django.template.loader import render_to_string

    html = render_to_string("reports/pdf/visit_summary.html", {**context, "compact": False})
    assert "Recorded by <strong data-recorded-by>an import</strong>" in html


def test_the_pdf_reads_a_fixed_number_of_queries(client, clinician, crowded_visit):
    """However many adverse events, reminders and dose decisions: the same queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("reports:visit_pdf", args=[crowded_visit.pk])
    client.force_login(clinician)
    client.get(url)  # warm the session
    counts = []
    for more in range(2):
        for i in range(5 * more):
            AdverseEvent.objects.create(patient=crowded_visit.patient, onset=crowded_visit.date - timedelta(days=20 + i),
                                        term="other", term_text=f"event {i}", grade=2, drug="azathioprine")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[1] == counts[0], counts


def test_the_pdf_states_the_sites_that_treated_the_patient(client, clinician, crowded_visit, make_user, tmp_path):
    """Issue 18: a summary filed at one site and read at another says which site treated
    the patient when; the transfer's day ends one period and starts the next."""
    from patients.actions import patient_transfer
    from tests.conftest import site

    east = site("EAST")
    clinician_east = make_user("Clinician", sites=["EAST"])
    moved_on = TODAY - timedelta(days=1)
    patient_transfer(actor=clinician, patient=crowded_visit.patient, to_site=east, date=moved_on,
                     reason="Moved house", responsible_clinician=clinician_east)
    client.force_login(clinician_east)
    pages, text = _pdf_text(tmp_path, client.get(reverse("reports:visit_pdf", args=[crowded_visit.pk])).content)
    flat = " ".join(text.split())
    assert pages == 1
    assert f"at EAST since {moved_on:%Y-%m-%d}" in flat
    assert re.search(rf"Treated at MAIN (from \S+ )?to {moved_on:%Y-%m-%d}", flat), flat[:600]
