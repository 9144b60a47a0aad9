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


def test_only_the_network_lead_reads_every_sites_report():
    readers = [role for role, perms in ROLE_PERMISSIONS.items() if "reports.view_network_report" in perms]
    assert readers == ["Network lead"]


def test_no_role_but_clinician_may_edit_patients():
    editors = [role for role, perms in ROLE_PERMISSIONS.items() if "patients.change_patient" in perms]
    assert editors == ["Clinician"]


def test_seed_demo_creates_one_account_per_role_and_30_patients(capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    out = capsys.readouterr().out
    assert "password:" in out
    users = get_user_model().objects.exclude(username="clinician-east")
    assert sorted(u.groups.get().name for u in users) == sorted(ROLE_PERMISSIONS)
    network = users.get(username="network")
    users = users.exclude(username="network")
    # Two sites (issue 18): the demo accounts and the 30 DEMO- patients at MAIN; EAST has
    # its own clinician and three patients, which MAIN's accounts never see.
    assert Patient.objects.filter(site__code="MAIN").count() == 30
    assert all(p.code.startswith("DEMO-") for p in Patient.objects.filter(site__code="MAIN"))
    assert sorted(Patient.objects.filter(site__code="EAST").values_list("code", flat=True)) == [
        "EAST-001", "EAST-002", "EAST-003"]
    assert all(list(u.sites.values_list("code", flat=True)) == ["MAIN"] for u in users)
    east = get_user_model().objects.get(username="clinician-east")
    assert list(east.sites.values_list("code", flat=True)) == ["EAST"]
    assert Patient.objects.visible_to(east).count() == 3
    assert not Patient.objects.visible_to(users.get(username="nurse")).filter(site__code="EAST").exists()
    from django.test import Client

    client = Client()
    assert client.post("/accounts/login/", {"username": "clinician", "password": "demo-clinician-2026"}).status_code == 302
    _demo_network_lead(network, out)
    _demo_prescriptions_of_every_kind()


def _demo_network_lead(network, out):
    """The network lead: a member of no site (it sees no patient anywhere), every site's
    aggregate report, listed with its password."""
    from django.test import Client

    assert network.groups.get().name == "Network lead" and not network.sites.exists()
    assert not Patient.objects.visible_to(network).exists()
    assert network.has_perm("reports.view_network_report") and not network.has_perm("patients.view_patient")
    assert "username: network" in out and "demo-network-2026" in out
    client = Client()
    response = client.post("/accounts/login/", {"username": "network", "password": "demo-network-2026"})
    assert response.status_code == 302 and response.url == "/reports/network/"
    page = client.get("/reports/network/").content.decode()
    assert 'data-site="MAIN"' in page and 'data-site="EAST"' in page and "DEMO-0" not in page


def _demo_prescriptions_of_every_kind():
    """R9 in the demo (patients.demo.DEMO_PRESCRIPTIONS): in time, dispensed late, expired, an
    early repeat, and a running supply whose prescription_due reminder is due (R9.4); a
    woman's each with a negative test on its issue date; none twice after the second seed."""
    from django.utils import timezone

    from safety.models import Reminder
    from therapy.models import PregnancyTest, Prescription

    today = timezone.localdate()
    rows = list(Prescription.objects.select_related("patient"))
    assert len(rows) == 7
    in_time = [p for p in rows if p.dispensed_date and (p.dispense_by is None or p.dispensed_date <= p.dispense_by)]
    assert len(in_time) == 5 and any(p.dispense_by for p in in_time)  # a woman's, by her dispense-by date
    assert [p.deviations for p in rows if p.dispensed_date and p.dispense_by and p.dispensed_date > p.dispense_by] == [
        ["dispensed_too_late"]]
    expired = [p for p in rows if p.dispensed_date is None]
    assert len(expired) == 1 and expired[0].dispense_by < today
    repeat = [p for p in rows if "early_repeat" in p.deviations]
    assert len(repeat) == 1 and repeat[0].override_reason
    assert sum(bool(p.deviations) for p in rows) == 2  # every other one is clean
    for p in rows:
        if p.risk_category == "female_reproductive_potential":
            assert PregnancyTest.objects.get(patient=p.patient, date=p.issue_date).result == "negative"
    due = Reminder.objects.filter(kind="prescription_due", due__lte=today, state="open")
    assert due.exclude(patient__in=[p.patient for p in expired]).exists()  # a running supply runs out
