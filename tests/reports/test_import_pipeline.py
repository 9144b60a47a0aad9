"""The import pipeline (issue 14): the request only stores the upload; the worker reads it
through the storage API, checks and writes it a batch of patients at a time, reporting
its phases; faults are logged with their traceback and shown as a sentence; the job page
pages its findings; history and template pages."""

import io
import logging
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patients.models import Patient
from reports.datasheet import FILE_ORDER, FILES, export_datasheet, import_datasheet, staging
from reports.models import ImportJob
from tests.reports.test_datasheet import _delete_everything

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"


def _zip_bytes(folder=EXAMPLE):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(folder).glob("*.csv")):
            archive.writestr(f"datasheet/{path.name}", path.read_bytes())
    return buffer.getvalue()


def _upload(client, data=None, name="cohort.zip"):
    return client.post(reverse("reports:upload"), {"datasheet": SimpleUploadedFile(name, data or _zip_bytes())})


def _exported(folder):
    export_datasheet(folder)
    return {name: (folder / name).read_bytes() for name in FILE_ORDER}


def test_batches_of_one_patient_import_exactly_what_one_batch_imports(tmp_path, monkeypatch):
    """Checking and writing a patient at a time gives the same records (the rules never look
    across patients), and the same errors for a bad datasheet."""
    assert import_datasheet(EXAMPLE).written
    whole = _exported(tmp_path / "whole")
    _delete_everything()
    monkeypatch.setattr(staging, "BATCH_PATIENTS", 1)
    seen = []
    report = import_datasheet(EXAMPLE, progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert report.written and _exported(tmp_path / "one") == whole
    batches = [s for s in seen if s[0] == "writing" and s[1]]
    assert len(batches) == Patient.objects.count()  # one report per batch of one patient

    bad = tmp_path / "bad"
    shutil.copytree(EXAMPLE, bad)
    labs = bad / "labs.csv"
    labs.write_text(labs.read_text().replace(",crp,", ",crp_typo,"))
    _delete_everything()
    one = [str(e) for e in import_datasheet(bad).errors]
    monkeypatch.setattr(staging, "BATCH_PATIENTS", 500)
    assert one and one == [str(e) for e in import_datasheet(bad).errors]
    assert not Patient.objects.exists()


def test_the_phases_are_reported_in_order_with_rows_done_of_total():
    seen = []
    report = import_datasheet(EXAMPLE, progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert report.written
    phases = [phase for phase, _, _ in seen]
    order = ["reading", "validating", "writing", "scanning"]
    assert [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p] == order
    rows = sum(len((EXAMPLE / name).read_text().splitlines()) - 1 for name in FILES if (EXAMPLE / name).exists())
    for phase in ("validating", "writing"):
        counts = [(done, total) for p, done, total in seen if p == phase]
        assert counts[0] == (0, rows) and counts[-1] == (rows, rows)
        assert all(a[0] <= b[0] for a, b in zip(counts, counts[1:], strict=False))
    assert seen[-1] == ("scanning", Patient.objects.count(), Patient.objects.count())


def test_the_upload_request_only_stores_the_file_and_queues_the_job(
    client, clinic_lead, settings, tmp_path, django_assert_max_num_queries
):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clinic_lead)
    bad = _zip_bytes().replace(b"EX01,", b"EX01,", 1)
    with django_assert_max_num_queries(13):  # 12, and the job's run queued with it (outbox)
        response = _upload(client, bad)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.state == ImportJob.State.QUEUED and job.errors == []
    assert job.file_size == len(bad) and job.file.storage.exists(job.file.name)  # through the storage API
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for the worker" in page and 'hx-trigger="every 1s"' in page


def test_a_file_that_is_not_a_zip_is_refused_in_the_request(client, clinic_lead, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(clinic_lead)
    response = _upload(client, b"patient,sex\nA,M\n", name="fake.zip")
    assert "Datasheet: this file is not a zip" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_worker_reads_the_upload_through_the_storage_api(
    client, clinic_lead, settings, tmp_path, django_capture_on_commit_callbacks
):
    """The worker never opens a path of the web's disk: the stored file is read through
    ``job.file.open()`` (a volume or S3). Here the storage's folder is not the one the
    web would have (MEDIA_ROOT changes between upload and import)."""
    settings.MEDIA_ROOT = tmp_path / "web"
    client.force_login(clinic_lead)
    response = _upload(client)
    job = ImportJob.objects.get()
    shutil.copytree(tmp_path / "web", tmp_path / "shared")
    shutil.rmtree(tmp_path / "web")
    settings.MEDIA_ROOT = tmp_path / "shared"
    from reports.tasks import run_import

    assert run_import(job.pk) == ImportJob.State.DONE
    assert Patient.objects.count() == 4
    page = client.get(response["Location"]).content.decode()
    assert "Rows imported" in page and "Open the cohort report" in page


def test_the_job_page_shows_the_live_phase_rows_and_an_estimate(client, clinic_lead):
    from datetime import timedelta

    from django.utils import timezone

    from reports.actions import JobProgress, progress_key

    job = ImportJob.objects.create(original_name="big.zip", state=ImportJob.State.RUNNING, created_by=clinic_lead)
    progress = JobProgress(job)
    progress("validating", 0, 1_100_000)
    progress.phase_started = timezone.now() - timedelta(seconds=30)
    progress.last = 0
    progress("validating", 275_000, 1_100_000)
    assert cache.get(progress_key(job.pk))["rows_done"] == 275_000
    client.force_login(clinic_lead)
    fragment = client.get(reverse("reports:job", args=[job.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "Checking every row" in fragment and "275,000 of 1,100,000 rows" in fragment
    assert "about 90 s left in this step" in fragment  # 30 s for a quarter: 90 s for the rest
    assert 'aria-valuenow="20"' in fragment  # validating is 10-50 % of the bar
    job.refresh_from_db()
    assert (job.phase, job.rows_done) == ("validating", 275_000)  # outside a transaction: on the row too


def test_an_unexpected_fault_is_logged_with_its_traceback_and_shown_as_a_sentence(
    client, clinic_lead, settings, tmp_path, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from reports import actions

    def broken(*args, **kwargs):
        detail = "Key (code)=(%s) already exists" % "SECRET-007"  # noqa: UP031 - a message quoting a stored value
        raise ValueError(detail)

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(actions, "import_datasheet", broken)
    client.force_login(clinic_lead)
    with caplog.at_level(logging.ERROR, logger="reports.actions"), django_capture_on_commit_callbacks(execute=True):
        response = _upload(client)
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.FAILED
    assert job.errors == [actions.FAULT_MESSAGE.format(kind="ValueError", pk=job.pk)]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Traceback" in logged and "in broken" in logged and "ValueError" in logged
    assert "SECRET-007" not in logged
    page = client.get(response["Location"]).content.decode()
    assert "unexpected fault (ValueError); nothing was imported" in page


def test_findings_are_paged(client, clinic_lead):
    errors = [f"labs.csv:{line}: value: must be a number, got 'x'" for line in range(2, 122)]
    job = ImportJob.objects.create(original_name="bad.zip", state=ImportJob.State.INVALID, created_by=clinic_lead,
                                   errors=errors, error_total=1500, progress=100)
    client.force_login(clinic_lead)
    first = client.get(reverse("reports:job", args=[job.pk])).content.decode()
    assert "labs.csv:51:" in first and "labs.csv:52:" not in first
    assert "Errors (1,500, the first 120 listed)" in first and "1–50 of 120" in first
    last = client.get(reverse("reports:job", args=[job.pk]), {"errors_page": 3}).content.decode()
    assert "labs.csv:121:" in last and "labs.csv:101:" not in last and "101–120 of 120" in last


def test_history_lists_who_when_file_counts_and_result(client, clinic_lead, clinician, django_assert_max_num_queries):
    ImportJob.objects.create(original_name="first.zip", state=ImportJob.State.DONE, created_by=clinic_lead,
                             counts={"patients.csv": {"created": 4, "updated": 0, "unchanged": 0},
                                     "visits.csv": {"created": 30, "updated": 2, "unchanged": 1}},
                             warning_total=3)
    ImportJob.objects.create(original_name="second.zip", state=ImportJob.State.INVALID, created_by=clinic_lead,
                             error_total=7)
    client.force_login(clinic_lead)
    with django_assert_max_num_queries(12) as counted:
        page = client.get(reverse("reports:history")).content.decode()
    for _ in range(5):
        ImportJob.objects.create(original_name="more.zip", state=ImportJob.State.DONE, created_by=clinic_lead)
    with django_assert_max_num_queries(len(counted)):  # as many queries for seven jobs as for two
        client.get(reverse("reports:history"))
    table = page[page.index("data-history"):]
    assert table.index("second.zip") < table.index("first.zip")  # newest first
    assert ">34<" in table and ">2<" in table and ">3<" in table and ">7<" in table
    assert "Refused: errors found" in table and "Imported" in table
    job_page = client.get(reverse("reports:job", args=[ImportJob.objects.get(original_name="first.zip").pk]))
    assert reverse("reports:history") in job_page.content.decode()  # the "Imports" breadcrumb
    client.force_login(clinician)
    assert client.get(reverse("reports:history")).status_code == 403


def test_the_template_zip_has_every_header_and_a_readme_and_imports_as_nothing(client, clinic_lead, tmp_path):
    client.force_login(clinic_lead)
    response = client.get(reverse("reports:template"))
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    for name in FILE_ORDER:
        header = archive.read(f"datasheet/{name}").decode().strip().split(",")
        assert header == [c.name for c in FILES[name].columns if c.kind != "computed"]
    readme = archive.read("datasheet/README.txt").decode()
    assert "sex (required): one of: M, F" in readme and "200 MB" in readme
    (tmp_path / "template.zip").write_bytes(response.content)
    report = import_datasheet(tmp_path / "template.zip")
    assert report.written and not Patient.objects.exists()  # headers only: valid, nothing to import


def test_the_upload_page_states_the_limits_and_links_the_template(client, clinic_lead):
    client.force_login(clinic_lead)
    page = client.get(reverse("reports:upload")).content.decode()
    limits = page[page.index("data-limits"):]
    assert "200 MB" in limits and "100 columns and 5,000,000 rows per file" in limits
    assert reverse("reports:template") in page and reverse("reports:history") in page
