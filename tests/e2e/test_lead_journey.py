"""A clinic lead uploads a datasheet, sees the report page with its charts,
and downloads the PDF."""

import io
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"


def test_clinic_lead_imports_and_downloads_the_report(page, screenshot, make_user, tmp_path, settings):
    from thalimon.roles import CLINIC_LEAD

    settings.MEDIA_ROOT = tmp_path
    make_user(CLINIC_LEAD, username="leo", first_name="Leo", last_name="Lead")
    archive = tmp_path / "cohort.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for path in sorted(EXAMPLE.glob("*.csv")):
            zipped.write(path, f"datasheet/{path.name}")
    archive.write_bytes(buffer.getvalue())

    log_in(page, "leo")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    page.get_by_label("Datasheet (.zip of the CSV files)").set_input_files(str(archive))
    page.get_by_role("button", name="Upload and import").click()
    page.locator("[data-job-state='done']").wait_for(timeout=30_000)
    screenshot("lead_import_done")

    page.get_by_role("link", name="Open the cohort report").click()
    page.locator("[data-table='induction']").wait_for()
    page.locator("#chart-induction[data-rendered='true']").wait_for()
    page.locator("#chart-relapse_free[data-rendered='true']").wait_for()
    assert "4 patients" in page.locator("main").inner_text()
    page.get_by_label("As of").fill("2022-12-31")
    page.get_by_role("button", name="Update").click()
    page.locator("#chart-induction[data-rendered='true']").wait_for()
    screenshot("lead_cohort_report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert download.suggested_filename == "cohort-CD-2022-12-31.pdf"
    assert target.read_bytes().startswith(b"%PDF")
