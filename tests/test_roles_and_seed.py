"""Role groups from the data migration, and the demo seed."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from patients.models import Patient
from thalimon.roles import ROLE_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_groups_have_exactly_their_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert granted == set(perms), role


def test_no_role_but_clinician_may_edit_patients():
    editors = [role for role, perms in ROLE_PERMISSIONS.items() if "patients.change_patient" in perms]
    assert editors == ["Clinician"]


def test_seed_demo_creates_one_account_per_role_and_30_patients(capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    out = capsys.readouterr().out
    assert "password:" in out
    users = get_user_model().objects.all()
    assert sorted(u.groups.get().name for u in users) == sorted(ROLE_PERMISSIONS)
    assert Patient.objects.count() == 30
    assert all(p.code.startswith("DEMO-") for p in Patient.objects.all())
    from django.test import Client

    client = Client()
    assert client.post("/accounts/login/", {"username": "clinician", "password": "demo-clinician-2026"}).status_code == 302
