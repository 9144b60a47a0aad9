"""Transfers of a patient between the sites of a network (issue 18).

The action moves the patient and writes the transfer in one transaction, with history;
refusals name their field; afterwards the destination's users see and work the whole
record (reminders and alerts included) and the old site's users get 404, keeping the
transfer on the Transfers page by code only; the patient page states both sites' periods.
"""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import main_site, site
from tests.safety.conftest import woman_on_thalidomide  # noqa: F401  (a shared fixture)
from thalimon import saying
from thalimon.roles import CLINIC_LEAD, CLINICIAN, NURSE

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _transfer(actor, patient, to_site, day=TODAY, reason="Moved house", **extra):
    from patients.actions import patient_transfer

    return patient_transfer(actor=actor, patient=patient, to_site=to_site, date=day, reason=reason, **extra)


def _post(client, code, **data):
    values = {"to_site": site("EAST").pk, "date": TODAY.isoformat(), "reason": "Moved house", **data}
    return client.post(reverse("patients:transfer", args=[code]), {k: v for k, v in values.items() if v is not None})


def _text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


# --- the action -------------------------------------------------------------------------------


def test_a_transfer_moves_the_patient_and_writes_the_transfer_with_history(make_patient, clinician):
    from patients.models import Patient, Transfer

    east = site("EAST")
    patient = make_patient(code="TR-001")
    version = patient.version
    transfer = _transfer(clinician, patient, east, reason=" Referred for surgery ")
    stored = Patient.objects.get(pk=patient.pk)
    assert stored.site == east and stored.version == version + 1
    row = Transfer.objects.get()
    assert (row.pk, row.patient_id, row.from_site, row.to_site, row.date, row.reason, row.recorded_by) == (
        transfer.pk, patient.pk, main_site(), east, TODAY, "Referred for surgery", clinician)
    assert [(h.history_type, h.history_user) for h in row.history.all()] == [("+", clinician)]
    latest = stored.history.first()
    assert (latest.site_id, latest.history_user, latest.history_type) == (east.pk, clinician, "~")
    assert stored.history.filter(site_id=main_site().pk).exists()  # the old site stays in the history


def test_a_failure_after_the_writes_leaves_nothing_half_written(make_patient, clinician, monkeypatch):
    """The rescan is the last step of the action: it fails here, and the patient's move, the
    transfer and both history rows are rolled back together."""
    from patients import actions
    from patients.models import Patient, Transfer

    patient = make_patient(code="TR-002")
    history_before = Patient.history.filter(id=patient.pk).count()

    def broken(patient_id):
        raise RuntimeError("the rescan failed")

    monkeypatch.setattr(actions, "request_rescan", broken)
    with pytest.raises(RuntimeError):
        _transfer(clinician, patient, site("EAST"))
    assert Patient.objects.get(pk=patient.pk).site == main_site()
    assert not Transfer.objects.exists() and not Transfer.history.exists()
    assert Patient.history.filter(id=patient.pk).count() == history_before


