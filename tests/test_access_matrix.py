"""Every URL of the app × anonymous and each role: login redirect, 403 or allowed.

The list of URLs comes from the URL configuration itself, so a new view cannot
be added without a decision here. The network lead (issue 18) reads aggregate reports
only: every patient URL refuses it.
"""


import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NETWORK_LEAD, NURSE

pytestmark = pytest.mark.django_db

OK, NO, LOGIN = "allowed", "forbidden", "login"
ROLES = [None, CLINICIAN, NURSE, CLINIC_LEAD, ADMIN, NETWORK_LEAD]
EVERYONE = [LOGIN, OK, OK, OK, OK, NO]  # every role that reads patients; never the network lead
CLINICIAN_ONLY = [LOGIN, OK, NO, NO, NO, NO]
CARE_TEAM = [LOGIN, OK, OK, NO, NO, NO]  # clinicians and nurses record tests and confirmations

MATRIX = {
    "patients:list": EVERYONE,
    "patients:create": CLINICIAN_ONLY,
    "patients:detail": EVERYONE,
    "patients:edit": CLINICIAN_ONLY,
    "patients:history": EVERYONE,
    "patients:course": CLINICIAN_ONLY,
    "patients:transfer": CLINICIAN_ONLY,  # a transfer to another site (issue 18): clinicians of the patient's site
    "patients:transfers": EVERYONE,  # the transfers of the user's sites, codes only
    "visits:create": CLINICIAN_ONLY,
    "visits:cdai_preview": CLINICIAN_ONLY,
    "visits:lab_create": CLINICIAN_ONLY,
    "visits:endoscopy_create": CLINICIAN_ONLY,
    "visits:detail": EVERYONE,
    "visits:edit": CLINICIAN_ONLY,
    "visits:history": EVERYONE,
    "visits:endoscopy_edit": CLINICIAN_ONLY,
    "therapy:dose_change": CLINICIAN_ONLY,  # a nurse cannot change a dose
    "therapy:dose_check": CLINICIAN_ONLY,
    "therapy:therapy_start": CLINICIAN_ONLY,
    "therapy:pregnancy_test_create": CARE_TEAM,
    "therapy:contraception_create": CARE_TEAM,
    "therapy:prescription_new": CLINICIAN_ONLY,  # a nurse does not prescribe
    "therapy:prescription_check": CLINICIAN_ONLY,
    "therapy:prescription_edit": CLINICIAN_ONLY,
    "therapy:prescription_dispense": EVERYONE,  # the prescription read by all; its dispensing form for care roles
    "therapy:prescription_pdf": EVERYONE,
    "safety:inbox": [LOGIN, OK, OK, OK, OK, NO],  # a clinic lead reads, but cannot act
    "safety:reminder_detail": EVERYONE,  # read like the inbox; only care roles get the forms
    "safety:reminder_acknowledge": CARE_TEAM,
    "safety:reminder_complete": CARE_TEAM,
    "safety:reminder_snooze": CARE_TEAM,
    "safety:reminder_dismiss": CLINICIAN_ONLY,  # a clinician's decision
    "safety:alert_acknowledge": CARE_TEAM,
    "safety:alert_detail": EVERYONE,  # read like the inbox; only a clinician gets the decision form
    "safety:ae_create": CARE_TEAM,
    "safety:ae_detail": EVERYONE,
    "safety:ae_edit": CARE_TEAM,
    "reports:cohort": [LOGIN, NO, NO, OK, NO, OK],
    "reports:download": [LOGIN, NO, NO, OK, NO, OK],
    "reports:figure_patients": [LOGIN, NO, NO, OK, NO, OK],  # the codes behind a figure (only of one's sites)
    "reports:upload": [LOGIN, NO, NO, OK, OK, NO],  # clinic leads and admins import
    "reports:job": [LOGIN, NO, NO, OK, OK, NO],
    "reports:history": [LOGIN, NO, NO, OK, OK, NO],  # who imported what, when, with which result
    "reports:template": [LOGIN, NO, NO, OK, OK, NO],
    "reports:network": [LOGIN, NO, NO, NO, NO, OK],  # every site's figures side by side (issue 18)
    "reports:network_download": [LOGIN, NO, NO, NO, NO, OK],
    "reports:visit_pdf": EVERYONE,
    "accounts:language": [LOGIN, OK, OK, OK, OK, OK],  # every role chooses its own language (issue 17)
}
POST_ONLY = {
    "safety:reminder_acknowledge", "safety:reminder_complete", "safety:reminder_snooze", "safety:reminder_dismiss",
    "safety:alert_acknowledge",
}
# Pages that are not the app's own (auth pages, the Django admin) are checked in test_auth.py.
NOT_APP = {"home", "login", "logout", "password_change", "password_change_done", "twofactor_setup", "twofactor_verify"}


