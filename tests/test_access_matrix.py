"""Every patients URL × anonymous and each role: login redirect, 403 or allowed."""

import pytest
from django.urls import reverse

from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NURSE

pytestmark = pytest.mark.django_db

ALLOWED, FORBIDDEN, LOGIN = 200, 403, "login"
ROLES = [None, CLINICIAN, NURSE, CLINIC_LEAD, ADMIN]

# url name -> expected outcome per role, in the order of ROLES
MATRIX = {
    "patients:list": [LOGIN, ALLOWED, ALLOWED, ALLOWED, ALLOWED],
    "patients:create": [LOGIN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "patients:detail": [LOGIN, ALLOWED, ALLOWED, ALLOWED, ALLOWED],
    "patients:edit": [LOGIN, ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    "patients:history": [LOGIN, ALLOWED, ALLOWED, ALLOWED, ALLOWED],
}
NEEDS_CODE = {"patients:detail", "patients:edit", "patients:history"}

CASES = [
    (name, role, expected)
    for name, outcomes in MATRIX.items()
    for role, expected in zip(ROLES, outcomes, strict=True)
]


@pytest.mark.parametrize(
    "name, role, expected", CASES, ids=[f"{n}-{r or 'anonymous'}" for n, r, _ in CASES]
)
def test_get(client, make_patient, user_for_role, name, role, expected):
    patient = make_patient(code="GI-0100")
    url = reverse(name, args=[patient.code] if name in NEEDS_CODE else [])
    user = user_for_role(role)
    if user:
        client.force_login(user)
    response = client.get(url)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("role", [NURSE, CLINIC_LEAD, ADMIN])
def test_roles_that_do_not_edit_cannot_post_changes(client, make_patient, user_for_role, role):
    patient = make_patient(code="GI-0100", height_cm=170)
    client.force_login(user_for_role(role))
    edit = client.post(reverse("patients:edit", args=[patient.code]), {"height_cm": 180})
    create = client.post(reverse("patients:create"), {"code": "GI-0999"})
    assert edit.status_code == 403 and create.status_code == 403
    patient.refresh_from_db()
    assert patient.height_cm == 170
    assert not patient.__class__.objects.filter(code="GI-0999").exists()


def test_every_patients_url_is_in_the_matrix():
    from patients.urls import urlpatterns

    assert {f"patients:{p.name}" for p in urlpatterns} == set(MATRIX)


def test_every_patients_view_declares_its_permission():
    from patients.urls import urlpatterns

    for pattern in urlpatterns:
        assert getattr(pattern.callback, "required_permissions", None), pattern.name


def test_csrf_is_enforced_on_patient_create(make_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user(CLINICIAN))
    response = strict.post(reverse("patients:create"), {"code": "GI-0500"})
    assert response.status_code == 403