def test_refusals_name_their_field_and_write_nothing(make_patient, clinician):
    from patients.models import Patient, Transfer
    from visits.actions import visit_record

    east, west = site("EAST"), site("WEST")
    patient = make_patient(code="TR-003")
    visit_record(actor=clinician, patient=patient, date=date(2024, 1, 5), cdai_entered=200)
    cases = [
        # (what is wrong, arguments, field, words the message must hold)
        ("same site", {"to_site": main_site()}, "to_site", "Destination site: the patient is already at this site"),
        ("no site", {"to_site": None}, "to_site", "Destination site: required"),
        ("future", {"day": TODAY + timedelta(days=1)}, "date", "Transfer date cannot be in the future"),
        ("before first care", {"day": date(2024, 1, 4)}, "date",
         f"Transfer date: before the patient's first recorded care ({saying.day(date(2024, 1, 5))})"),
        ("no reason", {"reason": "  "}, "reason", "Reason: required"),
    ]
    for what, arguments, field, words in cases:
        arguments = {"to_site": east, **arguments}
        with pytest.raises(ValidationError) as refused:
            _transfer(clinician, Patient.objects.get(pk=patient.pk), **arguments)
        messages = refused.value.message_dict
        assert field in messages and any(words in m for m in messages[field]), (what, messages)
    assert not Transfer.objects.exists() and Patient.objects.get(pk=patient.pk).site == main_site()
    # Before the previous transfer: EAST took the patient on 2025-03-02; back to MAIN earlier is refused.
    both = clinician
    from sites.models import Membership

    Membership.objects.create(user=both, site=east)
    both._patient_site_ids = None
    _transfer(both, Patient.objects.get(pk=patient.pk), east, day=date(2025, 3, 2))
    with pytest.raises(ValidationError) as refused:
        _transfer(both, Patient.objects.get(pk=patient.pk), west, day=date(2025, 3, 1))
    assert refused.value.message_dict["date"] == [
        f"Transfer date: before the patient's previous transfer (EAST, {saying.day(date(2025, 3, 2))}); "
        "a transfer is recorded on or after it."
    ]
    _transfer(both, Patient.objects.get(pk=patient.pk), west, day=date(2025, 3, 2))  # the same day is accepted
    assert Patient.objects.get(pk=patient.pk).site == west


def test_the_form_refuses_an_unknown_site_and_bad_dates_naming_the_field(client, make_patient, clinician):
    from patients.models import Transfer

    make_patient(code="TR-004")
    client.force_login(clinician)
    for data, words in [
        ({"to_site": "999999"}, "Destination site: unknown site"),
        ({"to_site": "EAST"}, "Destination site: unknown site"),
        ({"to_site": None}, "Destination site: required"),
        ({"date": "03/02/2025"}, "Transfer date: enter a date as YYYY-MM-DD"),
        ({"date": (TODAY + timedelta(days=3)).isoformat()}, "Transfer date cannot be in the future"),
        ({"reason": ""}, "Reason: required"),
        ({"reason": "x" * 501}, "Reason: at most 500 characters"),
    ]:
        response = _post(client, "TR-004", **data)
        assert response.status_code == 200, data
        assert words in _text(response), (data, words)
    assert not Transfer.objects.exists()


# --- the care team across a transfer ------------------------------------------------------------


def test_the_care_team_becomes_staff_of_the_destination(make_patient, clinician, nurse, make_user):
    from patients.models import Patient

    east = site("EAST")
    east_clinician = make_user(CLINICIAN, sites=["EAST"])
    both_nurse = make_user(NURSE, sites=["MAIN", "EAST"])
    patient = make_patient(code="TR-005", responsible_clinician=clinician, responsible_nurse=both_nurse)
    # A clinician chosen who is not of the destination is refused, naming the field.
    with pytest.raises(ValidationError) as refused:
        _transfer(clinician, patient, east, responsible_clinician=make_user(CLINICIAN, sites=["MAIN"]))
    assert "Responsible clinician:" in refused.value.message_dict["responsible_clinician"][0]
    with pytest.raises(ValidationError) as refused:
        _transfer(clinician, patient, east, responsible_nurse=east_clinician)  # not a nurse
    assert "Responsible nurse:" in refused.value.message_dict["responsible_nurse"][0]
    # Not chosen: the MAIN clinician (not of EAST) is cleared, the nurse of both sites kept.
    _transfer(clinician, Patient.objects.get(pk=patient.pk), east)
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.responsible_clinician_id, stored.responsible_nurse_id) == (None, both_nurse.pk)


