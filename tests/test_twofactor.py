"""Two-factor sign-in (issue 13, item 1): enrolment with a QR code, recovery codes, codes
required before every page where the settings say so, wrong codes counted by the lockout,
an admin's reset recorded in the admin log."""

import re
import time

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from thalimon.roles import CLINIC_LEAD, NURSE

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-123"


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED = True
    settings.TWO_FACTOR_EXEMPT_ROLES = []
    return settings


def _sign_in(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def _current_code(user):
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _enrol(client, user):
    _sign_in(client, user.username)
    page = client.get(reverse("twofactor_setup")).content.decode()
    assert "<svg" in page and "data-totp-key" in page
    codes = client.post(reverse("twofactor_setup"), {"code": _current_code(user)})
    return re.findall(r"<li>(\w+)</li>", codes.content.decode())


def test_every_page_waits_for_the_second_factor_and_enrolment_gives_recovery_codes(client, required, make_user):
    nurse = make_user(NURSE, username="noor")
    _sign_in(client, "noor")
    response = client.get(reverse("patients:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("twofactor_setup"))
    assert client.get(reverse("safety:inbox")).status_code == 302
    codes = _enrol(client, nurse)
    assert len(codes) == 10 and TOTPDevice.objects.get(user=nurse).confirmed
    assert client.get(reverse("patients:list")).status_code == 200


def test_a_second_sign_in_asks_for_a_code_and_a_recovery_code_works_once(client, required, make_user):
    nurse = make_user(NURSE, username="noor")
    codes = _enrol(client, nurse)
    client.logout()
    _sign_in(client, "noor")
    response = client.get(reverse("patients:list"))
    assert response.url.startswith(reverse("twofactor_verify"))
    wrong = client.post(reverse("twofactor_verify"), {"code": "000000"})
    assert "This code is not correct" in wrong.content.decode()
    time.sleep(1.2)  # django-otp throttles each device for a second after a wrong code
    assert client.post(reverse("twofactor_verify"), {"code": codes[0], "next": "/inbox/"}).url == "/inbox/"
    assert not StaticToken.objects.filter(token=codes[0]).exists()  # used up
    client.logout()
    _sign_in(client, "noor")
    assert "This code is not correct" in client.post(reverse("twofactor_verify"), {"code": codes[0]}).content.decode()


def test_five_wrong_codes_lock_the_account(client, required, make_user):
    nurse = make_user(NURSE, username="noor")
    _enrol(client, nurse)
    client.logout()
    _sign_in(client, "noor")
    for _ in range(4):
        assert client.post(reverse("twofactor_verify"), {"code": "000000"}).status_code == 200
    assert client.post(reverse("twofactor_verify"), {"code": "000000"}).status_code == 429
    assert _sign_in(client, "noor").status_code == 429


def test_a_role_can_be_exempted_and_the_demo_keeps_it_off(client, settings, make_user):
    make_user(CLINIC_LEAD, username="leo")
    settings.TWO_FACTOR_REQUIRED, settings.TWO_FACTOR_EXEMPT_ROLES = True, [CLINIC_LEAD]
    _sign_in(client, "leo")
    assert client.get(reverse("patients:list")).status_code == 200
    settings.TWO_FACTOR_REQUIRED, settings.TWO_FACTOR_EXEMPT_ROLES = False, []
    make_user(NURSE, username="noor")
    client.logout()
    assert "data-two-factor-off" in client.get(reverse("login")).content.decode()  # the demo says so
    _sign_in(client, "noor")
    assert client.get(reverse("patients:list")).status_code == 200


def test_an_admin_resets_a_second_factor_and_it_is_recorded(client, required, make_user, admin_role_user):
    nurse = make_user(NURSE, username="noor")
    _enrol(client, nurse)
    client.logout()
    admin_role_user.username = "ada"
    admin_role_user.save()
    _enrol(client, admin_role_user)
    response = client.post("/admin/auth/user/", {"action": "reset_second_factors", "_selected_action": [nurse.pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    assert LogEntry.objects.filter(object_id=str(nurse.pk), change_message__contains="Second factor reset").exists()
    client.logout()
    _sign_in(client, "noor")
    assert client.get(reverse("patients:list")).url.startswith(reverse("twofactor_setup"))
