"""The Admin role manages accounts without escalation (issue 13, item 2): each finding of the
penetration test reproduced through the real admin pages."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from thalimon.roles import ADMIN, CLINICIAN, NETWORK_LEAD, NURSE

pytestmark = pytest.mark.django_db
User = get_user_model()


def _change_form_data(user, **changes):
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "is_active": "on", "last_login_0": "", "last_login_1": "",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
        # The user's site memberships (issue 18): an inline on the same page, left as it is.
        "site_memberships-TOTAL_FORMS": "0", "site_memberships-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_an_admin_cannot_make_itself_superuser_or_clinician(client, admin_role_user):
    client.force_login(admin_role_user)
    url = f"/admin/auth/user/{admin_role_user.pk}/change/"
    form = client.get(url).content.decode()
    assert 'name="user_permissions"' not in form and 'name="is_superuser"' not in form
    assert 'name="groups"' not in form  # its own roles are read-only
    clinician = Group.objects.get(name=CLINICIAN)
    client.post(url, _change_form_data(
        admin_role_user, is_superuser="on", is_staff="on", groups=[Group.objects.get(name=ADMIN).pk, clinician.pk],
    ))
    admin_role_user.refresh_from_db()
    assert not admin_role_user.is_superuser
    assert set(admin_role_user.groups.values_list("name", flat=True)) == {ADMIN}
    assert not admin_role_user.has_perm("patients.view_patient_identity")


def test_an_admin_grants_roles_to_others_but_never_superuser_or_permissions(client, admin_role_user, make_user):
    from django.contrib.auth.models import Permission

    nurse = make_user(NURSE, username="newnurse")
    client.force_login(admin_role_user)
    perm = Permission.objects.get(codename="view_patient_identity")
    client.post(f"/admin/auth/user/{nurse.pk}/change/", _change_form_data(
        nurse, groups=[Group.objects.get(name=CLINICIAN).pk], is_superuser="on", user_permissions=[perm.pk],
    ))
    nurse.refresh_from_db()
    assert list(nurse.groups.values_list("name", flat=True)) == [CLINICIAN]  # managing roles is its job
    assert not nurse.is_superuser and not nurse.user_permissions.exists()


def test_the_network_lead_role_is_a_superusers_to_grant(client, admin_role_user, make_user):
    """It shows every site's figures side by side: a decision for the network, not a site's admin."""
    nurse = make_user(NURSE, username="anothernurse")
    client.force_login(admin_role_user)
    form = client.get(f"/admin/auth/user/{nurse.pk}/change/").content.decode()
    network = Group.objects.get(name=NETWORK_LEAD)
    assert f'value="{network.pk}"' not in form
    client.post(f"/admin/auth/user/{nurse.pk}/change/", _change_form_data(nurse, groups=[network.pk]))
    assert list(nurse.groups.values_list("name", flat=True)) == [NURSE]
    root = User.objects.create_superuser("root3", "root3@x.test", "a-long-root-password-123")
    client.force_login(root)
    client.post(f"/admin/auth/user/{nurse.pk}/change/", _change_form_data(nurse, groups=[network.pk]))
    assert list(nurse.groups.values_list("name", flat=True)) == [NETWORK_LEAD]


def test_an_admin_cannot_touch_a_superuser_or_its_password(client, admin_role_user):
    root = User.objects.create_superuser("root", "root@x.test", "a-long-root-password-123")
    client.force_login(admin_role_user)
    assert client.get(f"/admin/auth/user/{root.pk}/password/").status_code == 403
    response = client.post(f"/admin/auth/user/{root.pk}/password/",
                           {"password1": "Hijacked-password-99", "password2": "Hijacked-password-99"})
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.check_password("a-long-root-password-123")
    assert client.post(f"/admin/auth/user/{root.pk}/change/", _change_form_data(root, is_active="")).status_code == 403
    root.refresh_from_db()
    assert root.is_active
    assert client.post(f"/admin/auth/user/{root.pk}/delete/", {"post": "yes"}).status_code == 403


def test_a_superuser_keeps_every_field(client):
    root = User.objects.create_superuser("root2", "root2@x.test", "a-long-root-password-123")
    client.force_login(root)
    form = client.get(f"/admin/auth/user/{root.pk}/change/").content.decode()
    assert 'name="user_permissions"' in form and 'name="is_superuser"' in form