def test_a_restricted_record_stays_restricted_and_needs_a_clinician_of_the_destination(
    client, make_patient, clinician, make_user
):
    from patients.models import Patient

    east = site("EAST")
    patient = make_patient(code="TR-006", care_team_only=True, responsible_clinician=clinician)
    with pytest.raises(ValidationError) as refused:
        _transfer(clinician, patient, east)  # its clinician is not of EAST: nobody there could open it
    assert "restricted to the care team" in refused.value.message_dict["responsible_clinician"][0]
    assert Patient.objects.get(pk=patient.pk).site == main_site()
    east_clinician, other_east = make_user(CLINICIAN, sites=["EAST"]), make_user(CLINICIAN, sites=["EAST"])
    _transfer(clinician, Patient.objects.get(pk=patient.pk), east, responsible_clinician=east_clinician)
    stored = Patient.objects.get(pk=patient.pk)
    assert stored.care_team_only and stored.responsible_clinician == east_clinician
    url = reverse("patients:detail", args=["TR-006"])
    for user, status in ((east_clinician, 200), (other_east, 403), (clinician, 404)):
        client.force_login(user)
        assert client.get(url).status_code == status, user


# --- who may transfer, and what each site sees afterwards -------------------------------------------


def test_who_may_transfer(client, make_patient, clinician, make_user):
    from patients.models import Patient, Transfer

    make_patient(code="TR-007")
    client.force_login(make_user(NURSE))
    assert client.get(reverse("patients:transfer", args=["TR-007"])).status_code == 403
    assert _post(client, "TR-007").status_code == 403
    client.force_login(make_user(CLINIC_LEAD))
    assert _post(client, "TR-007").status_code == 403
    client.force_login(make_user(CLINICIAN, sites=["EAST"]))  # a clinician of another site: no such patient
    assert _post(client, "TR-007").status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(clinician)
    assert strict.post(reverse("patients:transfer", args=["TR-007"]),
                       {"to_site": site("EAST").pk, "date": TODAY.isoformat(), "reason": "x"}).status_code == 403
    assert not Transfer.objects.exists() and Patient.objects.get(code="TR-007").site == main_site()


def test_after_a_transfer_the_new_site_opens_the_record_and_the_old_site_gets_404(client, records, clinician, make_user):
    east_user = make_user(CLINICIAN, sites=["EAST"])
    client.force_login(clinician)
    response = _post(client, records["code"], next=reverse("patients:detail", args=[records["code"]]))
    # The user may no longer open the patient: the Transfers page, with a message, not a 404.
    assert response.status_code == 302 and response.url == reverse("patients:transfers")
    page = client.get(response.url)
    assert f"Patient {records['code']} transferred from MAIN to EAST" in _text(page)
    urls = [reverse("patients:detail", args=[records["code"]]), reverse("patients:history", args=[records["code"]]),
            reverse("visits:detail", args=[records["visit"]]), reverse("safety:ae_detail", args=[records["ae"]])]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert records["code"] not in _text(client.get(reverse("patients:list")))
    client.force_login(east_user)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert records["code"] in _text(client.get(reverse("patients:list")))


def test_a_member_of_both_sites_returns_where_they_came_from(client, make_patient, make_user):
    make_patient(code="TR-008")
    client.force_login(make_user(CLINICIAN, sites=["MAIN", "EAST"]))
    back = reverse("patients:detail", args=["TR-008"]) + "?dates=all"
    assert client.get(reverse("patients:transfer", args=["TR-008"]) + f"?next={back}").status_code == 200
    response = _post(client, "TR-008", next=back)
    assert response.status_code == 302 and response.url == back
    response = _post(client, "TR-008", to_site=main_site().pk, next="https://elsewhere.example/")
    assert response.status_code == 302 and response.url == reverse("patients:detail", args=["TR-008"])


