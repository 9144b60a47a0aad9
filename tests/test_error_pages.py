"""The friendly error pages with DEBUG on (the demo): thalimon/errors.py.

pytest-django runs the tests with DEBUG off; these turn it on, as the demo runs."""

import logging

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import include, path

SECRET_LOCAL = "DEMO-SECRET-LOCAL-VALUE"


def _boom(request):
    patient_name = SECRET_LOCAL  # noqa: F841  (a local a technical page would show)
    raise RuntimeError("the database went away")


def _suspicious(request):
    raise SuspiciousOperation("odd header")


def _forbidden(request):
    raise PermissionDenied("Only clinicians may record a visit.")


urlpatterns = [
    path("boom/", _boom),
    path("suspicious/", _suspicious),
    path("forbidden/", _forbidden),
    path("", include("thalimon.urls")),
]


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    return settings


def _technical(html):
    return any(mark in html for mark in ("Using the URLconf", "urlpatterns", "Traceback", "technical_500",
                                         "You're seeing this error because you have"))


@pytest.mark.parametrize("address", ["/patients/NO-SUCH-PATIENT/", "/no/such/page/"])
def test_unknown_patient_or_address_is_the_friendly_404(debug_on, client, clinician, address):
    """A view's Http404 (no such patient) and a path no URL pattern matches (Django's
    technical page would list every pattern)."""
    client.force_login(clinician)
    response = client.get(address)
    html = response.content.decode()
    assert response.status_code == 404
    assert "There is no such page or patient" in html and not _technical(html)
    # It went through the other middleware (django-csp leaves 404s alone with DEBUG on).
    assert response.headers["X-Frame-Options"] == "DENY" and "no-store" in response.headers["Cache-Control"]
    assert "Carla" in html  # the page's navigation, as for any page of the logged-in user


def test_a_missing_trailing_slash_still_redirects(debug_on, client, clinician):
    client.force_login(clinician)
    response = client.get("/patients")
    assert response.status_code == 301 and response.headers["Location"] == "/patients/"


def test_the_technical_pages_when_a_developer_asks(debug_on, client, clinician):
    debug_on.TECHNICAL_ERROR_PAGES = True
    client.force_login(clinician)
    html = client.get("/no/such/page/").content.decode()
    assert _technical(html)


@pytest.mark.urls("tests.test_error_pages")
def test_a_crash_is_the_friendly_500_and_is_still_logged(debug_on, client, clinician, caplog):
    client.raise_request_exception = False
    client.force_login(clinician)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in html and not _technical(html)
    assert SECRET_LOCAL not in html and "the database went away" not in html
    assert any(record.exc_info and "the database went away" in str(record.exc_info[1]) for record in caplog.records)


@pytest.mark.urls("tests.test_error_pages")
def test_a_crash_still_reaches_the_test_client(debug_on, client, clinician):
    client.force_login(clinician)
    with pytest.raises(RuntimeError):
        client.get("/boom/")


@pytest.mark.urls("tests.test_error_pages")
@pytest.mark.parametrize("address, status, shown, hidden", [
    # SuspiciousOperation: with DEBUG on, Django's technical page (traceback) with status 400.
    ("/suspicious/", 400, "Request not understood", "odd header"),
    # PermissionDenied: Django renders 403.html whatever DEBUG is, with the reason.
    ("/forbidden/", 403, "Only clinicians may record a visit.", "Traceback"),
])
def test_bad_request_and_permission_denied_are_friendly(debug_on, client, clinician, address, status, shown, hidden):
    client.force_login(clinician)
    response = client.get(address)
    html = response.content.decode()
    assert response.status_code == status
    assert shown in html and hidden not in html and not _technical(html)
    assert "Back to ThaliMon" in html


def test_without_debug_django_renders_the_same_templates(client, clinician):
    client.force_login(clinician)
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "There is no such page or patient" in response.content.decode()
