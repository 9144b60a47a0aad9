"""Cohort report command in four formats, the report page, the visit PDF."""

import json
import subprocess
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from therapy.actions import historical_course_save
from visits.actions import visit_record

pytestmark = pytest.mark.django_db
START = timezone.localdate() - timedelta(days=120)


def _cohort(make_patient, clinician, n, offset=0):
    """n patients, baseline 300 at day 0, CDAI 120 at day 28 (remission at week 4, R2.2)."""
    for i in range(n):
        patient = make_patient(code=f"RP-{offset + i:04d}", standard_weight_kg=Decimal("70"))
        historical_course_save(actor=clinician, patient=patient, start_date=START)
        visit_record(actor=clinician, patient=patient, date=START, cdai_entered=Decimal("300"))
        visit_record(actor=clinician, patient=patient, date=START + timedelta(days=28), cdai_entered=Decimal("120"))


@pytest.fixture
def cohort(make_patient, clinician):
    _cohort(make_patient, clinician, 4)


def test_json_has_the_interface_keys_and_the_figures(cohort, tmp_path):
    out = tmp_path / "r.json"
    call_command("cohort_report", "--format", "json", "--out", str(out))
    report = json.loads(out.read_text())
    assert {"as_of", "rules_version", "n_patients", "induction", "relapse_free", "adverse_events",
            "endoscopy", "titration", "exposure"} <= set(report)
    assert report["n_patients"] == 4
    assert report["induction"]["remission"]["4"]["n"] == 4 and report["induction"]["remission"]["4"]["pct"] == 100.0
    assert report["induction"]["cdai_mean_sd"]["4"][0] == 120.0


def test_xlsx_holds_the_same_numbers_as_the_json(cohort, tmp_path):
    call_command("cohort_report", "--format", "json", "--out", str(tmp_path / "r.json"))
    call_command("cohort_report", "--format", "xlsx", "--out", str(tmp_path / "r.xlsx"))
    report = json.loads((tmp_path / "r.json").read_text())
    book = load_workbook(tmp_path / "r.xlsx")
    assert {"baseline", "induction", "relapse_free", "adverse_events", "endoscopy", "titration", "exposure"} <= set(book.sheetnames)
    header, *rows = book["figures"].iter_rows(values_only=True)
    figures = {row[header.index("key")]: dict(zip(header, row, strict=True)) for row in rows}
    assert figures["induction.remission.4"]["n"] == report["induction"]["remission"]["4"]["n"] == 4
    assert figures["induction.response.4"]["percent (%)"] == report["induction"]["response"]["4"]["pct"]
    assert figures["n_patients"]["n"] == report["n_patients"]
    induction = [list(r) for r in book["induction"].iter_rows(values_only=True)]
    assert ["Remission, n (%)", None, "4 (100.0 %)"] == induction[4][:3]


def test_csv_and_pdf(cohort, tmp_path):
    call_command("cohort_report", "--format", "csv", "--out", str(tmp_path / "r.csv"))
    content = (tmp_path / "r.csv").read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM (tests/reports/test_numeric_exports.py)
    assert "induction,Remission (R2.2),induction.remission.4,4,,,4,4,100.0," in content.decode("utf-8-sig")
    call_command("cohort_report", "--format", "pdf", "--out", str(tmp_path / "r.pdf"))
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Table 2" in text and "4 (100.0 %)" in text


def test_report_queries_do_not_grow_with_patients(make_patient, clinician):
    from reports.selectors import cohort_report

    _cohort(make_patient, clinician, 2)
    with CaptureQueriesContext(connection) as few:
        cohort_report()
    _cohort(make_patient, clinician, 10, offset=100)
    with CaptureQueriesContext(connection) as many:
        cohort_report()
    assert len(few) == len(many)