@pytest.mark.usefixtures("woman_on_thalidomide")
def test_reminders_and_alerts_come_along_and_stay_with_someone_who_can_act(clinician, nurse, make_user):
    """A woman on thalidomide with an overdue pregnancy test: its reminder is escalated to her
    MAIN clinician. After the transfer to EAST every open reminder and alert of hers is in the
    inbox of EAST's users (none in MAIN's), the escalation points at her EAST clinician, and
    EAST's nurse gets it in the digest (the MAIN nurse is no longer her nurse)."""
    from django.core import mail

    from patients.models import Patient
    from safety.digest import send_digests
    from safety.models import OPEN_STATES, URGENT_TIERS, Alert, Reminder
    from safety.scan import scan_reminders
    from safety.selectors import open_urgent, review_alerts, workable_reminders

    patient = Patient.objects.get(code="SL-0001")
    scan_reminders(as_of=TODAY)
    open_reminders = Reminder.objects.filter(patient=patient, state__in=OPEN_STATES)
    assert open_reminders.filter(escalated_to=clinician).exists()
    east_clinician = make_user(CLINICIAN, sites=["EAST"], email="east-c@clinic.test")
    east_nurse = make_user(NURSE, sites=["EAST"], email="east-n@clinic.test")
    _transfer(clinician, patient, site("EAST"), responsible_clinician=east_clinician)

    wanted = set(open_reminders.values_list("pk", flat=True))
    urgent = set(Alert.objects.filter(patient=patient, tier__in=URGENT_TIERS, resolved_at__isnull=True)
                 .values_list("pk", flat=True))
    assert wanted
    for user in (east_clinician, east_nurse):
        assert set(workable_reminders(user, TODAY).filter(patient=patient).values_list("pk", flat=True)) == wanted
        assert set(open_urgent(user).filter(patient=patient).values_list("pk", flat=True)) == urgent
    for user in (clinician, nurse):
        user._patient_site_ids = None
        assert not workable_reminders(user, TODAY).filter(patient=patient).exists()
        assert not open_urgent(user).filter(patient=patient).exists()
        assert not review_alerts(user).filter(patient=patient).exists()
    escalated = open_reminders.filter(escalated_at__isnull=False)
    assert escalated.exists() and set(escalated.values_list("escalated_to", flat=True)) == {east_clinician.pk}
    mail.outbox = []
    send_digests(as_of=TODAY)
    by_recipient = {message.to[0]: message.body for message in mail.outbox}
    assert "SL-0001" in by_recipient["east-n@clinic.test"] and "SL-0001" in by_recipient["east-c@clinic.test"]
    assert all("SL-0001" not in body for to, body in by_recipient.items() if to.endswith("@clinic.test")
               and not to.startswith("east-"))


@pytest.mark.usefixtures("woman_on_thalidomide")
def test_a_transfer_moves_every_reminder_and_alert_to_the_new_sites_inbox_and_badge(clinician, nurse, make_user):
    """Her reminders and alerts carry her site (safety.models.OfPatientSite), and a site user's
    inbox and badge read that site: after the transfer every one of them — open or closed — is
    at EAST, the MAIN nurse's inbox and badge no longer have them, the EAST nurse's do."""
    from types import SimpleNamespace

    from django.contrib.auth import get_user_model

    from patients.models import Patient
    from safety.models import Alert, Reminder
    from safety.selectors import safety_counts_for
    from visits.actions import visit_record

    patient = Patient.objects.get(code="SL-0001")
    visit_record(actor=clinician, patient=patient, date=TODAY, heart_rate=45, neuropathy_grade=0)  # a review alert
    Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY - timedelta(days=90), reason="r",
                            state="dismissed", closed_at=timezone.now())
    Alert.objects.create(patient=patient, kind="lab", tier="cleared", source="lab:old", date=TODAY, rule="R4.4",
                         reason="r", resolved_at=timezone.now())
    east_nurse = make_user(NURSE, sites=["EAST"])

    def badge(user):
        return safety_counts_for(SimpleNamespace(user=get_user_model().objects.get(pk=user.pk)))  # a new request

    def inbox(user):
        client = Client()
        client.force_login(user)
        return _text(client.get(reverse("safety:inbox")))

    at_main = badge(nurse)
    assert at_main["due"] >= 2 and badge(east_nurse) == {"urgent": 0, "due": 0}  # an overdue test, the review alert
    assert "SL-0001" in inbox(nurse) and "SL-0001" not in inbox(east_nurse)
    _transfer(clinician, patient, site("EAST"))
    for model in (Reminder, Alert):
        assert set(model.objects.filter(patient=patient).values_list("site__code", flat=True)) == {"EAST"}
    assert badge(nurse) == {"urgent": 0, "due": 0} and badge(east_nurse) == at_main
    assert "SL-0001" not in inbox(nurse) and "SL-0001" in inbox(east_nurse)


