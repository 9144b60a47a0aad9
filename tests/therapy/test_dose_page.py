"""The dose page never contradicts itself (issue 15): no green verdict beside a field
error, no override offered where none is possible, each refusal reason said once, and
the rule codes in words."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from therapy import actions as therapy_actions
from therapy.models import DoseChange

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
START = TODAY - timedelta(days=60)


@pytest.fixture
def man(make_patient, clinician):
    patient = make_patient(code="GI-0710", sex="M", tpmt="normal", nudt15="normal")
    therapy_actions.therapy_start(
        actor=clinician, patient=patient, start_date=START, dose_mg=Decimal("25"),
        consent_signed_date=START - timedelta(days=1),
    )
    return patient


@pytest.fixture
def woman_after_positive_test(make_patient, clinician, nurse):
    woman = make_patient(code="GI-0810", sex="F", contraception_start=START - timedelta(days=40))
    for day in (-12, 0):
        therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=START + timedelta(days=day), result="negative")
    therapy_actions.therapy_start(
        actor=clinician, patient=woman, start_date=START, dose_mg=Decimal("25"),
        consent_signed_date=START, contraception_counselling_date=START,
    )
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=START + timedelta(days=7), result="positive")
    return woman


def _check(client, patient, **data):
    return client.post(reverse("therapy:dose_check", args=[patient.code]), {"drug": "thalidomide", **data}).content.decode()


def _override_state(html):
    """The override fieldset's state, or None when the fragment leaves it as it is."""
    found = re.search(r'id="override-fields"[^>]*data-override="(\w+)"', html)
    return found.group(1) if found else None


def test_a_future_date_gives_no_verdict_but_the_field_error(client, man, clinician):
    client.force_login(clinician)
    future = (TODAY + timedelta(days=3)).isoformat()
    fragment = _check(client, man, date=future, dose_mg="50")
    assert 'data-dose-check="ok"' not in fragment and "Within the rules" not in fragment
    assert 'data-dose-check="fields-invalid"' in fragment and "cannot be in the future" in fragment
    assert _override_state(fragment) is None  # closed, and stays closed
    # Shown before (the reason was being typed): the date error closes it.
    assert _override_state(_check(client, man, date=future, dose_mg="50", override_shown="open")) == "closed"
    # The same change dated today is judged (the check itself works).
    assert 'data-dose-check="ok"' in _check(client, man, date=TODAY.isoformat(), dose_mg="50")


def test_a_future_date_posted_shows_its_error_once_and_no_green(client, man, clinician):
    client.force_login(clinician)
    page = client.post(
        reverse("therapy:dose_change", args=[man.code]),
        {"drug": "thalidomide", "date": (TODAY + timedelta(days=3)).isoformat(), "dose_mg": "50"},
    ).content.decode()
    assert page.count("cannot be in the future") == 1
    assert 'data-dose-check="ok"' not in page
    assert DoseChange.objects.filter(patient=man).count() == 1


def test_no_override_is_offered_where_none_is_possible(client, woman_after_positive_test, clinician):
    client.force_login(clinician)
    fragment = _check(client, woman_after_positive_test, date=(START + timedelta(days=14)).isoformat(), dose_mg="25")
    assert 'data-dose-check="hard-block"' in fragment and "no override possible" in fragment
    assert _override_state(fragment) is None  # stays closed
    fragment = _check(client, woman_after_positive_test, date=(START + timedelta(days=14)).isoformat(), dose_mg="25",
                      override_shown="open")
    assert _override_state(fragment) == "closed"
    assert re.search(r'id="override-fields"[^>]*\bhidden\b[^>]*\bdisabled\b', fragment)
    assert "Dosed after a positive pregnancy test" in fragment  # the code in words


def test_a_rule_an_override_may_pass_opens_the_override(client, man, clinician):
    client.force_login(clinician)
    fragment = _check(client, man, date=(START + timedelta(days=13)).isoformat(), dose_mg="50")
    assert 'data-dose-check="deviations"' in fragment and _override_state(fragment) == "open"
    assert "<strong>Step too soon</strong>" in fragment and "<code>" not in fragment
    assert 'hx-swap-oob="true"' in fragment  # swapped beside the check, outside the typed fields
    # Already open (a reason being typed): left as it is, not re-rendered under the typing.
    same = _check(client, man, date=(START + timedelta(days=13)).isoformat(), dose_mg="50", override_shown="open")
    assert 'data-dose-check="deviations"' in same and _override_state(same) is None
    # Within the rules: the override closes.
    within = _check(client, man, date=(START + timedelta(days=20)).isoformat(), dose_mg="50", override_shown="open")
    assert _override_state(within) == "closed"


def test_each_refusal_reason_is_said_once(client, man, clinician):
    client.force_login(clinician)
    page = client.post(
        reverse("therapy:dose_change", args=[man.code]),
        {"drug": "thalidomide", "date": (START + timedelta(days=13)).isoformat(), "dose_mg": "50"},
    ).content.decode()
    assert page.count("steps need at least 14 days") == 1
    assert "Refused: the rule check below says why." in page
    assert _override_state(page) == "open"
    assert DoseChange.objects.filter(patient=man).count() == 1


def test_the_start_page_names_its_override_field_where_it_is(client, make_patient, clinician):
    patient = make_patient(code="GI-0720", sex="M", tpmt="normal", nudt15="normal")
    client.force_login(clinician)
    page = client.post(
        reverse("therapy:therapy_start", args=[patient.code]),
        {"start_date": TODAY.isoformat(), "dose_mg": "50", "consent_signed_date": TODAY.isoformat()},
    ).content.decode()
    assert "Start dose not 25 mg" in page
    assert "tick <em>Override" not in page
    assert "first-dose override reason</em> below" in page
    assert "dose check above shows deviations" in page
