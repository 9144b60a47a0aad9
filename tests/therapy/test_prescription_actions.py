"""Prescription use cases (R9.3): each refusal names its field in words, an override passes what
it may and never a NO_OVERRIDE code, one prescription per issue date, edits re-check,
dispensing refused once void or while a positive test stands, and a dose change with its
prescription in one step (all or nothing)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.therapy.prescription_fixtures import TODAY, issue
from therapy import actions as therapy_actions
from therapy import records as therapy_records
from therapy.models import DoseChange, Prescription

pytestmark = pytest.mark.django_db
RAW_CODES = ("supply_too_long", "no_recent_negative_test", "dose_not_dispensable", "positive_test_unresolved",
             "contraception_not_confirmed", "early_repeat", "dispensed_too_late", "dose_mismatch")


def _refusal(call):
    with pytest.raises(ValidationError) as refused:
        call()
    messages = refused.value.message_dict
    text = " ".join(m for ms in messages.values() for m in ms)
    assert not any(code in text for code in RAW_CODES), text  # words, never codes
    return messages


def test_a_prescription_within_the_rules_is_saved_with_its_computed_fields(man, clinician):
    rx = issue(clinician, man, days_supply=84)  # eu_ppp: a man may have up to 84 days
    rx.refresh_from_db()
    assert rx.deviations == [] and rx.override_reason == ""
    assert (rx.programme, rx.risk_category, rx.dispense_by) == ("eu_ppp", "male", None)  # no deadline for a man (EU)
    assert rx.quantity_units == Decimal("84")  # 25 mg × 84 days ÷ 25 mg
    assert rx.prescribed_by == clinician and rx.rules_version
    assert rx.history.count() == 1 and rx.history.first().history_user == clinician


def test_too_long_a_supply_is_refused_on_its_field_then_passes_with_an_override(man, clinician):
    messages = _refusal(lambda: issue(clinician, man, days_supply=85))  # 85 > 84 days
    assert "days_supply" in messages and "override_reason" in messages
    assert not Prescription.objects.exists()
    rx = issue(clinician, man, days_supply=85, override_reason="  travelling abroad for 12 weeks ")
    assert rx.deviations == ["supply_too_long"] and rx.override_reason == "travelling abroad for 12 weeks"
    assert len(rx.check_reasons) == 1 and "84" in rx.check_reasons[0]


def test_a_man_without_contraception_confirmed_is_refused_on_that_field(man, clinician):
    messages = _refusal(lambda: issue(clinician, man, contraception_confirmed=False))
    assert "contraception_confirmed" in messages


def test_a_dose_no_tablet_makes_is_refused_even_with_an_override(man, clinician):
    # 30 mg is no multiple of 12.5 mg (25 mg tablets, halves allowed): dose_not_dispensable, and
    # differs from the 25 mg in force: dose_mismatch.
    messages = _refusal(lambda: issue(clinician, man, dose_mg=Decimal("30"), override_reason="trust me"))
    assert "dose_mg" in messages and "No override is possible" in " ".join(messages["__all__"])
    assert "override_reason" not in messages
    assert not Prescription.objects.exists()


def test_a_positive_test_refuses_the_prescription_whatever_the_override(woman, clinician, nurse):
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=TODAY - timedelta(days=1),
                                          result="positive")
    messages = _refusal(lambda: issue(clinician, woman, override_reason="she says the test was wrong"))
    assert "issue_date" in messages and "No override is possible" in " ".join(messages["__all__"])
    assert not Prescription.objects.exists()


def test_a_woman_needs_a_negative_test_in_the_window(woman, clinician, nurse):
    messages = _refusal(lambda: issue(clinician, woman))  # last negative 5 days ago: window is issue − 3 … issue
    assert "issue_date" in messages
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=TODAY - timedelta(days=3), result="negative")
    rx = issue(clinician, woman)  # issue − 3 days: inside the window (both ends inclusive)
    assert rx.deviations == [] and rx.dispense_by == TODAY + timedelta(days=7)
    assert rx.risk_category == "female_reproductive_potential"


def test_a_second_prescription_on_the_same_issue_date_is_refused(man, clinician):
    issue(clinician, man)
    messages = _refusal(lambda: issue(clinician, man, days_supply=7))
    assert "edit that one" in messages["issue_date"][0]
    assert Prescription.objects.count() == 1


def test_an_early_repeat_is_refused_unless_overridden(man, clinician):
    issue(clinician, man, issue_date=TODAY - timedelta(days=10), days_supply=28)
    # 10 days into 28: 18 days of supply left > 7 (R9.3 early_repeat).
    messages = _refusal(lambda: issue(clinician, man))
    assert "issue_date" in messages
    rx = issue(clinician, man, override_reason="tablets lost")
    assert rx.deviations == ["early_repeat"]


def test_an_edit_is_checked_again_and_a_dispensed_one_is_not_edited(man, clinician, nurse):
    rx = issue(clinician, man)
    _refusal(lambda: therapy_actions.prescription_update(actor=clinician, prescription=rx, days_supply=100))
    rx.refresh_from_db()
    assert rx.days_supply == 28
    edited = therapy_actions.prescription_update(actor=clinician, prescription=rx, days_supply=56)
    assert edited.days_supply == 56 and edited.quantity_units == Decimal("56")
    therapy_actions.prescription_dispense(actor=nurse, prescription=edited, dispensed_date=TODAY)
    messages = _refusal(lambda: therapy_actions.prescription_update(actor=clinician, prescription=rx, days_supply=28))
    assert "dispensed" in messages["__all__"][0]


def test_dispensing_is_recorded_once_with_who_recorded_it(woman, clinician, nurse):
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=TODAY, result="negative")
    rx = issue(clinician, woman)
    done = therapy_actions.prescription_dispense(actor=nurse, prescription=rx, dispensed_date=TODAY)
    assert done.dispensed_date == TODAY and done.dispensing_recorded_by == nurse and done.deviations == []
    messages = _refusal(lambda: therapy_actions.prescription_dispense(actor=nurse, prescription=rx,
                                                                      dispensed_date=TODAY))
    assert "Already dispensed" in messages["dispensed_date"][0]


def test_dispensing_after_the_dispense_by_date_needs_the_reason_and_is_recorded_late(woman, clinician, nurse):
    """R9.1/R9.3: a dispensing after the dispense-by date is refused as such (the patient needs a
    new prescription); when the tablets were in fact handed over late, it is recorded with the
    reason and ``dispensed_too_late`` — not void, its supply counts (R9.4)."""
    issued = TODAY - timedelta(days=9)
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=issued, result="negative")
    rx = issue(clinician, woman, issue_date=issued)
    assert rx.dispense_by == issued + timedelta(days=7)  # eu_ppp, woman of reproductive potential
    late_day = issued + timedelta(days=8)  # the day after dispense-by
    messages = _refusal(lambda: therapy_actions.prescription_dispense(
        actor=nurse, prescription=rx, dispensed_date=late_day))
    assert "new one" in " ".join(messages["dispensed_date"])
    rx.refresh_from_db()
    assert rx.dispensed_date is None and rx.deviations == []
    done = therapy_actions.prescription_dispense(actor=nurse, prescription=rx, dispensed_date=late_day,
                                                 late_reason="Pharmacy closed; collected the next day.")
    assert done.dispensed_date == late_day and done.deviations == ["dispensed_too_late"]
    assert done.dispensed_late_reason == "Pharmacy closed; collected the next day."
    # Its 28 days of supply start on the dispensed date: tablets run out on late_day + 28 (R9.4).
    run_out, due = therapy_records.prescription_run_out_for(woman, as_of=TODAY)
    assert run_out == late_day + timedelta(days=28) and due == run_out - timedelta(days=7)


def test_dispensing_on_the_last_valid_day_is_in_time(woman, clinician, nurse):
    issued = TODAY - timedelta(days=9)
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=issued, result="negative")
    rx = issue(clinician, woman, issue_date=issued)
    done = therapy_actions.prescription_dispense(actor=nurse, prescription=rx, dispensed_date=rx.dispense_by,
                                                 late_reason="ignored: not late")
    assert "dispensed_too_late" not in done.deviations and done.dispensed_late_reason == ""


def test_an_expired_prescription_is_not_edited(woman, clinician, nurse):
    issued = TODAY - timedelta(days=9)
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=issued, result="negative")
    rx = issue(clinician, woman, issue_date=issued)
    messages = _refusal(lambda: therapy_actions.prescription_update(actor=clinician, prescription=rx, days_supply=14))
    assert "expired" in messages["__all__"][0]


def test_no_dispensing_while_a_positive_test_stands(woman, clinician, nurse):
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=TODAY - timedelta(days=1), result="negative")
    rx = issue(clinician, woman, issue_date=TODAY - timedelta(days=1))
    therapy_actions.pregnancy_test_record(actor=nurse, patient=woman, date=TODAY, result="positive")
    messages = _refusal(lambda: therapy_actions.prescription_dispense(actor=nurse, prescription=rx,
                                                                      dispensed_date=TODAY))
    assert "POSITIVE" in messages["dispensed_date"][0]


def test_a_dose_change_and_its_prescription_in_one_step(man, clinician):
    row, rx = therapy_actions.dose_change_with_prescription(
        actor=clinician, patient=man, date=TODAY, dose_mg=Decimal("50"), reason="scheduled step",
        days_supply=28, contraception_confirmed=True,
    )
    assert (row.dose_mg, rx.dose_mg) == (Decimal("50"), Decimal("50"))
    assert rx.deviations == []  # checked with the new row on record: no dose_mismatch
    assert rx.quantity_units == Decimal("56")  # 50 mg × 28 ÷ 25


def test_a_refused_prescription_takes_the_dose_change_with_it(man, clinician):
    with pytest.raises(ValidationError) as refused:
        therapy_actions.dose_change_with_prescription(
            actor=clinician, patient=man, date=TODAY, dose_mg=Decimal("50"), days_supply=90,
            contraception_confirmed=True,
        )
    assert "prescription:days_supply" in refused.value.message_dict
    assert not DoseChange.objects.filter(patient=man, date=TODAY).exists()
    assert not Prescription.objects.exists()


def test_a_refused_dose_names_its_part_and_writes_nothing(man, clinician):
    with pytest.raises(ValidationError) as refused:  # 25 → 100: a step above 50 mg (R3.2)
        therapy_actions.dose_change_with_prescription(
            actor=clinician, patient=man, date=TODAY, dose_mg=Decimal("100"), days_supply=28,
            contraception_confirmed=True,
        )
    assert "dose:dose_mg" in refused.value.message_dict
    assert not Prescription.objects.exists()


def test_a_dispensing_recorded_later_re_checks_the_prescriptions_issued_after_it(woman, clinician, nurse):
    """R9.1: a check uses the records dated on or before its issue date. P1 (issued −26, a test
    that day) is void from −18 (dispense-by −19) while undispensed, so P2 (issued −5) had no
    early_repeat. The nurse then records P1's dispensing on −24 (in time): on −5, P1's 28 days
    run (−24 + 28) − (−5) = 9 days past P2's issue date, more than 7 → P2 gains early_repeat."""
    p1 = issue(clinician, woman, issue_date=TODAY - timedelta(days=26))
    p2 = issue(clinician, woman, issue_date=TODAY - timedelta(days=5))
    assert p1.dispense_by == TODAY - timedelta(days=19) and "early_repeat" not in p2.deviations
    versions = p2.history.count()
    therapy_actions.prescription_dispense(actor=nurse, prescription=p1, dispensed_date=TODAY - timedelta(days=24))
    p2.refresh_from_db()
    assert "early_repeat" in p2.deviations and p2.history.count() == versions + 1
