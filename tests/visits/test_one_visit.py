"""The one-visit workflow: a visit, its pregnancy test and its dose decision saved together
or not at all, each through its own action; dates default to the clinic's today; the
suggested step prefilled; links open the right part; the save returns where it came from."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from therapy import actions as therapy_actions
from therapy.models import DoseChange, PregnancyTest
from visits.actions import visit_record
from visits.models import Visit

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
START = TODAY - timedelta(days=14)  # the first step is allowed from today (R3.2: 14 days)


@pytest.fixture
def man(make_patient, clinician):
    patient = make_patient(code="GI-0900", sex="M")
    therapy_actions.therapy_start(actor=clinician, patient=patient, start_date=START, dose_mg=Decimal("25"),
                                  consent_signed_date=START - timedelta(days=1))
    visit_record(actor=clinician, patient=patient, date=START + timedelta(days=7), neuropathy_grade=0)
    return patient


@pytest.fixture
def woman(make_patient, clinician):
    """Of reproductive potential, irregular cycles: on 25 mg since day 0 (15 days ago), tests on
    days -12, 0 and 7 — the test due on day 14 (yesterday) is not done, so today's dose is not
    covered (R5.2); neuropathy grade 0 on day 7."""
    start = TODAY - timedelta(days=15)
    patient = make_patient(code="GI-0901", sex="F", reproductive_potential=True, irregular_cycles=True,
                           contraception_start=TODAY - timedelta(days=55))
    for day in (-12, 0):
        therapy_actions.pregnancy_test_record(actor=clinician, patient=patient, date=start + timedelta(days=day),
                                              result="negative")
    therapy_actions.therapy_start(actor=clinician, patient=patient, start_date=start, dose_mg=Decimal("25"),
                                  consent_signed_date=start - timedelta(days=1),
                                  contraception_counselling_date=start - timedelta(days=40))
    therapy_actions.pregnancy_test_record(actor=clinician, patient=patient, date=start + timedelta(days=7),
                                          result="negative")
    visit_record(actor=clinician, patient=patient, date=start + timedelta(days=7), neuropathy_grade=0)
    return patient


def visit(**extra):
    data = {"date": TODAY.isoformat(), "contact": "clinic", "neuropathy_grade": "0", "cdai_entered": "180"}
    data.update(extra)
    return data


def test_new_visit_form_defaults_to_today_and_prefills_the_allowed_step(client, clinician, man):
    client.force_login(clinician)
    response = client.get(reverse("visits:create", args=[man.code]))
    form, dose = response.context["form"], response.context["parts"]["dose"]
    assert form["date"].value() == TODAY
    assert dose["dose_mg"].value() == Decimal("50")  # 25 + 25 mg, allowed from day 14 = today
    assert dose["record"].value() in (None, False)  # prefilled, never recorded unless ticked
    assert "pregnancy" not in response.context["parts"]  # a man


def test_visit_without_the_dose_box_records_no_dose(client, clinician, man):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[man.code]), visit(**{"dose-dose_mg": "50"}))
    assert response.status_code == 302
    assert Visit.objects.filter(patient=man, date=TODAY).exists()
    assert DoseChange.objects.filter(patient=man).count() == 1  # the start only


def test_visit_and_dose_step_saved_together(client, clinician, man):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[man.code]),
                           visit(**{"dose-record": "on", "dose-drug": "thalidomide", "dose-dose_mg": "50",
                                    "dose-reason": "scheduled step"}))
    assert response.status_code == 302
    row = DoseChange.objects.get(patient=man, date=TODAY)
    assert row.dose_mg == 50 and row.deviations == [] and row.kind == "increase"


def test_a_refused_dose_saves_nothing_and_names_the_dose(client, clinician, man):
    """Neuropathy grade 1 recorded at this visit: the step up is refused (R3.4) against the grade
    just entered, and the visit is not saved either."""
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[man.code]),
                           visit(neuropathy_grade="1", **{"dose-record": "on", "dose-drug": "thalidomide",
                                                          "dose-dose_mg": "50"}))
    assert response.status_code == 200
    errors = " ".join(response.context["parts"]["dose"].errors.get("dose_mg", []))
    assert "neuropathy" in errors.lower()
    assert not Visit.objects.filter(patient=man, date=TODAY).exists()
    assert DoseChange.objects.filter(patient=man).count() == 1


def test_the_override_answers_a_refusal_and_records_the_dose_with_its_deviation(client, clinician, man):
    """R3.5: an override typed before the rules were shown is ignored (the change is refused and
    the box offered); after the refusal it records the change with its deviation."""
    client.force_login(clinician)
    url = reverse("visits:create", args=[man.code])
    step = visit(neuropathy_grade="1", **{"dose-record": "on", "dose-drug": "thalidomide", "dose-dose_mg": "50",
                                          "dose-override_reason": "grade 1 since years, stable"})
    refused = client.post(url, step)
    assert refused.status_code == 200 and "data-override-offered" in refused.content.decode()
    assert not DoseChange.objects.filter(patient=man, date=TODAY).exists()
    response = client.post(url, {**step, "dose-override_offered": "True"})
    assert response.status_code == 302
    row = DoseChange.objects.get(patient=man, date=TODAY)
    assert "step_up_during_neuropathy" in row.deviations and row.override_reason


def test_the_test_recorded_at_the_visit_covers_the_step_in_the_same_save(client, clinician, woman):
    """Without today's test the step is refused (not covered, R5.2); with the negative test
    recorded in the same save it is allowed."""
    client.force_login(clinician)
    url = reverse("visits:create", args=[woman.code])
    step = {"dose-record": "on", "dose-drug": "thalidomide", "dose-dose_mg": "50", "contraception_confirmed": "true"}
    refused = client.post(url, visit(**step))
    assert refused.status_code == 200 and not Visit.objects.filter(patient=woman, date=TODAY).exists()
    saved = client.post(url, visit(**step, **{"pregnancy-result": "negative"}))
    assert saved.status_code == 302
    assert PregnancyTest.objects.filter(patient=woman, date=TODAY, result="negative").exists()
    assert DoseChange.objects.get(patient=woman, date=TODAY).dose_mg == 50


def test_a_dose_that_cannot_be_recorded_rolls_the_test_back(client, clinician, woman):
    """A positive test in the same save: the step is refused with no override possible, and
    neither the visit nor the test is half-written."""
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[woman.code]),
                           visit(**{"pregnancy-result": "positive", "dose-record": "on", "dose-drug": "thalidomide",
                                    "dose-dose_mg": "50", "dose-override_reason": "no"}))
    assert response.status_code == 200
    assert not PregnancyTest.objects.filter(patient=woman, date=TODAY).exists()
    assert not Visit.objects.filter(patient=woman, date=TODAY).exists()


def test_review_link_opens_the_safety_part_but_never_ticks_the_review(client, clinician, man):
    client.force_login(clinician)
    response = client.get(reverse("visits:create", args=[man.code]) + "?part=review")
    assert response.context["form"]["neurological_review"].value() is False
    page = response.content.decode()
    assert 'id="part-safety"' in page and "data-review-prompt" in page


@pytest.mark.parametrize("next_url, expected", [
    ("/safety/inbox/?kind=visit_due#r-12", "/safety/inbox/?kind=visit_due#r-12"),
    ("https://evil.example/", None),  # never off the site: the visit page instead
])
def test_after_saving_you_return_where_you_came_from(client, clinician, man, next_url, expected):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[man.code]), visit(next=next_url))
    saved = Visit.objects.get(patient=man, date=TODAY)
    assert response.url == (expected or reverse("visits:detail", args=[saved.pk]))


def test_lab_and_endoscopy_forms_default_to_today(client, clinician, man):
    client.force_login(clinician)
    for name in ("visits:lab_create", "visits:endoscopy_create"):
        assert client.get(reverse(name, args=[man.code])).context["form"]["date"].value() == TODAY


@pytest.mark.parametrize("url, back, expected", [
    ("/p/GI-1/visits/new/?part=review#part-safety", "/safety/inbox/?kind=x",
     "/p/GI-1/visits/new/?part=review&next=%2Fsafety%2Finbox%2F%3Fkind%3Dx#part-safety"),
    ("/p/GI-1/labs/new/", "/safety/inbox/", "/p/GI-1/labs/new/?next=%2Fsafety%2Finbox%2F"),
    ("/p/GI-1/labs/new/", "", "/p/GI-1/labs/new/"),
])
def test_links_carry_the_page_to_return_to(url, back, expected):
    from thalimon.navigation import with_next

    assert with_next(url, back) == expected


@pytest.mark.parametrize("kind, part, ticked", [
    ("cumulative_dose_review", "?part=review#part-safety", False),
    ("neuropathy_review", "?part=safety#part-safety", False),
])
def test_review_reminders_open_the_visit_form_at_the_review(client, clinician, man, kind, part, ticked):
    """The link opens the part; the review is ticked by the clinician who did it, never by the link."""
    from safety.kinds import action_link
    from safety.models import Reminder

    reminder = Reminder.objects.create(patient=man, kind=kind, due=TODAY, reason="hand-made", action="visit")
    url, _label = action_link(reminder, clinician)
    assert url == reverse("visits:create", args=[man.code]) + part
    client.force_login(clinician)
    form = client.get(url.split("#")[0]).context["form"]
    assert form["neurological_review"].value() is ticked


def test_a_neurological_review_needs_its_grade(client, clinician, man):
    """The review closes the 20 g reminder (R3.4) only with the grade it found."""
    client.force_login(clinician)
    url = reverse("visits:create", args=[man.code])
    response = client.post(url, visit(neurological_review="on", neuropathy_grade=""))
    assert response.status_code == 200
    assert "grade found at the neurological review" in " ".join(response.context["form"].errors["neuropathy_grade"])
    assert not Visit.objects.filter(patient=man, date=TODAY).exists()
    assert client.post(url, visit(neurological_review="on", neuropathy_grade="0")).status_code == 302


def test_dose_page_prefills_the_suggested_step_once_allowed(client, clinician, man, make_patient):
    client.force_login(clinician)
    form = client.get(reverse("therapy:dose_change", args=[man.code])).context["form"]
    assert form["dose_mg"].value() == Decimal("50") and form["reason"].value() == "scheduled step"
    # Too soon (day 7 < 14, R3.2): nothing prefilled.
    early = make_patient(code="GI-0902", sex="M")
    therapy_actions.therapy_start(actor=clinician, patient=early, start_date=TODAY - timedelta(days=7),
                                  dose_mg=Decimal("25"), consent_signed_date=TODAY - timedelta(days=8))
    visit_record(actor=clinician, patient=early, date=TODAY - timedelta(days=1), neuropathy_grade=0)
    assert client.get(reverse("therapy:dose_change", args=[early.code])).context["form"]["dose_mg"].value() is None


def test_a_positive_test_with_a_thalidomide_dose_is_refused_before_anything_is_written(client, clinician, woman):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[woman.code]),
                           visit(**{"pregnancy-result": "positive", "dose-record": "on", "dose-drug": "thalidomide",
                                    "dose-dose_mg": "25"}))
    assert response.status_code == 200
    assert "stops thalidomide at once" in " ".join(response.context["parts"]["dose"].errors["dose_mg"])
    assert not Visit.objects.filter(patient=woman, date=TODAY).exists()


def test_a_typed_dose_is_never_dropped_silently(client, clinician, man):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[man.code]), visit(**{"dose-dose_mg": "75"}))
    assert response.status_code == 200 and "Tick" in " ".join(response.context["parts"]["dose"].errors["record"])
    assert not Visit.objects.filter(patient=man, date=TODAY).exists()


def test_the_prefilled_thalidomide_step_is_never_recorded_for_azathioprine(client, clinician, man):
    client.force_login(clinician)
    response = client.post(reverse("visits:create", args=[man.code]),
                           visit(**{"dose-record": "on", "dose-drug": "azathioprine", "dose-dose_mg": "50"}))
    assert response.status_code == 200
    assert "dose of the drug chosen" in " ".join(response.context["parts"]["dose"].errors["dose_mg"])
    assert DoseChange.objects.filter(patient=man).count() == 1
