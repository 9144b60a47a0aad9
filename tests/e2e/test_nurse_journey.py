"""A nurse opens the inbox, follows a pregnancy-test reminder, records a
negative test, and sees the reminder resolved (on a 768-px-wide screen)."""

import pytest

from tests.e2e.conftest import log_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_nurse_works_a_pregnancy_test_reminder(browser, live_server, on_thalidomide, nurse, screenshot_dir):
    from safety.models import Reminder
    from safety.scan import scan_reminders
    from tests.safety.conftest import START, TODAY

    nurse.username = "noor"
    nurse.save()
    scan_reminders(as_of=TODAY)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 768, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_console(page)
    log_in(page, "noor")
    page.goto("/inbox/")
    overdue = page.locator("[data-section='overdue']")
    row = overdue.locator(".reminder-row[data-kind='pregnancy_test_due']")
    row.wait_for()
    assert "GI-1000" in row.inner_text()
    page.screenshot(path=str(screenshot_dir / "nurse_inbox_768.png"), full_page=True)

    row.get_by_role("link", name="Record the test").click()
    page.get_by_label("Test date").fill(TODAY.isoformat())
    page.get_by_label("Negative").check()
    page.get_by_role("button", name="Record pregnancy test").click()
    page.get_by_text("Negative pregnancy test of").wait_for()

    page.goto("/inbox/")
    assert page.locator(".reminder-row[data-kind='pregnancy_test_due'][data-patient='GI-1000']").count() == 0
    page.screenshot(path=str(screenshot_dir / "nurse_inbox_after_768.png"), full_page=True)
    resolved = Reminder.objects.get(kind="pregnancy_test_due", due=START.__class__.fromordinal(START.toordinal() + 28))
    assert resolved.state == "auto_resolved"

    # Snooze the visit reminder (due today: an overdue one cannot wait any longer): its forms
    # load in place (htmx), the page stays the inbox.
    Reminder.objects.filter(kind="visit_due", patient__code="GI-1000").update(due=TODAY)
    page.goto("/inbox/")
    visit_row = page.locator(".reminder-row[data-kind='visit_due'][data-patient='GI-1000']")
    visit_row.get_by_role("link", name="Close or snooze…").click()
    visit_row.get_by_label("Snooze (at most 7 days), with the reason — it comes back if still due").fill("patient on holiday")
    page.screenshot(path=str(screenshot_dir / "nurse_inbox_snooze_768.png"), full_page=True)
    assert page.url.endswith("/inbox/")
    visit_row.get_by_role("button", name="Snooze").click()
    page.get_by_text("Reminder for GI-1000 snoozed.").wait_for()
    assert page.url.endswith("/inbox/#section-due")  # back in the inbox, at the section the row was in
    snoozed = Reminder.objects.get(kind="visit_due", patient__code="GI-1000", state="open")
    assert snoozed.snooze_reason == "patient on holiday" and snoozed.snoozed_until == TODAY.fromordinal(
        TODAY.toordinal() + 1)
    context.close()
    assert problems == [], problems
