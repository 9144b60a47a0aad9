"""Each role's daily journey in Chinese (issue 17): a clinician records a visit and a dose change
refused then overridden, a nurse works a pregnancy-test reminder from the inbox, a clinic lead
imports a datasheet and downloads the cohort PDF. Every label is looked up in the catalogue (the
page must show the catalogue's words), the rule reasons read in Chinese with days in the Chinese
format, no English sentence is left in the page's main part, and axe finds nothing serious."""

import io
import shutil
import subprocess
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone, translation

from tests.e2e import axe
from tests.e2e.conftest import watch_console
from tests.test_i18n import english_sentences

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"
ZH = "zh-hans"


def zh(msgid):
    """The catalogue's Chinese for ``msgid`` (a label, a button; a field's label is written in
    lower case and shown with a capital)."""
    with translation.override(ZH):
        for candidate in (msgid, msgid[:1].lower() + msgid[1:]):
            if translation.gettext(candidate) != candidate:
                return translation.gettext(candidate)
    raise AssertionError(f"not in the Chinese catalogue: {msgid!r}")


def chinese_day(day):
    return f"{day.year}年{day.month}月{day.day}日"


def log_in(page, username, password="a-long-test-password-123"):
    """The sign-in page follows the browser's language (Chinese here), before anyone is known."""
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == ZH
    page.get_by_label(zh("Username")).fill(username)
    page.get_by_label(zh("Password")).fill(password)
    page.get_by_role("button", name=zh("Log in")).click()


def no_english(page):
    return english_sentences(page.locator("main").inner_html())


def _context(browser, live_server, user, width):
    from accounts.models import Preference

    Preference.objects.update_or_create(user=user, defaults={"language": ZH})
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, watch_console(page)


@pytest.mark.parametrize("width", [1366, 768])
def test_clinician_in_chinese_records_a_visit_and_a_dose_change(
        browser, live_server, make_user, make_patient, screenshot_dir, width):
    from thalimon.roles import CLINICIAN
    from therapy import actions as therapy_actions
    from therapy.models import DoseChange
    from visits.actions import visit_record

    carla = make_user(CLINICIAN, username="carla", first_name="Carla", last_name="Clinician")
    patient = make_patient(code="GI-0444", sex="M", standard_weight_kg=Decimal("70"))
    start = timezone.localdate() - timedelta(days=10)
    therapy_actions.therapy_start(actor=carla, patient=patient, start_date=start, dose_mg=Decimal("25"),
                                  consent_signed_date=start)
    visit_record(actor=carla, patient=patient, date=start, neuropathy_grade=0, weight_kg=Decimal("70"))
    context, page, problems = _context(browser, live_server, carla, width)
    log_in(page, "carla")
    page.goto("/patients/GI-0444/")
    assert page.locator("html").get_attribute("lang") == ZH
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / f"zh_patient_{width}.png"), full_page=True)
    assert axe.serious_violations(page) == []

    # A visit: neuropathy graded, saved, the confirmation in Chinese with the day in Chinese.
    today = timezone.localdate()
    page.goto("/patients/GI-0444/visits/new/")
    page.get_by_label(zh("Weight (kg)")).fill("70")
    page.get_by_label(zh("Peripheral neuropathy grade (CTCAE 0–4)")).select_option("0")
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / f"zh_visit_form_{width}.png"), full_page=True)
    page.get_by_role("button", name=zh("Save visit"), exact=True).click()
    page.get_by_text(zh("Visit of %(date)s saved.") % {"date": chinese_day(today)}).first.wait_for()

    # A step too soon: refused with the rule's reason in Chinese, then overridden with a reason.
    page.goto("/patients/GI-0444/dose/")
    page.get_by_label(zh("New dose (mg/day)")).fill("50")
    check = page.locator("#dose-check [data-dose-check='deviations']")
    check.wait_for()
    reason = check.locator("li[data-code='step_too_soon']").inner_text()
    assert zh("Step too soon") in reason and chinese_day(start) in reason, reason
    assert english_sentences(f"<p>{reason}</p>") == [], reason
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / f"zh_dose_refused_{width}.png"), full_page=True)
    page.get_by_label(zh("Override the dosing rules")).check()
    page.get_by_label(zh("Override reason")).fill("病情急性加重，科室主任同意")
    page.get_by_role("button", name=zh("Record dose change")).click()
    page.wait_for_url("**/patients/GI-0444/**")
    assert DoseChange.objects.get(patient=patient, date=today).override_reason == "病情急性加重，科室主任同意"
    # Stored as it is in English: the codes, not the words.
    assert DoseChange.objects.get(patient=patient, date=today).deviations == ["step_too_soon"]
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / f"zh_patient_after_dose_{width}.png"), full_page=True)
    context.close()
    assert problems == [], problems


