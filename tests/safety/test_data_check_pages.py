"""The R3.4, R4.4 and R5.3 data checks on the pages: shown on the patient page while the data say so,
ended by data (a grade, a resolution date, a leukopenia event), and never a reason to refuse an
adverse event. The rules themselves: tests/rules/test_data_checks.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from safety.actions import adverse_event_record
from safety.models import AdverseEvent
from tests.safety.conftest import START, TODAY
from visits.actions import lab_results_record, visit_record

pytestmark = pytest.mark.django_db


def _checks(client, patient):
    response = client.get(reverse("patients:detail", args=[patient.code]))
    assert response.status_code == 200
    return response, [check.code for check in response.context["data_checks"]]


def test_a_neuropathy_event_at_grade_0_is_saved_with_a_warning_and_shown_until_graded(client, clinician, on_thalidomide):
    """The fixture's latest clinic visit (the start) recorded grade 0."""
    client.force_login(clinician)
    onset = TODAY - timedelta(days=2)
    response = client.post(
        reverse("safety:ae_create", args=[on_thalidomide.code]),
        {"term": "peripheral_neuropathy", "onset": onset.isoformat(), "grade": "1", "drug": "thalidomide",
         "action_thalidomide": "none", "action_azathioprine": "none"},
        follow=True,
    )
    page = response.content.decode()
    assert AdverseEvent.objects.filter(patient=on_thalidomide, term="peripheral_neuropathy").count() == 1  # saved
    assert "recorded neuropathy grade 0: record the current grade at a clinic visit" in page  # and warned
    patient_page, codes = _checks(client, on_thalidomide)
    assert codes == ["neuropathy_event_open_at_grade_0"]
    html = patient_page.content.decode()
    assert 'id="patient-data-checks"' in html and f"{reverse('visits:create', args=[on_thalidomide.code])}?part=safety" in html
    visit_record(actor=clinician, patient=on_thalidomide, date=TODAY, neuropathy_grade=1,  # the grade ends it
                 contraception_confirmed=True)
    response, codes = _checks(client, on_thalidomide)
    assert codes == [] and 'id="patient-data-checks"' not in response.content.decode()


def test_a_resolution_date_ends_the_neuropathy_warning(client, clinician, on_thalidomide):
    event = adverse_event_record(
        actor=clinician, patient=on_thalidomide, term="peripheral_neuropathy", onset=START + timedelta(days=5),
        grade=1, drug="thalidomide",
    )
    client.force_login(clinician)
    assert _checks(client, on_thalidomide)[1] == ["neuropathy_event_open_at_grade_0"]
    adverse_event_record(actor=clinician, patient=on_thalidomide, event=event, resolved=START + timedelta(days=20))
    assert _checks(client, on_thalidomide)[1] == []


def test_a_wbc_of_3_8_suggests_leukopenia_until_the_event_is_recorded(client, clinician, nurse, on_thalidomide):
    day = TODAY - timedelta(days=1)
    lab_results_record(actor=clinician, patient=on_thalidomide, date=day, lab_values={"wbc": Decimal("3.8")})
    client.force_login(clinician)
    response, codes = _checks(client, on_thalidomide)
    assert codes == ["wbc_suggests_leukopenia"]
    html = response.content.decode()
    assert "WBC 3.8 ×10⁹/L on" in html and "is below 4.0" in html
    assert f"?term=leukopenia&amp;onset={day.isoformat()}" in html  # the form comes prefilled
    client.force_login(nurse)  # the nurse sees it too, with the link as her role may record events
    html = client.get(reverse("patients:detail", args=[on_thalidomide.code])).content.decode()
    assert "is below 4.0" in html
    assert ("?term=leukopenia" in html) is nurse.has_perm("safety.add_adverseevent")
    adverse_event_record(actor=clinician, patient=on_thalidomide, term="leukopenia", onset=day, grade=1, drug="both")
    client.force_login(clinician)
    assert _checks(client, on_thalidomide)[1] == []


