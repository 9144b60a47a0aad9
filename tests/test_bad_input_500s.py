"""Issue 13, item 5: no input gives a server error. Each pentest finding reproduced: NUL
bytes and over-long text in free-text fields that no form guards, malformed path
parameters, an edit re-posted without its version, duplicate creates."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from safety.models import Alert, Reminder

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def signed_in(client, clinician):
    client.force_login(clinician)
    return client


@pytest.mark.parametrize("path", ["/patients/%00/", "/patients/a%00b/edit/", "/patients/" + "x" * 500 + "/",
                                  "/visits/99999999999999999999/", "/alerts/0/"])
def test_malformed_path_parameters_are_not_found(signed_in, path):
    assert signed_in.get(path).status_code == 404


def test_nul_bytes_and_overlong_text_in_reminder_and_alert_actions_are_refused_by_name(
    signed_in, clinician, make_patient
):
    patient = make_patient(code="NB-0001", responsible_clinician=clinician)
    reminder = Reminder.objects.create(patient=patient, kind="visit_due", due=TODAY, reason="r", action="visit")
    for reason in ("patient\x00abroad", "x" * 201):
        response = signed_in.post(reverse("safety:reminder_snooze", args=[reminder.pk]),
                                  {"days": "2", "reason": reason}, follow=True)
        assert response.status_code == 200 and "Reason:" in response.content.decode()
    response = signed_in.post(reverse("safety:reminder_dismiss", args=[reminder.pk]),
                              {"decision": "no further step\x00 stays at 50 mg"}, follow=True)
    assert response.status_code == 200 and "Decision:" in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.is_open and reminder.snoozed_until is None
    alert = Alert.objects.create(patient=patient, kind="positive_pregnancy_test", tier="urgent", source="t",
                                 date=TODAY, rule="R5.2", reason="r")
    response = signed_in.post(reverse("safety:alert_detail", args=[alert.pk]), {"decision": "stopped\x00 today, referred"})
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_an_edit_without_its_version_is_a_conflict_not_an_overwrite(signed_in, clinician, make_patient):
    from visits.actions import visit_record

    patient = make_patient(code="NB-0002")
    visit = visit_record(actor=clinician, patient=patient, date=TODAY - timedelta(days=3), weight_kg=Decimal("70"))
    response = signed_in.post(reverse("visits:edit", args=[visit.pk]),
                              {"date": visit.date.isoformat(), "contact": "clinic", "weight_kg": "80"})
    assert response.status_code == 200
    visit.refresh_from_db()
    assert visit.weight_kg == Decimal("70")


def test_a_duplicate_create_is_the_normal_refusal(signed_in, nurse, make_patient):
    from therapy import actions as therapy_actions

    patient = make_patient(code="NB-0003", sex="F")
    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="negative")
    response = signed_in.post(reverse("therapy:pregnancy_test_create", args=[patient.code]),
                              {"date": TODAY.isoformat(), "result": "positive"})
    assert response.status_code == 200 and "already recorded" in response.content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("create", ["pregnancy_test", "visit", "adverse_event"])
def test_two_simultaneous_creates_of_the_same_record_give_the_normal_refusal(make_patient, clinician, nurse, create):
    """One saved, the other refused as "already recorded" — never a server error, and for a
    pregnancy test never a positive result lost behind a negative one without a word."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection

    from safety.actions import adverse_event_record
    from therapy.actions import pregnancy_test_record
    from visits.actions import visit_record

    assert connection.vendor == "postgresql"
    patient = make_patient(code="NB-0100", sex="F")
    calls = {
        "pregnancy_test": [lambda: pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="negative"),
                           lambda: pregnancy_test_record(actor=nurse, patient=patient, date=TODAY, result="positive")],
        "visit": [lambda: visit_record(actor=clinician, patient=patient, date=TODAY, weight_kg=Decimal("70"))] * 2,
        "adverse_event": [lambda: adverse_event_record(actor=clinician, patient=patient, onset=TODAY, term="nausea",
                                                       grade=1, drug="thalidomide")] * 2,
    }[create]
    barrier, outcomes = threading.Barrier(2), []

    def run(call):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            call()
            outcomes.append("saved")
        except ValidationError as refused:
            outcomes.append(f"refused: {' '.join(refused.messages)}")
        except Exception as error:  # the defect: a server error
            outcomes.append(f"error: {type(error).__name__}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes) == ["refused", "saved"], outcomes
