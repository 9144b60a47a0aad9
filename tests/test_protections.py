"""Issue 13, item 7: headers and configuration, each finding reproduced."""

import logging
from pathlib import Path

import pytest
from django.urls import reverse

from thalimon.protections import OneLineForbidden, spreadsheet_safe, static_only_url_fetcher

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_authenticated_pages_and_downloads_are_never_cached(client, clinic_lead):
    client.force_login(clinic_lead)
    for url in (reverse("patients:list"), reverse("reports:download", args=["csv"])):
        header = client.get(url)["Cache-Control"]
        assert "no-store" in header and "private" in header


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+2", "'+1+2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("-cmd", "'-cmd"), ("\tx", "'\tx"), ("-1.5", "-1.5"), ("12 (40.0 %)", "12 (40.0 %)"), (3, 3), ("", ""),
])
def test_spreadsheet_cells_never_run_as_formulas(value, expected):
    assert spreadsheet_safe(value) == expected


@pytest.mark.django_db
def test_report_csv_and_xlsx_neutralise_formula_text(monkeypatch):
    import io

    from openpyxl import load_workbook

    from reports import exports
    from reports.tables import Table

    evil = Table(key="t", title="=cmd|' /C calc'!A0", header=["", "value"], rows=[["@row", "=1+1"]])
    monkeypatch.setattr(exports, "report_tables", lambda report: [evil])
    text = exports.as_csv({"@row": {"-x": 1, "n": -2}}).decode("utf-8-sig")  # the numeric CSV
    assert "'@row,Other figure: @row.-x,'@row.-x," in text and ",-2\r\n" in text
    book = load_workbook(io.BytesIO(exports.as_xlsx({})))
    assert book["t"]["B4"].value == "'=1+1" and book["t"]["B4"].data_type == "s"


def test_pdfs_fetch_only_the_apps_static_files(settings):
    with pytest.raises(ValueError, match="only the app's static files"):
        static_only_url_fetcher("file:///etc/passwd")
    with pytest.raises(ValueError):
        static_only_url_fetcher("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(ValueError):
        static_only_url_fetcher(f"{settings.STATIC_URL}../../thalimon/settings.py")
    fetched = static_only_url_fetcher(f"{settings.STATIC_URL}css/thalimon.css")
    assert fetched  # the app's own stylesheet


def test_a_403_is_logged_in_one_line():
    try:
        raise PermissionError("denied")
    except PermissionError:
        import sys

        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden: /x", (),
                                   sys.exc_info())
    record.status_code = 403
    assert OneLineForbidden().filter(record) and record.exc_info is None
    assert "\n" not in logging.Formatter("%(message)s").format(record)


def test_make_writes_no_debug_file_and_compose_keeps_web_on_loopback():
    makefile = (ROOT / "Makefile").read_text()
    assert "> .env" not in makefile and ".env:" not in makefile
    compose = (ROOT / "docker-compose.yml").read_text()
    assert '"${WEB_BIND:-127.0.0.1}:8000:8000"' in compose and "BEHIND_TLS_PROXY:-0" in compose


@pytest.mark.django_db
def test_a_commit_bumps_the_report_cache_generation(make_patient, clinician, django_capture_on_commit_callbacks):
    from thalimon.protections import CLINICAL_DATA, generation
    from visits.actions import visit_record

    patient = make_patient(code="PR-0001")
    before = generation(CLINICAL_DATA)
    with django_capture_on_commit_callbacks(execute=True):
        visit_record(actor=clinician, patient=patient, date=patient.birth_date.replace(year=2024))
    assert generation(CLINICAL_DATA) == (before or 0) + 1


@pytest.mark.django_db
def test_acknowledging_an_alert_never_redirects_off_site(client, clinician, make_patient):
    from django.utils import timezone

    from safety.models import Alert

    patient = make_patient(code="PR-0002")
    alert = Alert.objects.create(patient=patient, kind="lab", tier="review", source="lab:1",
                                 date=timezone.localdate(), rule="R4.4", reason="r")
    client.force_login(clinician)
    response = client.post(reverse("safety:alert_acknowledge", args=[alert.pk]), {"next": "https://evil.example/x"})
    assert response.status_code == 302 and not response.url.startswith("https://evil.example")


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["scan_reminders", "cohort_report"])
def test_a_bad_as_of_date_is_a_clear_message_not_a_traceback(command):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command(command, "--as-of", "notadate")