# --- the pages: periods on the patient page, the Transfers page -----------------------------------


def test_the_patient_page_states_both_sites_periods(client, make_patient, clinician, make_user):
    from visits.actions import visit_record

    patient = make_patient(code="TR-009")
    visit_record(actor=clinician, patient=patient, date=date(2024, 1, 5), cdai_entered=200)
    client.force_login(clinician)
    url = reverse("patients:detail", args=["TR-009"])
    since = saying.day(date(2024, 1, 5))
    assert f"Treated at MAIN since {since}." in _text(client.get(url))
    _transfer(clinician, patient, site("EAST"), day=date(2025, 3, 2))
    client.force_login(make_user(CLINICIAN, sites=["EAST"]))
    moved = saying.day(date(2025, 3, 2))
    assert f"Treated at MAIN from {since} to {moved}; at EAST since {moved}." in _text(client.get(url))


def test_the_transfers_page_lists_codes_only_for_both_sites(client, make_patient, clinician, make_user):
    from visits.actions import visit_record

    east_user, west_user = make_user(CLINICIAN, sites=["EAST"]), make_user(NURSE, sites=["WEST"])
    patient = make_patient(code="TR-010", full_name="Ada Secretname")
    visit_record(actor=clinician, patient=patient, date=date(2024, 1, 5), cdai_entered=200)
    restricted = make_patient(code="TR-011", care_team_only=True, responsible_clinician=clinician)
    _transfer(clinician, patient, site("EAST"), day=date(2025, 3, 2))
    _transfer(clinician, restricted, site("EAST"), responsible_clinician=east_user)
    page_url = reverse("patients:transfers")

    client.force_login(clinician)  # MAIN: where the patient went, not the record
    response = client.get(page_url)
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).split()
            for row in re.findall(r"<tr data-transfer>(.*?)</tr>", response.content.decode(), re.S)]
    assert ["TR-010", "MAIN", "EAST", *saying.day(date(2025, 3, 2)).split(), "Carla", "Clinician"] in rows
    assert "Secretname" not in response.content.decode()
    assert reverse("patients:detail", args=["TR-010"]) not in response.content.decode()
    # The restricted record: its clinician at MAIN was in its care team then, not now — counted, not listed.
    assert "TR-011" not in response.content.decode()
    assert "1 transfer of a record restricted to its care team is not listed" in _text(response)

    client.force_login(east_user)  # EAST: where the patient came from, linked to the record it now holds
    content = client.get(page_url).content.decode()
    assert reverse("patients:detail", args=["TR-010"]) in content and "TR-011" in content
    client.force_login(west_user)  # a site with no part in it sees nothing
    content = client.get(page_url).content.decode()
    assert "TR-010" not in content and "TR-011" not in content


# --- query counts -------------------------------------------------------------------------------


def _queries(call):
    from django.db import connection

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_the_transfers_page_costs_the_same_for_more_transfers_and_sites(
    client, make_patient, clinician, django_assert_max_num_queries
):
    from sites.models import Membership

    client.force_login(clinician)
    make_patient(code="QC-000")
    _transfer(clinician, make_patient(code="QC-001"), site("EAST"))
    one = _queries(lambda: client.get(reverse("patients:transfers")))
    for n in range(2, 12):
        other = site(f"S{n}")
        Membership.objects.create(user=clinician, site=other)
        _transfer(clinician, make_patient(code=f"QC-{n:03d}"), other)
    with django_assert_max_num_queries(one):
        response = client.get(reverse("patients:transfers"))
    assert response.content.decode().count("<tr data-transfer>") == 11
    assert one <= 12, one  # session, user, roles, sites, hidden, count, page …


