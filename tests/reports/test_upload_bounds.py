"""Issue 13, item 4: uploads bounded. Each pentest finding reproduced at a small scale: a
header of a million columns, a file of thousands of bad rows (errors capped), damaged zips."""

import io
import zipfile

import pytest

from reports.datasheet import import_datasheet
from reports.datasheet.reading import MAX_COLUMNS, read_datasheet
from reports.datasheet.report import MAX_LISTED, DatasheetInvalid

pytestmark = pytest.mark.django_db


def _zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    buffer.seek(0)
    buffer.name = "sheet.zip"
    return buffer


def test_a_header_of_a_million_columns_is_refused_at_once():
    header = ",".join(f"c{i}" for i in range(1_000_004))
    files = read_datasheet(_zip({"patients.csv": header + "\n"}))
    assert files["patients.csv"].problem == f"the header has 1000004 columns; a datasheet file has at most {MAX_COLUMNS}"
    report = import_datasheet(_zip({"patients.csv": header + "\n"}))
    assert [str(e) for e in report.errors] == [
        f"patients.csv:0: the header has 1000004 columns; a datasheet file has at most {MAX_COLUMNS}"]


def test_errors_are_capped_and_counted():
    from tests.reports.test_datasheet_bad_input import BASE

    columns = list(BASE["patients.csv"])
    base = dict(BASE["patients.csv"], birth_date="notadate")
    rows = "".join(",".join({**base, "patient": f"BAD{i}"}[c] for c in columns) + "\n" for i in range(3 * MAX_LISTED))
    report = import_datasheet(_zip({"patients.csv": ",".join(columns) + "\n" + rows}))
    assert len(report.errors) == MAX_LISTED + 1
    last = str(report.errors[-1])
    assert last.startswith("datasheet:0: … and ") and f"the first {MAX_LISTED} are" in last
    assert not report.written