def test_report_page_for_the_clinic_lead(client, clinic_lead, nurse, cohort):
    client.force_login(clinic_lead)
    page = client.get(reverse("reports:cohort")).content.decode()
    assert "Table 2 — Induction" in page and 'id="chart-relapse_free"' in page and "4 (100.0 %)" in page
    pdf = client.get(reverse("reports:download", args=["pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    bad = client.get(reverse("reports:cohort"), {"as_of": "2999-01-01"}).content.decode()
    assert "cannot look into the future" in bad
    client.force_login(nurse)
    assert client.get(reverse("reports:cohort")).status_code == 403


def test_visit_pdf_text_and_png(client, clinician, make_patient, tmp_path):
    patient = make_patient(code="GI-PDF1", standard_weight_kg=Decimal("70"), baseline_cdai=Decimal("300"))
    historical_course_save(actor=clinician, patient=patient, start_date=START)
    visit = visit_record(
        actor=clinician, patient=patient, date=START + timedelta(days=28), weight_kg=Decimal("70"),
        cdai_stools=10, cdai_pain=4, cdai_wellbeing=6, cdai_complications=1, cdai_antidiarrheal=False,
        cdai_mass=0, hematocrit=Decimal("44"), lab_values={"crp": Decimal("12.5")},
    )
    client.force_login(clinician)
    response = client.get(reverse("reports:visit_pdf", args=[visit.pk]))
    pdf = tmp_path / "visit.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "GI-PDF1" in text and "CDAI 120" in text and "Remission" in text
    assert "Zed Fictional" in text  # a clinician files it by name (issue 15); other roles: tests/reports/test_visit_pdf.py
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 5000
    assert not (tmp_path / "page-2.png").exists()  # one A4 page




# --- regressions from the second read of the reports ------------------------------------
def test_command_refuses_a_future_as_of(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="in the future"):
        call_command("cohort_report", "--format", "json", "--out", str(tmp_path / "r.json"), "--as-of", "2999-01-01")


def test_download_with_an_invalid_filter_is_refused_not_replaced(client, clinic_lead, cohort):
    client.force_login(clinic_lead)
    response = client.get(reverse("reports:download", args=["json"]), {"as_of": "2999-01-01", "diagnosis": "UC"})
    assert response.status_code == 400 and "future" in response.content.decode()
    page = client.get(reverse("reports:cohort"), {"as_of": "2999-01-01"})
    assert page.status_code == 400 and "No report" in page.content.decode()


def test_an_empty_cohort_shows_dashes_not_zeros(client, clinic_lead, cohort):
    from reports.selectors import cohort_report
    from reports.tables import report_tables

    tables = {t.key: t for t in report_tables(cohort_report(diagnosis="UC"))}
    response = tables["induction"].rows[0]
    assert response[2:] == ["—", "—", "—", "—"]
    assert tables["relapse_free_summary"].rows[2][1] == "—"


def test_cached_report_follows_every_write(make_patient, clinician):
    from reports.selectors import cached_cohort_report

    _cohort(make_patient, clinician, 2)
    first = cached_cohort_report()
    assert cached_cohort_report() is not None and first["n_patients"] == 2
    _cohort(make_patient, clinician, 1, offset=50)  # a write changes the fingerprint
    assert cached_cohort_report()["n_patients"] == 3


def test_the_page_shows_the_recent_report_with_its_time_while_records_change(
    client, clinic_lead, make_patient, clinician, settings, django_assert_max_num_queries
):
    """A clinic at work changes records every few seconds: the page shows the report
    computed less than THALIMON_REPORT_RECENT_SECONDS ago, says when, and recomputes on
    request; the downloads are always of the data as it is now."""
    import json

    settings.THALIMON_REPORT_RECENT_SECONDS = 300
    _cohort(make_patient, clinician, 2)
    client.force_login(clinic_lead)
    first = client.get(reverse("reports:cohort"))
    assert first.context["computed_at"] is None and first.context["report"]["n_patients"] == 2
    _cohort(make_patient, clinician, 1, offset=50)  # a record changes
    with django_assert_max_num_queries(25):  # not the cohort's computation
        second = client.get(reverse("reports:cohort"))
    page = second.content.decode()
    assert second.context["report"]["n_patients"] == 2 and second.context["computed_at"] is not None
    assert "clinical records have changed since" in page and "fresh=1" in page
    download = client.get(reverse("reports:download", args=["json"]))
    assert json.loads(download.content)["n_patients"] == 3  # exact
    fresh = client.get(reverse("reports:cohort"), {"fresh": "1"})
    assert fresh.context["report"]["n_patients"] == 3 and fresh.context["computed_at"] is None
    assert "fresh=1" not in fresh.context["query"]
    _cohort(make_patient, clinician, 1, offset=60)
    settings.THALIMON_REPORT_RECENT_SECONDS = 0  # nothing recent enough: computed now
    now = client.get(reverse("reports:cohort"))
    assert now.context["report"]["n_patients"] == 4 and now.context["computed_at"] is None
