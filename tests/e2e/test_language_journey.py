"""A clinician switches the pages to Chinese from the navbar (back on the same page), the
language follows them to the next page and the next sign-in, and they go back to the
browser's language from the settings page (issue 17)."""

import pytest

from tests.e2e import axe
from tests.e2e.conftest import log_in, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_switches_to_chinese_and_back(browser, live_server, records, clinician, screenshot_dir):
    clinician.username = "carla"
    clinician.save()
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_console(page)
    log_in(page, "carla")
    page.goto(f"/patients/{records['code']}/")
    assert page.locator("html").get_attribute("lang") == "en-gb"

    page.locator("[data-language-switcher]").get_by_role("button", name="简体中文").click()
    page.wait_for_url(f"**/patients/{records['code']}/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    nav = page.locator("nav.navbar").inner_text()
    assert "患者" in nav and "English" in nav
    page.screenshot(path=str(screenshot_dir / "language_patient_zh.png"), full_page=True)
    assert axe.serious_violations(page) == []

    # The next sign-in keeps it.
    page.locator("nav.navbar form[action$='/logout/'] button").click()
    log_in(page, "carla")
    page.goto("/patients/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # The settings page: back to the browser's language (English here).
    page.locator("[data-language-settings]").click()
    page.screenshot(path=str(screenshot_dir / "language_settings_zh.png"), full_page=True)
    page.locator("input[name='language'][value='']").check()
    page.locator("[data-language-form] button[type='submit']").click()
    page.wait_for_url("**/patients/")
    assert page.locator("html").get_attribute("lang") == "en-gb"
    assert "Language saved." in page.locator("main").inner_text()
    context.close()
    assert problems == [], problems
