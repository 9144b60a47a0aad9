"""The sign-in and password pages (the only views of the project package).

A lockout is per user name (five failures with one name lock that account, never the
computer: a colleague on the same clinic PC still signs in), and a wrong current
password on the password-change page counts as a failed sign-in of that account.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from thalimon.forms import LoginForm
from thalimon.roles import ROLE_LABELS

# Per address: after this many failed sign-ins within the window, sign-ins from that address
# wait THROTTLE_SECONDS after each failure (a delay, never a lock of anyone's account).
THROTTLE_AFTER = 20
THROTTLE_WINDOW_SECONDS = 15 * 60
THROTTLE_SECONDS = 60


def _address(request):
    return request.META.get("REMOTE_ADDR", "")


def _throttled(request):
    key = f"login-failures:{_address(request)}"
    try:
        failures, last = cache.get(key, (0, 0.0))
    except Exception:  # no cache: no throttle (the per-account lock still holds)
        return 0
    wait = THROTTLE_SECONDS - (time.time() - last)
    return int(wait) + 1 if failures >= THROTTLE_AFTER and wait > 0 else 0


def _count_failure(request):
    key = f"login-failures:{_address(request)}"
    try:
        failures, _ = cache.get(key, (0, 0.0))
        cache.set(key, (failures + 1, time.time()), timeout=THROTTLE_WINDOW_SECONDS)
    except Exception:
        pass


# Where a user lands (after sign-in, and ThaliMon's home page): the first of these pages the
# user's role may open. A role that reads no patient (the network lead) lands on a report,
# never on a "Not allowed" page.
LANDINGS = [
    ("patients.view_patient", "patients:list"),
    ("reports.view_network_report", "reports:network"),
    ("reports.view_cohort_report", "reports:cohort"),
]


def landing_url(user):
    return reverse(next((page for perm, page in LANDINGS if user.has_perm(perm)), settings.LOGIN_REDIRECT_URL))


def home(request):
    return redirect(landing_url(request.user))


class ThaliMonLoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return self.next_page or landing_url(self.request.user)

    def post(self, request, *args, **kwargs):
        wait = _throttled(request)
        if wait:
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed sign-ins from this computer: wait %(wait)s seconds, then "
                                   "try again. (No account is locked by this.)") % {"wait": wait})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        _count_failure(self.request)
        return super().form_invalid(form)

    def get_context_data(self, **kwargs):
        # Whether a second factor follows is said on the page (the demo keeps it off).
        return {**super().get_context_data(**kwargs), "two_factor_required": settings.TWO_FACTOR_REQUIRED,
                "two_factor_exempt": [ROLE_LABELS.get(role, role) for role in settings.TWO_FACTOR_EXEMPT_ROLES]}


class ThaliMonPasswordChangeView(auth_views.PasswordChangeView):
    def form_invalid(self, form):
        if form.has_error("old_password"):
            username = self.request.user.get_username()
            credentials = {"username": username}
            user_login_failed.send(sender=type(self), credentials=credentials, request=self.request)
            if AxesProxyHandler.is_locked(self.request, credentials):
                logout(self.request)
                return render(self.request, "registration/locked_out.html", {"username": username}, status=429)
        return super().form_invalid(form)
