from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from thalimon import twofactor, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.ThaliMonLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        views.ThaliMonPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/2fa/setup/", twofactor.setup, name="twofactor_setup"),
    path("accounts/2fa/verify/", twofactor.verify, name="twofactor_verify"),
    path("patients/", include("patients.urls")),
    path("", include("visits.urls")),
    path("", include("therapy.urls")),
    path("", include("safety.urls")),
    path("", include("reports.urls")),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "ThaliMon administration"
admin.site.site_title = "ThaliMon admin"