def _app_url_names():
    names = set()

    def walk(patterns, namespace=None):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue
                walk(entry.url_patterns, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(f"{namespace}:{entry.name}" if namespace else entry.name)

    walk(get_resolver().url_patterns)
    return names - NOT_APP


def _url(name, records):
    pattern_args = {
        "visits:detail": [records["visit"]],
        "visits:edit": [records["visit"]],
        "visits:history": [records["visit"]],
        "visits:endoscopy_edit": [records["endoscopy"]],
        "safety:ae_detail": [records["ae"]],
        "safety:ae_edit": [records["ae"]],
        "safety:reminder_detail": [records["reminder"]],
        "safety:reminder_acknowledge": [records["reminder"]],
        "safety:reminder_complete": [records["reminder"]],
        "safety:reminder_snooze": [records["reminder"]],
        "safety:reminder_dismiss": [records["reminder"]],
        "safety:alert_acknowledge": [records["alert"]],
        "safety:alert_detail": [records["alert"]],
        "reports:download": ["json"],
        "reports:network_download": ["json"],
        "reports:figure_patients": ["adverse_events.patients"],
        "reports:job": [records["job"]],
        "reports:visit_pdf": [records["visit"]],
        "therapy:prescription_edit": [records["prescription"]],
        "therapy:prescription_dispense": [records["prescription"]],
        "therapy:prescription_pdf": [records["prescription"]],
    }
    if name in pattern_args:
        return reverse(name, args=pattern_args[name])
    try:
        return reverse(name)
    except Exception:
        return reverse(name, args=[records["code"]])


CASES = [(name, role, expected) for name, row in MATRIX.items() for role, expected in zip(ROLES, row, strict=True)]


@pytest.mark.parametrize("name, role, expected", CASES, ids=[f"{n}-{r or 'anonymous'}" for n, r, _ in CASES])
def test_get(client, records, user_for_role, name, role, expected):
    user = user_for_role(role)
    if user:
        client.force_login(user)
    url = _url(name, records)
    # Action endpoints answer POST only; what matters is who may call them.
    response = client.post(url, {"days": "1", "reason": "x", "decision": "a decision recorded"}) if name in POST_ONLY else client.get(url)
    if expected == LOGIN:
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    elif expected == NO:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302)
        if response.status_code == 302:
            assert not response.url.startswith(reverse("login"))


def test_every_app_url_has_a_decision_in_the_matrix():
    assert _app_url_names() == set(MATRIX)


def test_every_app_view_declares_its_permission():
    from django.urls import resolve

    for name in MATRIX:
        view = resolve(
            _url(name, {"code": "X", "visit": 1, "endoscopy": 1, "ae": 1, "reminder": 1, "alert": 1, "job": 1,
                        "prescription": 1})
        ).func
        assert getattr(view, "required_permissions", None), name


@pytest.mark.parametrize("role", [NURSE, CLINIC_LEAD, ADMIN])
def test_roles_that_do_not_edit_cannot_post_changes(client, records, user_for_role, role):
    from patients.models import Patient
    from therapy.models import DoseChange
    from visits.models import Visit

    client.force_login(user_for_role(role))
    posts = [
        client.post(reverse("patients:edit", args=["GI-0100"]), {"height_cm": 180}),
        client.post(reverse("patients:create"), {"code": "GI-0999"}),
        client.post(reverse("visits:create", args=["GI-0100"]), {"date": "2024-02-01", "contact": "clinic"}),
        client.post(reverse("visits:edit", args=[records["visit"]]), {"date": "2024-02-01"}),
        client.post(
            reverse("therapy:dose_change", args=["GI-0100"]),
            {"drug": "thalidomide", "date": "2024-02-01", "dose_mg": "50"},
        ),
    ]
    assert [p.status_code for p in posts] == [403] * len(posts)
    assert Patient.objects.get(code="GI-0100").height_cm == 172
    assert not Patient.objects.filter(code="GI-0999").exists()
    assert Visit.objects.count() == 1
    assert not DoseChange.objects.exists()


def test_csrf_is_enforced(make_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user(CLINICIAN))
    response = strict.post(reverse("patients:create"), {"code": "GI-0500"})
    assert response.status_code == 403


def test_one_query_permissions_equal_django_model_backend(make_user):
    """thalimon.auth_backends.RoleBackend gives every role exactly ModelBackend's set."""
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission

    from thalimon.auth_backends import RoleBackend

    for role in [CLINICIAN, NURSE, CLINIC_LEAD, ADMIN, NETWORK_LEAD]:
        user = make_user(role)
        user.user_permissions.add(Permission.objects.get(codename="view_importjob"))
        fresh = type(user).objects.get(pk=user.pk)
        expected = ModelBackend().get_all_permissions(type(user).objects.get(pk=user.pk))
        assert RoleBackend().get_all_permissions(fresh) == expected and expected
    inactive = make_user(CLINICIAN, is_active=False)
    assert RoleBackend().get_all_permissions(inactive) == set()


PATIENT_URLS = [name for name, row in MATRIX.items() if row[ROLES.index(CLINICIAN)] == OK
                and not name.startswith("reports:") and name != "accounts:language"] + ["reports:visit_pdf"]


@pytest.mark.parametrize("name", PATIENT_URLS)
def test_the_network_lead_of_no_site_is_refused_every_patient_url(client, records, make_user, name):
    """As the demo seeds it (a member of no site), and whatever the patient's site."""
    client.force_login(make_user(NETWORK_LEAD, sites=[]))
    url = _url(name, records)
    response = client.post(url, {"reason": "x"}) if name in POST_ONLY else client.get(url)
    assert response.status_code == 403


def test_the_network_lead_has_no_patient_permission():
    from thalimon.roles import ROLE_PERMISSIONS

    apps_of_patients = ("patients.", "visits.", "therapy.", "safety.")
    granted = ROLE_PERMISSIONS[NETWORK_LEAD]
    assert [perm for perm in granted if perm.startswith(apps_of_patients)] == []
    assert "reports.import_datasheet" not in granted and "reports.view_importjob" not in granted
    assert set(granted) == {"accounts.choose_language", "reports.view_cohort_report", "reports.view_network_report"}
