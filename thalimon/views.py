"""The sign-in and password pages (the only views of the project package).

A lockout is per user name (five failures with one name lock that account, never the
computer: a colleague on the same clinic PC still signs in), and a wrong current
password on the password-change page counts as a failed sign-in of that account.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render

from thalimon.forms import LoginForm


class ThaliMonLoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        # Whether a second factor follows is said on the page (the demo keeps it off).
        return {**super().get_context_data(**kwargs), "two_factor_required": settings.TWO_FACTOR_REQUIRED,
                "two_factor_exempt": settings.TWO_FACTOR_EXEMPT_ROLES}


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
