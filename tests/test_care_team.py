"""Object-level access: a record restricted to the care team opens only for its
responsible clinician and nurse — on every per-patient URL of the app (taken
from the access matrix, itself generated from the URL configuration), in the
patient list and search, the inbox, the navigation count and the digest email.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.test_access_matrix import MATRIX, NO, OK, POST_ONLY, ROLES, _url
from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NURSE

pytestmark = pytest.mark.django_db

# URLs about no single patient; every other URL of the matrix shows or changes one.
NOT_ONE_PATIENT = {
    "patients:list", "patients:create", "patients:transfers", "safety:inbox", "reports:cohort", "reports:download",
    "reports:upload", "reports:job", "reports:history", "reports:template",
    # A figure's codes: about a group of patients; restricted ones are counted, never listed
    # (tests/reports/test_drilldown.py).
    "reports:figure_patients",
    # The user's own language (issue 17).
    "accounts:language",
}
PER_PATIENT = sorted(set(MATRIX) - NOT_ONE_PATIENT)


def _expected(name, role):
    return MATRIX[name][ROLES.index(role)]


@pytest.fixture
def team(make_user):
    return {"clinician": make_user(CLINICIAN), "nurse": make_user(NURSE)}


@pytest.fixture
def restricted(records, team):
    from patients.models import Patient

    Patient.objects.filter(code=records["code"]).update(
        responsible_clinician=team["clinician"], responsible_nurse=team["nurse"], care_team_only=True
    )
    return records


def _call(client, name, records):
    url = _url(name, records)
    if name in POST_ONLY:
        return client.post(url, {"note": "x", "days": "1", "reason": "x"})
    return client.get(url)


@pytest.mark.parametrize("role", [CLINICIAN, NURSE, CLINIC_LEAD, ADMIN])
@pytest.mark.parametrize("name", PER_PATIENT)
def test_outside_the_care_team_every_patient_url_is_refused(client, restricted, user_for_role, name, role):
    client.force_login(user_for_role(role))
    response = _call(client, name, restricted)
    assert response.status_code == 403
    if _expected(name, role) == OK and name not in POST_ONLY:
        assert "restricted to the care team" in response.content.decode()


@pytest.mark.parametrize("member, role", [("clinician", CLINICIAN), ("nurse", NURSE)])
@pytest.mark.parametrize("name", PER_PATIENT)
def test_the_care_team_keeps_what_its_role_allows(client, restricted, team, name, member, role):
    client.force_login(team[member])
    response = _call(client, name, restricted)
    if _expected(name, role) == NO:
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302), response.status_code


def test_an_unrestricted_record_opens_for_every_clinician(client, records, team, make_user):
    """The restriction is per record: the same URLs open for an outsider once it is lifted."""
    client.force_login(make_user(CLINICIAN))
    assert client.get(reverse("patients:detail", args=[records["code"]])).status_code == 200


def test_list_and_search_hide_the_record_from_outsiders(client, restricted, team, make_user):
    code = restricted["code"]
    link = f'href="{reverse("patients:detail", args=[code])}"'
    client.force_login(make_user(CLINICIAN))
    assert link not in client.get(reverse("patients:list")).content.decode()
    page = client.get(reverse("patients:list"), {"q": code}).content.decode()
    assert link not in page and "0 patients match" in page
    client.force_login(team["clinician"])
    page = client.get(reverse("patients:list"), {"q": code}).content.decode()
    assert link in page and "care team only" in page


def test_inbox_alerts_and_badge_only_for_the_care_team(client, restricted, team, make_user):
    from safety.models import Alert, Reminder

    today = timezone.localdate()
    Reminder.objects.filter(pk=restricted["reminder"]).update(due=today)
    Alert.objects.filter(pk=restricted["alert"]).update(reason="restricted-alert-reason")
    outsider = make_user(NURSE)
    client.force_login(outsider)
    page = client.get(reverse("safety:inbox")).content.decode()
    assert restricted["code"] not in page and "restricted-alert-reason" not in page
    assert "data-due-count" not in page  # the record's due reminder is not counted for her
    client.force_login(team["nurse"])
    page = client.get(reverse("safety:inbox")).content.decode()
    assert restricted["code"] in page and "restricted-alert-reason" in page
    # The badge counts its due reminder and its alert to acknowledge (the outsider's counts nothing).
    assert re.search(r'data-due-count[^>]*>2<', page)


def test_digest_goes_to_the_care_team_only(restricted, team, make_user, settings):
    from patients.models import Patient
    from safety.digest import send_digests
    from safety.models import Reminder

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = timezone.localdate()
    Reminder.objects.filter(pk=restricted["reminder"]).update(due=today - timedelta(days=1))
    for user, address in ((team["nurse"], "team-nurse@x.test"), (team["clinician"], "team-doc@x.test")):
        user.email = address
        user.save()
    make_user(NURSE, email="other-nurse@x.test")
    send_digests(as_of=today)
    assert {m.to[0] for m in mail.outbox} == {"team-nurse@x.test"}
    # Without a nurse, nobody else may open the record: the clinician gets its reminders at once.
    Patient.objects.filter(code=restricted["code"]).update(responsible_nurse=None)
    mail.outbox.clear()
    send_digests(as_of=today)
    assert {m.to[0] for m in mail.outbox} == {"team-doc@x.test"}
    assert all(restricted["code"] in m.body for m in mail.outbox)


def test_restriction_needs_a_clinician_and_a_refusal_saves_nothing(client, make_patient, clinician):
    from patients.forms import PatientForm
    from patients.models import Patient

    patient = make_patient(code="GI-0200")
    client.force_login(clinician)
    data = {k: v for k, v in PatientForm(instance=patient).initial.items() if v is not None}
    data.update({"care_team_only": "on", "responsible_clinician": "", "expected_version": patient.version,
                 "birth_date": patient.birth_date.isoformat()})
    for name in ("reproductive_potential", "irregular_cycles"):
        data[name] = "unknown"
    response = client.post(reverse("patients:edit", args=["GI-0200"]), data)
    assert response.status_code == 200
    assert "Responsible clinician: required when the record is restricted" in response.content.decode()
    assert not Patient.objects.get(code="GI-0200").care_team_only
    # With the clinician chosen, it saves, and the change is in the patient's history.
    data["responsible_clinician"] = clinician.pk
    response = client.post(reverse("patients:edit", args=["GI-0200"]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Patient.objects.get(code="GI-0200")
    assert saved.care_team_only
    latest = saved.history.first()
    assert latest.care_team_only and latest.history_user == clinician


def test_database_refuses_a_restricted_record_without_a_clinician(make_patient):
    from django.db import IntegrityError, transaction

    from patients.models import Patient

    patient = make_patient(code="GI-0300")
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(care_team_only=True, responsible_clinician=None)
    assert not Patient.objects.get(pk=patient.pk).care_team_only


def test_the_django_admin_offers_no_patient_pages(client, restricted, make_user):
    """The admin shows every field to staff: patients stay in the app's own pages."""
    admin_user = make_user(ADMIN)
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/patients/patient/").status_code == 404
    assert "Zed Fictional" not in client.get("/admin/").content.decode()