def test_nurse_in_chinese_works_a_pregnancy_test_reminder(browser, live_server, on_thalidomide, nurse, screenshot_dir):
    from safety.models import Reminder
    from safety.scan import scan_reminders
    from tests.safety.conftest import TODAY

    nurse.username = "noor"
    nurse.save()
    scan_reminders(as_of=TODAY)
    context, page, problems = _context(browser, live_server, nurse, 768)
    log_in(page, "noor")
    page.goto("/inbox/")
    row = page.locator("[data-section='overdue'] .reminder-row[data-kind='pregnancy_test_due']")
    row.wait_for()
    reason = row.locator("[data-reason]").inner_text()
    assert "妊娠试验" in reason and english_sentences(f"<p>{reason}</p>") == [], reason
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / "zh_nurse_inbox_768.png"), full_page=True)
    assert axe.serious_violations(page) == []

    row.get_by_role("link", name=zh("Record the test")).click()
    page.get_by_label(zh("Test date")).fill(TODAY.isoformat())
    page.get_by_label(zh("Negative")).check()
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / "zh_nurse_pregnancy_test_768.png"), full_page=True)
    page.get_by_role("button", name=zh("Record pregnancy test")).click()
    page.locator(".alert-success").first.wait_for()
    page.goto("/inbox/")
    assert page.locator(".reminder-row[data-kind='pregnancy_test_due'][data-patient='GI-1000']").count() == 0
    assert Reminder.objects.filter(kind="pregnancy_test_due", state="auto_resolved").exists()
    context.close()
    assert problems == [], problems


@pytest.mark.skipif(not shutil.which("pdffonts"), reason="poppler-utils (pdffonts) is installed by .ci/run")
def test_clinic_lead_in_chinese_imports_and_downloads_the_report(
        browser, live_server, make_user, tmp_path, settings, screenshot_dir):
    from thalimon.roles import CLINIC_LEAD

    settings.MEDIA_ROOT = tmp_path
    leo = make_user(CLINIC_LEAD, username="leo", first_name="Leo", last_name="Lead")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for path in sorted(EXAMPLE.glob("*.csv")):
            zipped.write(path, f"datasheet/{path.name}")
    archive = tmp_path / "cohort.zip"
    archive.write_bytes(buffer.getvalue())

    context, page, problems = _context(browser, live_server, leo, 1366)
    log_in(page, "leo")
    page.get_by_role("navigation", name=zh("Main")).get_by_role("link", name=zh("Import")).click()
    page.get_by_label(zh("Datasheet (.zip of the CSV files)")).set_input_files(str(archive))
    page.get_by_role("button", name=zh("Upload and import")).click()
    page.locator("[data-job-state='done']").wait_for(timeout=30_000)
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / "zh_lead_import_done.png"), full_page=True)

    page.get_by_role("link", name=zh("Open the cohort report")).click()
    page.locator("[data-table='induction']").wait_for()
    page.locator("#chart-induction[data-rendered='true']").wait_for()
    assert not (left := no_english(page)), left
    page.screenshot(path=str(screenshot_dir / "zh_lead_report.png"), full_page=True)
    assert axe.serious_violations(page) == []

    with page.expect_download() as download_info:
        page.get_by_role("link", name=zh("Download PDF")).click()
    target = tmp_path / "cohort.pdf"
    download_info.value.save_as(target)
    fonts = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-CJK-SC" in fonts, fonts
    text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
    assert "队列" in text or "患者" in text, text[:500]
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(target),
                    str(screenshot_dir / "zh_cohort_pdf")], check=True)
    context.close()
    assert problems == [], problems