def test_a_normal_wbc_after_a_low_one_ends_the_suggestion(client, clinician, on_thalidomide):
    lab_results_record(actor=clinician, patient=on_thalidomide, date=TODAY - timedelta(days=8),
                       lab_values={"wbc": Decimal("3.6")})
    client.force_login(clinician)
    assert _checks(client, on_thalidomide)[1] == ["wbc_suggests_leukopenia"]
    lab_results_record(actor=clinician, patient=on_thalidomide, date=TODAY - timedelta(days=1),
                       lab_values={"wbc": Decimal("5.2")})
    assert _checks(client, on_thalidomide)[1] == []


def test_the_checks_cost_the_patient_page_no_query(client, clinician, on_thalidomide, django_assert_num_queries):
    """They read what the page has already read: its visits, lab cells and adverse events."""
    from safety.selectors import patient_data_checks

    lab_results_record(actor=clinician, patient=on_thalidomide, date=TODAY, lab_values={"wbc": Decimal("3.7")})
    adverse_event_record(actor=clinician, patient=on_thalidomide, term="peripheral_neuropathy",
                         onset=TODAY, grade=1, drug="thalidomide")
    client.force_login(clinician)
    context = client.get(reverse("patients:detail", args=[on_thalidomide.code])).context
    assert [check.code for check in context["data_checks"]] == [
        "neuropathy_event_open_at_grade_0", "wbc_suggests_leukopenia"
    ]
    with django_assert_num_queries(0):
        found = patient_data_checks(
            patient=context["patient"], visits=context["visits"], lab_cells=context["lab_cells"],
            adverse_events=context["adverse_events"], thalidomide_rows=context["thalidomide_rows"], as_of=TODAY,
        )
    assert len(found) == 2


def test_a_clinic_visit_on_thalidomide_without_the_contraception_answer_is_shown_until_answered(
    client, clinician, nurse, on_thalidomide
):
    """R5.3: the fixture is a woman of reproductive potential on thalidomide."""
    visit_record(actor=clinician, patient=on_thalidomide, date=TODAY - timedelta(days=3), neuropathy_grade=0)
    client.force_login(clinician)
    response, codes = _checks(client, on_thalidomide)
    assert codes == ["contraception_not_recorded"]
    assert "did not record whether contraception was confirmed" in response.content.decode()
    visit_record(actor=nurse, patient=on_thalidomide, date=TODAY, contact="phone", contraception_confirmed=True)
    assert _checks(client, on_thalidomide)[1] == []  # a phone contact's answer ends it


def test_no_contraception_check_for_a_woman_with_a_recorded_exemption(client, clinician, on_thalidomide):
    on_thalidomide.reproductive_potential = False
    on_thalidomide.non_reproductive_reason = "hysterectomy"
    on_thalidomide.save()
    assert not on_thalidomide.is_female_of_reproductive_potential
    visit_record(actor=clinician, patient=on_thalidomide, date=TODAY - timedelta(days=3), neuropathy_grade=0)
    client.force_login(clinician)
    assert _checks(client, on_thalidomide)[1] == []


