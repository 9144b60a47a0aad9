"""Login, lockout after 5 failures (django-axes), idle timeout, logout, password change."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from thalimon.roles import CLINICIAN, NURSE

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-123"


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_with_the_right_password(client, make_user):
    make_user(CLINICIAN, username="carla")
    response = _login(client, "carla", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("patients:list")


def test_wrong_password_says_so_and_warns_of_the_lockout(client, make_user):
    make_user(CLINICIAN, username="carla")
    page = _login(client, "carla", "wrong").content.decode()
    assert "Username or password is not correct" in page
    assert "5 failed attempts" in page


def test_locked_out_after_5_failures_even_with_the_right_password(client, make_user):
    make_user(CLINICIAN, username="carla")
    for _ in range(4):
        assert _login(client, "carla", "wrong").status_code == 200
    fifth = _login(client, "carla", "wrong")
    assert fifth.status_code == 429
    locked = _login(client, "carla", PASSWORD)
    assert locked.status_code == 429
    assert "Account locked" in locked.content.decode()
    assert SESSION_KEY not in client.session


def test_four_failures_do_not_lock(client, make_user):
    make_user(CLINICIAN, username="carla")
    for _ in range(4):
        _login(client, "carla", "wrong")
    assert _login(client, "carla", PASSWORD).status_code == 302


def test_idle_timeout_is_30_minutes_and_renewed_on_each_request():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_idle_session_ends_and_asks_for_login(client, make_user):
    client.force_login(make_user(CLINICIAN))
    assert client.get(reverse("patients:list")).status_code == 200
    session = client.session
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_logout_is_a_post_and_ends_the_session(client, make_user):
    client.force_login(make_user(CLINICIAN))
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("patients:list")).status_code == 302


def test_password_change_enforces_validators(client, make_user):
    user = make_user(CLINICIAN)
    client.force_login(user)
    assert client.get(reverse("password_change")).status_code == 200
    weak = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert "too short" in weak.content.decode()
    strong = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-passphrase-77",
            "new_password2": "a-much-better-passphrase-77",
        },
    )
    assert strong.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-much-better-passphrase-77")


def test_password_change_requires_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_admin_site_is_for_staff_only(client, make_user, admin_role_user):
    client.force_login(make_user(CLINICIAN))
    assert client.get("/admin/").status_code == 302  # to the admin login
    client.force_login(admin_role_user)
    page = client.get("/admin/auth/user/")
    assert page.status_code == 200


def test_content_security_policy_forbids_inline_scripts_and_other_hosts(client, make_user):
    client.force_login(make_user(CLINICIAN))
    policy = client.get(reverse("patients:list"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy  # no third-party host anywhere


def test_no_page_has_an_inline_script(client, make_user):
    import re

    client.force_login(make_user(CLINICIAN))
    page = client.get(reverse("patients:list")).content.decode()
    scripts = re.findall(r"<script(?P<attrs>[^>]*)>", page)
    assert scripts and all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)


def test_failures_with_a_made_up_name_never_lock_a_colleague_on_the_same_pc(client, make_user):
    """Issue 13: five failures with an invented user name locked the real nurse out of the
    shared clinic PC for an hour (lockout on address + browser)."""
    make_user(NURSE, username="noor")
    for _ in range(5):
        _login(client, "nobody-here", "wrong")
    assert _login(client, "noor", PASSWORD).status_code == 302


def test_the_documented_reset_lifts_a_lock(client, make_user):
    from django.core.management import call_command

    make_user(CLINICIAN, username="carla")
    for _ in range(5):
        _login(client, "carla", "wrong")
    locked = _login(client, "carla", PASSWORD)
    assert locked.status_code == 429 and "“carla” is locked" in locked.content.decode()
    call_command("axes_reset_username", "carla")
    assert _login(client, "carla", PASSWORD).status_code == 302


def test_wrong_current_passwords_count_as_failed_sign_ins(client, make_user):
    make_user(CLINICIAN, username="carla")
    _login(client, "carla", PASSWORD)
    data = {"old_password": "wrong", "new_password1": "A-new-long-password-1", "new_password2": "A-new-long-password-1"}
    for _ in range(4):
        assert client.post(reverse("password_change"), data).status_code == 200
    fifth = client.post(reverse("password_change"), data)
    assert fifth.status_code == 429 and SESSION_KEY not in client.session
    assert _login(client, "carla", PASSWORD).status_code == 429


def test_many_failures_from_one_address_are_slowed_down_without_locking_anyone(client, make_user, settings):
    """Issue 13: per address, a delay (throttle), never a lock of another account."""
    from django.core.cache import cache

    from thalimon.views import THROTTLE_AFTER

    cache.clear()
    make_user(NURSE, username="noor")
    for i in range(THROTTLE_AFTER):
        assert _login(client, f"made-up-{i}", "wrong").status_code == 200  # names never locked: all different
    slowed = _login(client, "noor", PASSWORD)
    assert slowed.status_code == 429 and "wait" in slowed.content.decode() and SESSION_KEY not in client.session
    other = client_class_for(client)
    assert _login(other, "noor", PASSWORD).status_code == 302  # another computer: not affected
    cache.clear()  # the delay passes
    assert _login(client, "noor", PASSWORD).status_code == 302


def client_class_for(client):
    from django.test import Client

    return Client(REMOTE_ADDR="10.0.0.99")
