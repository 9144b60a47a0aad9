"""The safety loop in a browser: a nurse records a positive pregnancy test → the urgent row
tops every staff inbox and the badge, the clinician's email arrives on a real SMTP server on
loopback, the dose page refuses every dose, nothing but data or a clinician's decision
closes it; a nurse cannot make an overdue test reminder disappear. Screenshots at 768 and
1366 px go to tests/e2e/screenshots/."""

import re
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.e2e.conftest import log_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TODAY = timezone.localdate()
START = TODAY - timedelta(days=40)


class _Inbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    handler = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    yield handler
    controller.stop()


@pytest.fixture
def patient(woman_on_thalidomide, clinician, nurse):
    clinician.username, nurse.username = "carla", "noor"
    clinician.save(), nurse.save()
    return woman_on_thalidomide


def _context(browser, live_server, width):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page, watch_console(page)


def test_a_positive_test_cannot_be_missed_or_silenced(browser, live_server, smtp, patient, screenshot_dir):
    from safety.models import Alert, Reminder
    from therapy.models import DoseChange

    nurse_ctx, nurse, nurse_problems = _context(browser, live_server, 768)
    log_in(nurse, "noor")
    # The overdue day-28 test: no button makes it disappear without a result.
    nurse.goto("/inbox/")
    row = nurse.locator(".reminder-row[data-kind='pregnancy_test_due'][data-patient='SL-0001']")
    row.get_by_role("link", name="Close or snooze…").click()
    forms = row.locator("[data-reminder-forms]")
    forms.wait_for()
    assert forms.locator("[data-action='snooze']").count() == 0 and forms.locator("[data-action='dismiss']").count() == 0
    forms.get_by_role("button", name="Check the record and close").click()
    nurse.get_by_text("Still due").wait_for()
    assert Reminder.objects.get(kind="pregnancy_test_due", patient=patient).is_open

    # The nurse records a positive test (yesterday).
    nurse.goto(f"/patients/{patient.code}/pregnancy-tests/new/")
    nurse.get_by_label("Test date").fill((TODAY - timedelta(days=1)).isoformat())
    nurse.get_by_label("Positive").check()
    nurse.get_by_role("button", name="Record pregnancy test").click()
    nurse.locator("[data-urgent-banner] [data-alert='positive_pregnancy_test']").wait_for()
    nurse.goto("/inbox/")
    urgent = nurse.locator("[data-section='urgent'] .urgent-row[data-alert='positive_pregnancy_test']")
    urgent.wait_for()
    html = nurse.content()
    assert html.index('data-section="urgent"') < html.index('data-section="overdue"')
    assert nurse.locator("[data-urgent-count]").inner_text() == "1 urgent"
    nurse.screenshot(path=str(screenshot_dir / "urgent_inbox_nurse_768.png"), full_page=True)
    urgent.get_by_role("button", name="Acknowledge").click()
    nurse.locator(".urgent-row [data-seen]").wait_for()  # still pinned, now says who saw it

    # The clinician's email came at once, with the code and a link only.
    event = Alert.objects.get(patient=patient, kind="positive_pregnancy_test")
    [(to, message)] = smtp.messages
    assert to == ["carla@clinic.test"] and "SL-0001" in message and "Zed Fictional" not in message
    link = re.search(r"http\S+/alerts/\d+/", message).group(0)
    assert link.endswith(f"/alerts/{event.pk}/")

    clin_ctx, clin, clin_problems = _context(browser, live_server, 1366)
    log_in(clin, "carla")
    clin.goto("/inbox/")
    clin.locator("[data-section='urgent'] .urgent-row[data-alert='positive_pregnancy_test']").wait_for()
    clin.screenshot(path=str(screenshot_dir / "urgent_inbox_clinician_1366.png"), full_page=True)
    # The dose page refuses every dose: a continuation, an increase, with an override.
    for dose, override in (("25", ""), ("50", ""), ("25", "clinician insists")):
        clin.goto(f"/patients/{patient.code}/dose/?drug=thalidomide")
        clin.get_by_label("Date of the change").fill(TODAY.isoformat())
        clin.get_by_label("New dose (mg/day)").fill(dose)
        if override and clin.get_by_label("Override the dosing rules").is_visible():
            clin.get_by_label("Override the dosing rules").check()
            clin.get_by_label("Override reason").fill(override)
        clin.get_by_role("button", name="Record dose change").click()
        clin.wait_for_load_state()
    assert not DoseChange.objects.filter(patient=patient, date=TODAY).exists()
    clin.screenshot(path=str(screenshot_dir / "urgent_dose_refused_1366.png"), full_page=True)

    # A later negative test (today) resolves it by data.
    nurse.goto(f"/patients/{patient.code}/pregnancy-tests/new/")
    nurse.get_by_label("Test date").fill(TODAY.isoformat())
    nurse.get_by_label("Negative").check()
    nurse.get_by_role("button", name="Record pregnancy test").click()
    nurse.get_by_text("Negative pregnancy test of").wait_for()
    event.refresh_from_db()
    assert event.resolved_at is not None and event.resolved_by is None

    # Contraception "no" by phone → urgent; a nurse cannot close it; the clinician's decision does.
    nurse.goto(f"/patients/{patient.code}/contraception/new/")
    nurse.get_by_label("No — not using it").check()
    nurse.get_by_role("button", name="Record confirmation").click()
    nurse.locator("[data-urgent-banner] [data-alert='contraception_not_confirmed']").wait_for()
    contraception = Alert.objects.get(patient=patient, kind="contraception_not_confirmed")
    nurse.goto(f"/alerts/{contraception.pk}/")
    assert nurse.get_by_role("button", name="Record the decision and close").count() == 0
    clin.goto(f"/alerts/{contraception.pk}/")
    clin.get_by_label("Clinical decision").fill("Thalidomide stopped today; patient counselled, referred to GP")
    clin.screenshot(path=str(screenshot_dir / "urgent_decision_1366.png"), full_page=True)
    clin.get_by_role("button", name="Record the decision and close").click()
    clin.get_by_text("Decision recorded").wait_for()
    contraception.refresh_from_db()
    assert contraception.resolution.startswith("Decision: Thalidomide stopped today")
    clin.goto("/inbox/")
    assert clin.locator(".urgent-row").count() == 0
    assert len(smtp.messages) == 2  # one email per urgent event, never twice
    nurse_ctx.close(), clin_ctx.close()
    assert nurse_problems == [] and clin_problems == []
