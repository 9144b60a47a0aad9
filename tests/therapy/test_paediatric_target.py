"""R3.3: a child's target is the paediatric cap. The reminder scan and the dose page
read it from the same function (``therapy.records.effective_target``), so a
``dose_step_due`` reminder never prompts a step that the dose page refuses."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from safety.models import Reminder
from safety.scan import scan_reminders
from therapy import actions as therapy_actions
from therapy import records
from therapy.models import TherapyCourse
from visits.actions import visit_record

TODAY = timezone.localdate()


def _child_on_the_first_step(make_patient, clinician, *, weight_kg):
    """A 10-year-old boy (paediatric regimen, recorded target 50 mg) on 12.5 mg for 30 days,
    neuropathy grade 0 and his weight at a clinic visit 10 days ago."""
    child = make_patient(code="GI-0510", birth_date=date(TODAY.year - 10, 1, 15), diagnosis="CD")
    start = TODAY - timedelta(days=30)
    TherapyCourse.objects.create(patient=child, start_date=start, regimen="paediatric", target_dose_mg=Decimal("50"))
    therapy_actions.dose_change_record(
        actor=clinician, patient=child, drug="thalidomide", date=start, dose_mg=Decimal("12.5"), historical=True,
    )
    visit_record(
        actor=clinician, patient=child, date=TODAY - timedelta(days=10), weight_kg=Decimal(weight_kg), neuropathy_grade=0,
    )
    return child


def test_scan_and_dose_page_agree_on_a_childs_target(make_patient, clinician):
    # 15 kg: 2 mg/kg = 30 mg, so the cap is the 25 mg step (R3.3), below the recorded 50 mg.
    child = _child_on_the_first_step(make_patient, clinician, weight_kg="15")
    assert records.effective_target(records.thalidomide_patient(child), TODAY) == Decimal("25")

    scan_reminders(patient_ids=[child.pk])
    step = Reminder.objects.get(patient=child, kind="dose_step_due")
    assert "target 25 mg" in step.reason and "target 50 mg" not in step.reason

    to_target = records.check_dose(child, drug="thalidomide", date=TODAY, dose_mg=Decimal("25"))
    assert "above_max_dose" not in [f.code for f in to_target.deviations]
    beyond = records.check_dose(child, drug="thalidomide", date=TODAY, dose_mg=Decimal("50"))
    assert "above_max_dose" in [f.code for f in beyond.deviations]


def test_a_child_at_the_cap_gets_no_step_reminder(make_patient, clinician):
    # 6.5 kg: 2 mg/kg = 13 mg, so the cap is 12.5 mg — the dose he is on: no step is due.
    child = _child_on_the_first_step(make_patient, clinician, weight_kg="6.5")
    scan_reminders(patient_ids=[child.pk])
    # (The set-up's own writes rescanned with the recent weight; this scan closes that one.)
    assert not Reminder.objects.filter(patient=child, kind="dose_step_due", state__in=["open", "acknowledged"]).exists()


def test_a_child_without_a_recent_weight_gets_no_step_reminder(make_patient, clinician):
    """No weight in the last 30 days: the cap cannot be set, so no step is prompted (the
    visit_due reminder brings the child in to be weighed), never a step towards 100 mg."""
    child = _child_on_the_first_step(make_patient, clinician, weight_kg="15")
    visit = child.visits.get()
    visit.date = TODAY - timedelta(days=45)
    visit.save()
    TherapyCourse.objects.filter(patient=child).update(target_dose_mg=None)
    scan_reminders(patient_ids=[child.pk])
    # (The set-up's own writes rescanned with the recent weight; this scan closes that one.)
    assert not Reminder.objects.filter(patient=child, kind="dose_step_due", state__in=["open", "acknowledged"]).exists()
