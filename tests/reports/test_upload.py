"""Datasheet upload in the browser's back end: validation report, import job, progress."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patients.models import Patient
from reports.models import ImportJob

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"


def _zip(replace=None):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(EXAMPLE.glob("*.csv")):
            text = path.read_text()
            if replace and path.name == replace[0]:
                text = text.replace(replace[1], replace[2])
            archive.writestr(f"datasheet/{path.name}", text)
    return SimpleUploadedFile("cohort.zip", buffer.getvalue(), content_type="application/zip")


def test_a_valid_datasheet_is_imported_by_the_job(
    client, clinic_lead, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clinic_lead)
    with django_capture_on_commit_callbacks(execute=True):  # the job is enqueued on commit
        client.post(reverse("reports:upload"), {"datasheet": _zip()})
    job = ImportJob.objects.get()
    assert job.state == "done" and job.progress == 100  # the task ran eagerly after commit
    assert Patient.objects.filter(code__in=["EX01", "EX02", "EX03", "EX04"]).count() == 4
    page = client.get(reverse("reports:job", args=[job.pk])).content.decode()
    assert "Imported" in page and "Open the cohort report" in page


def test_an_invalid_datasheet_lists_its_errors_and_imports_nothing(
    client, clinic_lead, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clinic_lead)
    bad = _zip(("labs.csv", "EX01,2021-02-01,crp,18.2", "EX01,2021-02-01,crp,abc"))
    with django_capture_on_commit_callbacks(execute=True):  # the worker checks it, not the request
        response = client.post(reverse("reports:upload"), {"datasheet": bad})
    job = ImportJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert job.state == "invalid" and job.error_total == 1
    assert "labs.csv:2: value:" in page
    assert not Patient.objects.exists()


def test_only_zip_files_are_accepted(client, clinic_lead, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clinic_lead)
    response = client.post(reverse("reports:upload"), {"datasheet": SimpleUploadedFile("x.csv", b"patient\n")})
    assert "upload a .zip" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_progress_fragment_for_htmx(client, clinic_lead, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clinic_lead)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports:upload"), {"datasheet": _zip()})
    job = ImportJob.objects.get()
    fragment = client.get(reverse("reports:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-job-state="done"' in fragment and "<html" not in fragment