def test_the_transfer_write_path_costs_a_fixed_number_of_queries(make_patient, clinician, make_user):
    from patients.models import Patient, site_ids_of
    from visits.actions import visit_record

    east = site("EAST")
    first = make_patient(code="QW-001")
    visit_record(actor=clinician, patient=first, date=date(2024, 1, 5), cdai_entered=200)
    few = _queries(lambda: _transfer(clinician, Patient.objects.get(pk=first.pk), east))
    # More sites, patients, visits and a previous transfer: the same cost.
    for n in range(10):
        site(f"X{n}")
    second = make_patient(code="QW-002")
    for day in range(5):
        visit_record(actor=clinician, patient=second, date=date(2024, 1, 5 + day * 3), cdai_entered=200)
    _transfer(clinician, Patient.objects.get(pk=second.pk), east, day=date(2025, 1, 1))
    both, back = make_user(CLINICIAN, sites=["MAIN", "EAST"]), main_site()
    site_ids_of(both)  # read once a request, as for the first user
    more = _queries(lambda: _transfer(both, Patient.objects.get(pk=second.pk), back))
    # The patient read, the lock, the checks, the writes (the patient, its reminders' and alerts'
    # site, the transfer), the rescan (with its lock of the patient's row and site).
    assert more == few and few <= 45, (few, more)


def test_the_transfer_page_costs_the_same_for_more_sites(client, make_patient, clinician, django_assert_max_num_queries):
    make_patient(code="QP-001")
    client.force_login(clinician)
    url = reverse("patients:transfer", args=["QP-001"])
    few = _queries(lambda: client.get(url))
    for n in range(20):
        site(f"P{n}")
    with django_assert_max_num_queries(few):
        assert client.get(url).status_code == 200


def test_a_second_transfer_of_a_patient_already_moved_is_refused_not_applied_twice(make_patient, clinician):
    """Two clinicians of MAIN transfer the same patient at once: the second reads the patient's
    row again under its lock, finds it at EAST (a site it is not a member of) and writes nothing."""
    from patients.models import Patient, Transfer

    patient = make_patient(code="TR-012")
    stale = Patient.objects.get(pk=patient.pk)  # the second clinician's page, read before the first save
    _transfer(clinician, patient, site("EAST"))
    with pytest.raises(ValidationError) as refused:
        _transfer(clinician, stale, site("WEST"))
    assert "no longer at one of your sites" in refused.value.messages[0]
    assert Transfer.objects.count() == 1 and Patient.objects.get(pk=patient.pk).site.code == "EAST"


def test_the_edit_form_shows_the_site_read_only_and_links_the_transfer(client, make_patient, clinician, nurse):
    make_patient(code="TR-013")
    client.force_login(clinician)
    edit = client.get(reverse("patients:edit", args=["TR-013"]))
    assert edit.context["form"].fields["site"].disabled
    detail = client.get(reverse("patients:detail", args=["TR-013"])).content.decode()
    assert reverse("patients:transfer", args=["TR-013"]) in detail
    client.force_login(nurse)  # no transfer button for a role that may not transfer
    assert reverse("patients:transfer", args=["TR-013"]) not in client.get(
        reverse("patients:detail", args=["TR-013"])).content.decode()


def test_the_transfer_form_names_the_staff_of_the_network_with_their_sites(client, make_patient, clinician, make_user):
    make_patient(code="TR-014")
    make_user(CLINICIAN, sites=["EAST", "WEST"], first_name="Erin", last_name="East")
    make_user(NURSE, sites=["EAST"], first_name="Nell", last_name="Nurse")
    client.force_login(clinician)
    text = _text(client.get(reverse("patients:transfer", args=["TR-014"])))
    assert "Erin East (EAST, WEST)" in text and "Nell Nurse (EAST)" in text