def test_escalation_and_digest_follow_a_new_care_team(make_patient, clinician, make_user, settings):
    """Issue 13: once a record is restricted to a new care team, its overdue reminders go to the
    new responsible clinician, and the previous one no longer receives the record at all."""
    from decimal import Decimal

    from patients.actions import patient_update
    from safety.digest import send_digests
    from safety.models import Reminder
    from therapy.actions import dose_change_record

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = timezone.localdate()
    clinician.email = "previous@x.test"
    clinician.save()
    patient = make_patient(code="CT-0001", responsible_clinician=clinician)
    dose_change_record(actor=clinician, patient=patient, drug="thalidomide", date=today - timedelta(days=200),
                       dose_mg=Decimal("50"), historical=True)
    overdue = Reminder.objects.filter(patient=patient, due__lt=today - timedelta(days=7))
    assert overdue.exists() and set(overdue.values_list("escalated_to", flat=True)) == {clinician.pk}
    new = make_user(CLINICIAN, email="new@x.test")
    patient.refresh_from_db()
    patient_update(actor=clinician, patient=patient, expected_version=patient.version,
                   responsible_clinician=new, care_team_only=True)
    assert set(overdue.values_list("escalated_to", flat=True)) == {new.pk}
    mail.outbox = []
    send_digests(as_of=today)
    recipients = {m.to[0] for m in mail.outbox}
    assert "new@x.test" in recipients and "previous@x.test" not in recipients
