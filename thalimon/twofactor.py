"""Two-factor sign-in (OWASP ASVS level 2): TOTP with django-otp, recovery codes, enforced
before every page for the roles the settings name.

* enrolment (``setup``): a new authenticator key shown as a QR code (drawn as inline SVG,
  no external service), confirmed by its first code; then ten one-use recovery codes,
  shown once;
* sign-in (``verify``): after the password, a code from the app or a recovery code;
* a wrong code counts as a failed sign-in of that account (django-axes): five lock it;
* an admin resets a user's second factor from the user admin (recorded in the admin log
  and in the account's history of changes).
"""

from base64 import b32encode
from io import BytesIO

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10
# Pages a signed-in user may open before the second factor.
OPEN_PATHS = ("/accounts/2fa/", "/accounts/logout/", "/static/")


def required_for(user):
    """Whether ``user`` must pass a second factor (settings: required, roles exempted)."""
    if not settings.TWO_FACTOR_REQUIRED or not user.is_authenticated:
        return False
    exempt = set(settings.TWO_FACTOR_EXEMPT_ROLES)
    roles = {group.name for group in user.groups.all()}
    if user.is_superuser:
        return True
    return not roles or not roles <= exempt


class RequireSecondFactorMiddleware:
    """Every page asks for the second factor first, where the settings require it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and not user.is_verified()
                and not request.path.startswith(OPEN_PATHS) and required_for(user)):
            target = "twofactor_verify" if user_has_device(user) else "twofactor_setup"
            return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=_("The 6 digits your authenticator app shows now, or one of your recovery codes."),
    )


def _qr_svg(url):
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return mark_safe(svg[svg.index("<svg"):])  # our own SVG markup, drawn from the key URL


def _failed(request, form):
    """A wrong code: one failed sign-in of the account; locked after five (axes)."""
    username = request.user.get_username()
    credentials = {"username": username}
    user_login_failed.send(sender=RequireSecondFactorMiddleware, credentials=credentials, request=request)
    if AxesProxyHandler.is_locked(request, credentials):
        logout(request)
        return render(request, "registration/locked_out.html", {"username": username}, status=429)
    form.add_error("code", gettext("This code is not correct (or was used already). After a wrong code, wait a "
                                   "few seconds, then type the current code."))
    return None


def _next(request):
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else reverse("home")


def setup(request):
    """Enrol: scan the QR code, confirm with the first code, keep the recovery codes."""
    if not request.user.is_authenticated:
        return redirect("login")
    if user_has_device(request.user):
        return redirect(f"{reverse('twofactor_verify')}?next={_next(request)}")
    device, _ = TOTPDevice.objects.get_or_create(user=request.user, name="authenticator", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            codes = _new_recovery_codes(request.user)
            return render(request, "registration/twofactor_codes.html", {"codes": codes, "next": _next(request)})
        locked = _failed(request, form)
        if locked:
            return locked
    return render(request, "registration/twofactor_setup.html", {
        "form": form, "qr": _qr_svg(device.config_url), "key": b32encode(device.bin_key).decode().rstrip("="),
        "next": _next(request),
    })


def _new_recovery_codes(user):
    static, _ = StaticDevice.objects.get_or_create(user=user, name="recovery codes")
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


def verify(request):
    """Sign-in, second step: a code from the authenticator app or a recovery code."""
    if not request.user.is_authenticated:
        return redirect("login")
    if not user_has_device(request.user):
        return redirect(f"{reverse('twofactor_setup')}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"].replace(" ", "")
        for device in devices_for_user(request.user):
            if device.verify_token(code):
                otp_login(request, device)
                return redirect(_next(request))
        locked = _failed(request, form)
        if locked:
            return locked
    return render(request, "registration/twofactor_verify.html", {"form": form, "next": _next(request)})


def reset_second_factor(user):
    """Remove every second-factor device of ``user`` (an admin's reset): the next sign-in enrols anew."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        removed += model.objects.filter(user=user).delete()[0]
    return removed