def test_a_damaged_zip_is_refused_cleanly():
    good = _zip({"patients.csv": "patient,sex\nA1,M\n" * 200}).getvalue()
    member = good.index(b"patients.csv") + len("patients.csv")  # local header, then the data
    damaged = bytearray(good)
    damaged[member + 20] ^= 0xFF  # one flipped byte in the compressed data: CRC or inflate fails
    source = io.BytesIO(bytes(damaged))
    source.name = "sheet.zip"
    with pytest.raises(DatasheetInvalid) as refused:
        read_datasheet(source)
    assert "damaged" in str(refused.value) or "not a valid zip" in str(refused.value)
    truncated = io.BytesIO(good[: len(good) // 2])
    truncated.name = "sheet.zip"
    report = import_datasheet(truncated)
    assert report.errors and not report.written


def test_datasheet_text_cells_never_run_as_formulas_and_the_round_trip_stays_identical(tmp_path):
    """Issue 13, item 7: a text cell starting with = + - @ (or an apostrophe) is exported with a
    leading apostrophe, which the import drops again."""
    import csv

    from reports.datasheet import FILE_ORDER, export_datasheet
    from safety.models import AdverseEvent
    from tests.reports.test_datasheet_bad_input import _sheet, _write
    from tests.reports.test_non_reproductive_reason import _delete_everything
    from visits.models import Visit

    texts = {"notes": "=HYPERLINK(\"http://evil.example\",\"x\")", "term_text": "''quoted", "reason": "-3 days late"}
    sheet = _sheet({("visits.csv", "notes"): texts["notes"], ("adverse_events.csv", "term"): "other",
                    ("adverse_events.csv", "term_text"): texts["term_text"], ("doses.csv", "reason"): texts["reason"]})
    assert import_datasheet(_write(tmp_path / "sheet", sheet)).errors == []
    stored_notes = Visit.objects.get().notes
    assert stored_notes == texts["notes"]  # a cell without the guard imports as written
    assert AdverseEvent.objects.get().term_text == "'quoted"  # one leading apostrophe dropped
    first, second = tmp_path / "first", tmp_path / "second"
    export_datasheet(first)
    cells = {name: list(csv.DictReader((first / name).open(encoding="utf-8")))[0]
             for name in ("visits.csv", "adverse_events.csv", "doses.csv")}
    assert cells["visits.csv"]["notes"] == "'" + texts["notes"]
    assert cells["adverse_events.csv"]["term_text"] == "''quoted"
    assert cells["doses.csv"]["reason"] == "'-3 days late"
    _delete_everything()
    assert import_datasheet(first).errors == []
    assert AdverseEvent.objects.get().term_text == "'quoted" and Visit.objects.get().notes == stored_notes
    export_datasheet(second)
    for name in FILE_ORDER:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_no_job_waits_forever_and_uploads_are_not_kept(tmp_path, settings, clinic_lead):
    """A job whose worker stopped is failed (its page stops polling); a refused upload's file
    goes at once, a finished one's after the retention period."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from reports.actions import STUCK_MESSAGE, import_jobs_tidy
    from reports.models import ImportJob

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.THALIMON_UPLOAD_RETENTION_DAYS = 30
    now = timezone.now()

    def job(state, *, age, finished=None):
        created = ImportJob.objects.create(file=ContentFile(b"zip", name="d.zip"), original_name="d.zip",
                                           state=state, created_by=clinic_lead, finished_at=finished)
        ImportJob.objects.filter(pk=created.pk).update(created_at=now - age)
        created.refresh_from_db()
        return created

    stuck = job(ImportJob.State.RUNNING, age=timedelta(hours=3))
    waiting = job(ImportJob.State.VALIDATED, age=timedelta(minutes=5))  # a worker may still take it
    old = job(ImportJob.State.DONE, age=timedelta(days=40), finished=now - timedelta(days=40))
    recent = job(ImportJob.State.DONE, age=timedelta(days=2), finished=now - timedelta(days=2))
    paths = {j.pk: j.file.path for j in (stuck, waiting, old, recent)}
    assert import_jobs_tidy(now=now) == {"failed": 1, "deleted": 1, "rerun": 0}
    stuck.refresh_from_db(), waiting.refresh_from_db(), old.refresh_from_db()
    assert (stuck.state, stuck.errors) == (ImportJob.State.FAILED, [STUCK_MESSAGE])
    assert waiting.state == ImportJob.State.VALIDATED
    assert not old.file and not __import__("os").path.exists(paths[old.pk])
    assert __import__("os").path.exists(paths[recent.pk])


def test_a_refused_upload_keeps_its_errors_but_not_its_file(
    client, clinic_lead, tmp_path, settings, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from reports.models import ImportJob

    settings.MEDIA_ROOT = str(tmp_path / "media")
    client.force_login(clinic_lead)
    bad = _zip({"patients.csv": "patient,nonsense\nA1,x\n"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:upload"), {"datasheet": bad})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.state == ImportJob.State.INVALID and job.errors
    assert not job.file and not list((tmp_path / "media").rglob("*.zip"))


def test_a_file_over_the_row_cap_is_refused(monkeypatch):
    from reports.datasheet import reading

    monkeypatch.setattr(reading, "MAX_ROWS", 3)  # the cap, made small: the same code path
    files = read_datasheet(_zip({"patients.csv": "patient\n" + "".join(f"P{i}\n" for i in range(5))}))
    assert files["patients.csv"].problem == "more than 3 rows; split the datasheet"


def test_a_queued_job_whose_message_was_lost_is_queued_again(tmp_path, settings, clinic_lead):
    """A broker restart loses the messages it held: the tidy task queues a job that no
    worker took again (once per 10 minutes of waiting), and a running one is left alone."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from outbox.models import OutboxMessage
    from reports.actions import import_jobs_tidy
    from reports.models import ImportJob

    settings.MEDIA_ROOT = str(tmp_path / "media")
    now = timezone.now()
    waiting = ImportJob.objects.create(file=ContentFile(b"zip", name="d.zip"), original_name="d.zip",
                                       state=ImportJob.State.QUEUED, created_by=clinic_lead)
    fresh = ImportJob.objects.create(file=ContentFile(b"zip", name="e.zip"), original_name="e.zip",
                                     state=ImportJob.State.QUEUED, created_by=clinic_lead)
    ImportJob.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(minutes=25))
    assert import_jobs_tidy(now=now)["rerun"] == 1
    assert import_jobs_tidy(now=now)["rerun"] == 1  # the same round again: the same key, queued once
    assert list(OutboxMessage.objects.values_list("key", "args")) == [(f"import:{waiting.pk}:run:1:requeue:2",
                                                                      [waiting.pk])]
    assert not OutboxMessage.objects.filter(args=[fresh.pk]).exists()