@pytest.mark.parametrize("value, suggested", [("3.8", True), ("3.2", True), ("4.0", False)])
def test_saving_a_wbc_below_4_says_so_once(client, clinician, on_thalidomide, value, suggested):
    """3.8 has no alert, so the save message carries R4.4's suggestion; 3.2's review alert
    already says it (said once); 4.0 suggests nothing."""
    client.force_login(clinician)
    response = client.post(reverse("visits:lab_create", args=[on_thalidomide.code]),
                           {"date": TODAY.isoformat(), "lab_wbc": value}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    said = sum(m.count("consider recording the adverse event leukopenia") for m in messages)
    assert said == (1 if suggested else 0), messages


def test_the_dose_page_warns_where_the_step_is_decided(client, clinician, on_thalidomide):
    """R3.4: the step rules read grade 0 while an open neuropathy event says otherwise."""
    client.force_login(clinician)
    url = reverse("therapy:dose_change", args=[on_thalidomide.code])
    assert client.get(url).context["neuropathy_check"] is None
    event = adverse_event_record(actor=clinician, patient=on_thalidomide, term="peripheral_neuropathy",
                                 onset=TODAY - timedelta(days=1), grade=1, drug="thalidomide")
    page = client.get(url)
    assert page.context["neuropathy_check"].code == "neuropathy_event_open_at_grade_0"
    assert 'data-check="neuropathy_event_open_at_grade_0"' in page.content.decode()
    adverse_event_record(actor=clinician, patient=on_thalidomide, event=event, resolved=TODAY)
    assert client.get(url).context["neuropathy_check"] is None


@pytest.fixture
def premenarchal_girl(make_patient, clinician):
    """A 12-year-old recorded as premenarchal, on thalidomide 25 mg for 30 days (paediatric)."""
    from therapy import actions as therapy_actions

    patient = make_patient(code="GI-PM01", sex="F", birth_date=TODAY.replace(year=TODAY.year - 12) - timedelta(days=40),
                           premenarchal=True)
    therapy_actions.dose_change_record(actor=clinician, patient=patient, drug="thalidomide",
                                       date=TODAY - timedelta(days=30), dose_mg=Decimal("25"), historical=True)
    assert not patient.is_female_of_reproductive_potential
    return patient


def test_a_premenarchal_exemption_is_reviewed_at_every_visit_and_ends_at_menarche(
    client, clinician, premenarchal_girl
):
    """R5.1: a visit that did not ask is shown; "not yet" ends the check; "reached" ends the
    exemption itself (with its history), so the pregnancy rules apply from then on."""
    from patients.models import Patient

    visit_record(actor=clinician, patient=premenarchal_girl, date=TODAY - timedelta(days=10), neuropathy_grade=0,
                 contraception_confirmed=True)
    client.force_login(clinician)
    assert _checks(client, premenarchal_girl)[1] == ["premenarchal_not_reviewed"]
    form_page = client.get(reverse("visits:create", args=[premenarchal_girl.code])).content.decode()
    assert 'name="menarche"' in form_page  # asked of her
    visit_record(actor=clinician, patient=premenarchal_girl, date=TODAY - timedelta(days=3), neuropathy_grade=0,
                 contraception_confirmed=True, menarche=False)
    assert _checks(client, premenarchal_girl)[1] == []
    response = client.post(reverse("visits:create", args=[premenarchal_girl.code]), {
        "date": TODAY.isoformat(), "contact": "clinic", "neuropathy_grade": "0",
        "contraception_confirmed": "true", "menarche": "true",
    })
    assert response.status_code == 302, response.content.decode()[:1500]
    stored = Patient.objects.get(pk=premenarchal_girl.pk)
    assert stored.premenarchal is False and stored.is_female_of_reproductive_potential
    assert stored.history.first().history_change_reason.startswith("menarche recorded at the visit of")
    assert _checks(client, premenarchal_girl)[1] == []  # no longer premenarchal: nothing to review
    form_page = client.get(reverse("visits:create", args=[premenarchal_girl.code])).content.decode()
    assert 'name="menarche"' not in form_page


def test_the_menarche_question_is_not_asked_of_others(client, clinician, on_thalidomide):
    client.force_login(clinician)
    assert 'name="menarche"' not in client.get(reverse("visits:create", args=[on_thalidomide.code])).content.decode()


def test_editing_a_visit_that_recorded_menarche_does_not_end_a_restored_exemption(clinician, premenarchal_girl):
    from patients.models import Patient
    from visits.actions import visit_update

    visit = visit_record(actor=clinician, patient=premenarchal_girl, date=TODAY, menarche=True)
    stored = Patient.objects.get(pk=premenarchal_girl.pk)
    assert stored.premenarchal is False
    stored.premenarchal = True  # "reached" was a mistake: the clinician restores the exemption
    stored.save()
    visit_update(actor=clinician, visit=visit, expected_version=visit.version, weight_kg=Decimal("41"))
    assert Patient.objects.get(pk=premenarchal_girl.pk).premenarchal is True


def test_menarche_clears_a_bare_recorded_no_with_the_exemption(clinician, premenarchal_girl):
    from patients.models import Patient

    Patient.objects.filter(pk=premenarchal_girl.pk).update(reproductive_potential=False)  # as an import stores it
    premenarchal_girl.refresh_from_db()
    visit_record(actor=clinician, patient=premenarchal_girl, date=TODAY, menarche=True)
    stored = Patient.objects.get(pk=premenarchal_girl.pk)
    assert (stored.premenarchal, stored.reproductive_potential) == (False, None)
    stored.full_clean()  # the patient form can save her again
