"""Two-factor sign-in in a browser (issue 13): a nurse enrols (QR code, first code, recovery
codes), signs in again with a code, then with a recovery code; an admin resets her second
factor and she enrols anew. Screenshots in tests/e2e/screenshots/twofactor_*.png."""

import re

import pytest

from tests.e2e.conftest import log_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(user, drift=0):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def _log_out(page):
    """At 768 px the main menu sits behind its Menu button."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.get_by_role("button", name="Log out").click()


def test_enrol_sign_in_recovery_code_and_reset(browser, live_server, settings, make_user, admin_role_user,
                                               screenshot_dir):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from thalimon.roles import NURSE

    settings.TWO_FACTOR_REQUIRED, settings.TWO_FACTOR_EXEMPT_ROLES = True, []
    nurse = make_user(NURSE, username="noor")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 768, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_console(page)

    log_in(page, "noor")
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    assert page.locator(".twofactor-qr svg").count() == 1
    page.screenshot(path=str(screenshot_dir / "twofactor_setup_768.png"), full_page=True)
    page.locator("#id_code").fill(_code(nurse))
    page.get_by_role("button", name="Confirm").click()
    codes = page.locator("[data-recovery-codes] li").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=str(screenshot_dir / "twofactor_codes_768.png"), full_page=True)
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("heading", name="Patients").wait_for()

    # Next sign-in: the code from the app.
    _log_out(page)
    log_in(page, "noor")
    page.get_by_role("heading", name="Two-factor sign-in").wait_for()
    page.screenshot(path=str(screenshot_dir / "twofactor_verify_768.png"), full_page=True)
    # The code of the enrolment cannot be used twice: the app's next code (within the drift
    # the server tolerates) signs her in.
    page.locator("#id_code").fill(_code(nurse, drift=1))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patients").wait_for()

    # Phone lost: a recovery code, once.
    _log_out(page)
    log_in(page, "noor")
    page.locator("#id_code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patients").wait_for()
    _log_out(page)

    # The admin resets her second factor (the admin itself signs in with its own).
    admin_role_user.username = "ada"
    admin_role_user.save()
    log_in(page, "ada")
    page.locator("#id_code").fill(_code(admin_role_user))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("link", name="Continue").click()
    page.goto("/admin/auth/user/")
    page.locator(f"input[name='_selected_action'][value='{nurse.pk}']").check()
    page.locator("select[name='action']").select_option("reset_second_factors")
    page.get_by_role("button", name=re.compile("Go|Run")).click()
    page.get_by_text("Second factor reset for 1 account.").wait_for()
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    page.get_by_role("button", name=re.compile("Log out")).first.click()
    log_in(page, "noor")
    page.get_by_role("heading", name="Set up two-factor sign-in").wait_for()
    context.close()
    assert problems == [], problems
