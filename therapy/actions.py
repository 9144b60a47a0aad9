"""Therapy actions: dose changes, the thalidomide start, the course, pregnancy tests
and contraception confirmations (R3–R5).

Each public function is one clinical use case in one durable transaction, doing in
order: the write with its history row and acting user, the derived fields (course
dates, visit statuses when day 0 moves), and one rescan of the patient queued on
commit. The rules decide through ``therapy.records``; nothing here re-derives them.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.models import Patient
from safety.actions import request_rescan
from thalimon import catalogue, saying
from thalimon.history import save_with_history
from thalimon.rules_config import rules_version
from thalimon.saying import render
from therapy import records, selectors, words
from therapy.models import DoseChange, Drug, PregnancyTest, Prescription, TherapyCourse
from therapy.rules import prescriptions as prescription_rules
from visits.actions import statuses_refresh, visit_record
from visits.models import Visit

# What the course page edits. The start (day 0 and the first dose) and the checklist facts
# are recorded only by the start-of-therapy checklist (``therapy_start``).
COURSE_PAGE_FIELDS = ("target_dose_mg", "regimen", "regimen_reason", "stop_date", "stop_reason")
# Names a start is (``start_date``, the course page's old field) or could be posted under:
# the course page refuses them.
START_FIELDS = ("start_date", "thalidomide_start", "first_dose_mg", "first_dose", "dose_mg")
START_BY_CHECKLIST = _(
    "thalidomide is started (day 0 and the first dose) only through the start-of-therapy checklist "
    "(Start thalidomide), which checks consent, the pre-start pregnancy tests (R5.2), contraception "
    "(R5.3) and TPMT/NUDT15 (R4.2)"
)
START_REFUSED = format_lazy(
    _("This is a thalidomide start (a first dose, or a new start more than 28 days after a stop, R3.1) "
      "and was not saved: {why}."),
    why=START_BY_CHECKLIST,
)
# The dose refusal an override may pass (R3.5): the visit page opens its override box on it.
DOSE_REFUSED = _("This change breaks the dosing rules and was not saved:")
# A hard block (R3.4 grade 3, R5.2 positive test): no override passes it.
DOSE_NO_OVERRIDE = _("No override is possible: record the thalidomide stop (0 mg) first.")


def _refusal(decision):
    return ValidationError(
        {"dose_mg": [str(DOSE_REFUSED), *[render(f.reason) for f in decision.blocking]]},
        code="dose_refused",
    )


def _check_order(patient, row):
    """Web changes are recorded in date order (every later row was checked against the rows before it)."""
    later = DoseChange.objects.filter(patient=patient, drug=row.drug, date__gt=row.date).order_by("-date").first()
    if later is not None:
        raise ValidationError(
            {"date": gettext("A %(drug)s record dated %(date)s exists; changes are recorded in date "
                             "order (every later row was checked against the rows before it).")
                     % {"drug": str(row.get_drug_display()).lower(), "date": saying.day(later.date)}}
        )
    if row.drug == Drug.THALIDOMIDE and row.dose_mg == 0 and not DoseChange.objects.filter(
        patient=patient, drug=row.drug, dose_mg__gt=0
    ).exists():
        raise ValidationError({"dose_mg": gettext("Thalidomide has not been started: a stop cannot be the first record.")})


def _check_start(patient, decision, date, *, via_checklist):
    """A first thalidomide dose, or a new start more than 28 days after a stop (R3.1), is
    recorded only by the start-of-therapy checklist (``therapy_start``), and the checklist
    records nothing but such a start."""
    if not via_checklist:
        if decision.starts_thalidomide:
            raise ValidationError({"dose_mg": [str(START_REFUSED)]}, code="start_via_checklist")
        return
    if not decision.starts_thalidomide:
        raise ValidationError(
            {"start_date": gettext("Thalidomide does not start on %(date)s: this dose is checked as "
                                   "%(kind)s (R3.1: a dose within 28 days of a stop resumes "
                                   "the course). Record it on Change dose.")
                           % {"date": saying.day(date),
                              "kind": str(catalogue.label(words.CHANGE_KINDS, decision.kind)).lower()}},
            code="not_a_start",
        )
    missing = records.checklist(patient, start_date=date).missing
    if missing and not records.checklist_overridden(records.course_of(patient), date):
        raise ValidationError(
            {"dose_mg": [gettext("Complete the start-of-therapy checklist first:"), *[str(item.label) for item in missing]]},
            code="checklist_incomplete",
        )


def _enforce(decision, row):
    if decision.hard_blocks:
        raise ValidationError(
            {"dose_mg": [render(f.reason) for f in decision.hard_blocks]
             + [str(DOSE_NO_OVERRIDE)]},
            code="dose_refused",
        )
    if decision.blocking and not row.override_reason:
        raise _refusal(decision)
    if row.override_reason and not decision.blocking:
        row.override_reason = ""  # nothing to override: keep the record honest


def course_follow_doses(patient, actor):
    """R3.1: the course start is the first thalidomide row, the stop the latest 0 mg row.
    Returns (course, start_moved)."""
    rows = records.dose_rows_for(patient, Drug.THALIDOMIDE)
    start, stop = records.course_dates(rows)
    if start is None:
        return None, False
    course = records.course_of(patient) or TherapyCourse(patient=patient)
    if course.pk and course.start_date == start and course.stop_date == stop:
        return course, False
    start_moved = course.start_date != start
    zero = DoseChange.objects.filter(patient=patient, drug=Drug.THALIDOMIDE, date=stop).first() if stop else None
    course.stop_reason = records.stop_reason(
        current_reason=course.stop_reason, current_stop=course.stop_date, new_stop=stop,
        zero_row_reason=zero.reason if zero else "",
    )
    course.start_date, course.stop_date = start, stop
    save_with_history(course, actor)
    return course, start_moved


def _record_dose(
    *, actor, patient, drug, date, dose_mg, reason, override_reason, historical=False, via_checklist=False
):
    """The write of one dose change and what derives from it (no rescan). A thalidomide
    start passes only ``via_checklist`` (``therapy_start``) or from a past chart (``historical``)."""
    row = DoseChange(
        patient=patient, drug=drug, date=date, dose_mg=Decimal(str(dose_mg)), reason=reason,
        override_reason=override_reason.strip(), decided_by=actor,
    )
    # One decision at a time per patient: two simultaneous steps cannot both pass step_too_soon.
    type(patient).objects.select_for_update().filter(pk=patient.pk).first()
    row.full_clean()
    if not historical:
        _check_order(patient, row)
    decision = records.check_dose(patient, drug=drug, date=date, dose_mg=row.dose_mg)
    if not historical:
        _check_start(patient, decision, date, via_checklist=via_checklist)
        _enforce(decision, row)
    row.kind = decision.kind
    row.deviations = [f.code for f in decision.deviations]
    row.warnings = [f.code for f in decision.warnings]
    row.check_reasons = [f.reason for f in decision.deviations + decision.warnings]
    row.rules_version = rules_version()
    save_with_history(row, actor)
    if drug == Drug.THALIDOMIDE:
        course, start_moved = course_follow_doses(patient, actor)
        if start_moved:
            patient.course = course
            statuses_refresh(patient)  # day 0 moves the baseline window and every status
    return row


@transaction.atomic
def dose_change_record(*, actor, patient, drug, date, dose_mg, reason="", override_reason="", historical=False):
    """Record a dose change.

    From the web (``historical=False``): refused when it breaks a rule unless
    ``override_reason`` is given (never for a hard block); a thalidomide first dose or new
    start (R3.1) is refused: it is recorded only by the start-of-therapy checklist
    (``therapy_start``); rows are recorded in date order. A row from a past
    chart (``historical=True``, the demo seed): nothing is refused, the deviations are
    stored, as an import stores them."""
    row = _record_dose(
        actor=actor, patient=patient, drug=drug, date=date, dose_mg=dose_mg, reason=reason,
        override_reason=override_reason, historical=historical,
    )
    request_rescan(patient.pk)
    return row


def _save_course_fields(course, actor, fields):
    for name, value in fields.items():
        setattr(course, name, value)
    course.full_clean()
    return save_with_history(course, actor)


def _refuse_start_fields(fields):
    """The course page takes only COURSE_PAGE_FIELDS: a start field (even a forged one)
    or a checklist fact is refused, naming the field."""
    refused = {
        name: gettext("%(field)s: not taken here — %(why)s.") % {"field": name, "why": START_BY_CHECKLIST}
        for name in fields
        if name not in COURSE_PAGE_FIELDS
    }
    if refused:
        raise ValidationError(refused, code="start_via_checklist")


@transaction.atomic
def course_save(*, actor, patient, **fields):
    """Edit the course of a patient whose thalidomide has started: target dose, regimen
    and its reason, stop. It never creates the course nor moves day 0: the start (its
    date and first dose) is recorded only by ``therapy_start`` (the checklist)."""
    _refuse_start_fields(fields)
    course = records.course_of(patient)
    if course is None:
        raise ValidationError(
            {"start_date": gettext("Thalidomide has not been started: %(why)s.") % {"why": START_BY_CHECKLIST}},
            code="start_via_checklist",
        )
    _save_course_fields(course, actor, fields)
    patient.course = course
    request_rescan(patient.pk)
    return course


@transaction.atomic
def historical_course_save(*, actor, patient, start_date, **fields):
    """A course from a past chart (the demo seed, the benchmark, test set-up), written as
    the datasheet import writes one: its start as the chart gives it, without the
    checklist. No page calls it (tests/therapy/test_one_way_to_start.py). With thalidomide
    rows, day 0 must be the first of them (R3.1)."""
    first, _stop = records.course_dates(records.dose_rows_for(patient, Drug.THALIDOMIDE))
    if first is not None and first != start_date:
        raise ValidationError(
            {"start_date": gettext("Thalidomide start must be the first thalidomide dose row (%(date)s) (R3.1).")
                           % {"date": saying.day(first)}}
        )
    course = records.course_of(patient) or TherapyCourse(patient=patient)
    start_before = course.start_date
    _save_course_fields(course, actor, {"start_date": start_date, **fields})
    patient.course = course
    if course.start_date != start_before:
        statuses_refresh(patient)  # day 0 moves the baseline window and every status
    request_rescan(patient.pk)
    return course


def _checklist_or_override(course, actor, patient, start_date, override_reason):
    """The checklist for ``start_date``; incomplete, the override reason covers this start only."""
    state = records.checklist(patient, start_date=start_date, course=course)
    if state.complete:
        return
    if not override_reason.strip():
        raise ValidationError(
            {"override_reason": [
                gettext("The checklist is incomplete; a clinician may start only with an override reason:"),
                *[str(item.label) for item in state.missing],
            ]}
        )
    course.checklist_override_reason = override_reason.strip()
    course.checklist_override_date = start_date
    course.checklist_override_missing = [item.key for item in state.missing]
    save_with_history(course, actor)


@transaction.atomic
def therapy_start(
    *, actor, patient, start_date, dose_mg, target_dose_mg=None, regimen="", regimen_reason="",
    consent_signed_date=None, contraception_counselling_date=None, override_reason="",
    dose_override_reason="",
):
    """Record the checklist facts and the first thalidomide dose in one step: the only way
    a thalidomide start (the first dose, or a new start more than 28 days after a stop,
    R3.1) is recorded from the web.

    ``override_reason`` covers an incomplete checklist for this start only;
    deviations of the first dose itself (R3.5) need their own
    ``dose_override_reason``, written after the clinician has seen them. A new start
    keeps day 0 of the course (the first thalidomide row, R3.1)."""
    course = records.course_of(patient) or TherapyCourse(patient=patient)
    fields = {
        "target_dose_mg": target_dose_mg, "regimen": regimen, "regimen_reason": regimen_reason,
        "consent_signed_date": consent_signed_date, "contraception_counselling_date": contraception_counselling_date,
    }
    if not DoseChange.objects.filter(patient=patient, drug=Drug.THALIDOMIDE, dose_mg__gt=0).exists():
        fields["start_date"] = start_date
    _save_course_fields(course, actor, fields)
    _checklist_or_override(course, actor, patient, start_date, override_reason)
    row = _record_dose(
        actor=actor, patient=patient, drug=Drug.THALIDOMIDE, date=start_date, dose_mg=dose_mg,
        reason="start", override_reason=dose_override_reason, via_checklist=True,
    )
    patient.course = records.course_of(patient)
    statuses_refresh(patient)  # day 0 moves the baseline window and every status
    request_rescan(patient.pk)
    return row


@transaction.atomic
def pregnancy_test_record(*, actor, patient, date, result):
    Patient.objects.lock(patient.pk)
    existing = PregnancyTest.objects.filter(patient=patient, date=date).first()
    if existing is not None:
        # Never overwrite a result (a positive turned negative would lift the R5.2 block).
        raise ValidationError(
            {"date": gettext("A %(result)s test is already recorded on %(date)s; a result is never overwritten. "
                             "Ask a clinician to correct it in the record's history.")
                     % {"result": str(existing.get_result_display()).lower(), "date": saying.day(date)}}
        )
    test = PregnancyTest(patient=patient, date=date, recorded_by=actor, result=result)
    test.full_clean()
    save_with_history(test, actor)
    request_rescan(patient.pk)
    return test


@transaction.atomic
def contraception_confirm(*, actor, patient, date, contact, confirmed):
    """R5.3: record a confirmation (yes/no) at a clinic visit or by phone. It is kept on
    the contact (the visit of that date and kind), as the datasheet carries it."""
    visit = Visit.objects.filter(patient=patient, date=date, contact=contact).first()
    if visit is None:
        visit = Visit(patient=patient, date=date, contact=contact, created_by=actor)
    created = visit.pk is None
    visit.contraception_confirmed = confirmed
    visit.full_clean()
    save_with_history(visit, actor)
    if created:
        statuses_refresh(patient)  # a new contact joins the patient's status series
    request_rescan(patient.pk)
    return visit


def _part_refused(part, error):
    """A refusal of one part of the visit, its fields named ``part:field`` for the page."""
    if hasattr(error, "error_dict"):
        return ValidationError({f"{part}:{field}": messages for field, messages in error.message_dict.items()})
    return ValidationError({f"{part}:__all__": error.messages})


@transaction.atomic
def visit_with_decisions_record(*, actor, patient, lab_values=None, pregnancy_result=None, dose=None, **visit_fields):
    """One visit and what the clinic decided at it, all or nothing: the visit (scores,
    statuses, alerts), then its pregnancy test, then the dose decision dated the visit's
    date — each through its own action, so the dose is checked (R3.5, R5) against the
    neuropathy grade and the test just recorded, with its deviations and override. A
    refusal of the test or the dose names its part (``pregnancy:field``, ``dose:field``)
    and saves nothing. Returns (visit, test or None, dose row or None)."""
    if pregnancy_result == "positive" and dose and dose["drug"] == Drug.THALIDOMIDE and dose["dose_mg"] > 0:
        # R5.2: a positive test stops thalidomide at once. Refused before anything is written, so
        # the clinician records the stop with the test rather than losing the test with the dose.
        raise ValidationError({"dose:dose_mg": gettext("A positive pregnancy test stops thalidomide at once (R5.2): "
                                                      "record 0 mg (the stop), or untick the dose decision.")})
    visit = visit_record(actor=actor, patient=patient, lab_values=lab_values, **visit_fields)
    test = row = None
    if pregnancy_result:
        try:
            test = pregnancy_test_record(actor=actor, patient=patient, date=visit.date, result=pregnancy_result)
        except ValidationError as error:
            raise _part_refused("pregnancy", error) from error
    if dose:
        try:
            row = dose_change_record(actor=actor, patient=patient, date=visit.date, **dose)
        except ValidationError as error:
            raise _part_refused("dose", error) from error
    return visit, test, row


# --- R9 prescriptions ------------------------------------------------------------------
# The form field each R9.3 code is about: a refusal names it (the page shows the reason there).
PRESCRIPTION_FIELD_OF_CODE = {
    "supply_too_long": "days_supply",
    "no_recent_negative_test": "issue_date",
    "start_not_covered": "issue_date",
    "positive_test_unresolved": "issue_date",
    "dose_mismatch": "dose_mg",
    "early_repeat": "issue_date",
    "contraception_not_confirmed": "contraception_confirmed",
    "dispensed_too_late": "dispensed_date",
    "authorisation_missing": "authorisation",
    "dose_not_dispensable": "dose_mg",
}
PRESCRIPTION_NOT_SAVED = _("This prescription breaks the programme's rules and was not saved (R9.3):")
PRESCRIPTION_NO_OVERRIDE = _(
    "No override is possible for %(labels)s: a positive pregnancy test must be followed by a negative one, "
    "and the daily dose must be made from whole (or half) tablets (R9.3)."
)


def _label(code):
    return catalogue.label(words.PRESCRIPTION_DEVIATIONS, code)


def _prescription_refused(check, override_reason):
    """R9.3: any code refuses the prescription unless overridden with a reason; a code of
    NO_OVERRIDE_CODES refuses it whatever the override. Each code's reason is put on the
    field it is about."""
    if not check.deviations:
        return
    no_override = [f for f in check.deviations if f.code in prescription_rules.NO_OVERRIDE_CODES]
    if override_reason.strip() and not no_override:
        return
    errors = {}
    for finding in check.deviations:
        field = PRESCRIPTION_FIELD_OF_CODE.get(finding.code, "__all__")
        errors.setdefault(field, []).append(f"{_label(finding.code)}: {render(finding.reason)}")
    if no_override:
        labels = ", ".join(str(_label(f.code)) for f in no_override)
        errors.setdefault("__all__", []).insert(0, str(PRESCRIPTION_NO_OVERRIDE) % {"labels": labels})
    else:
        errors["override_reason"] = [
            gettext("To issue it despite the rules, tick the override and write why (the reason is kept with it).")
        ]
    errors.setdefault("__all__", []).insert(0, str(PRESCRIPTION_NOT_SAVED))
    raise ValidationError(errors, code="prescription_refused")


def _recheck_later(rx, actor, *, since):
    """R9.1: each prescription's check uses the records dated on or before its issue date, so
    a prescription saved, moved or dispensed changes the check of those issued on or after
    ``since``: they are re-checked, and their stored codes kept current (with history when
    they change). Never refused: they were issued already."""
    later = Prescription.objects.filter(patient_id=rx.patient_id, issue_date__gte=since).exclude(pk=rx.pk)
    for other in later.order_by("issue_date"):
        other.patient = rx.patient
        stored = (other.deviations, other.check_reasons, other.dispense_by, other.quantity_units, other.risk_category)
        records.store_prescription_check(other, records.check_prescription_for(
            rx.patient, records.prescription_row(other), exclude_id=other.pk))
        if (other.deviations, other.check_reasons, other.dispense_by, other.quantity_units,
                other.risk_category) != stored:
            save_with_history(other, actor)


def _save_prescription(rx, actor, override_reason, *, historical=False, since=None):
    """Check ``rx`` (R9.3, against the patient's other prescriptions), refuse it or save it
    with its computed fields and history, re-check the ones issued after it; the patient's
    reminders follow on commit."""
    rx.full_clean(exclude=["patient", "prescribed_by", "dispensing_recorded_by"])
    check = records.check_prescription_for(rx.patient, records.prescription_row(rx), exclude_id=rx.pk)
    if not historical:
        _prescription_refused(check, override_reason)
    # Nothing to override keeps the record honest (an override typed before the check is dropped).
    rx.override_reason = override_reason.strip() if check.deviations else ""
    records.store_prescription_check(rx, check)
    save_with_history(rx, actor)
    _recheck_later(rx, actor, since=min(rx.issue_date, since or rx.issue_date))
    request_rescan(rx.patient_id)
    return rx


def _one_prescription_a_day(patient, issue_date, *, exclude_id=None):
    existing = Prescription.objects.filter(patient=patient, issue_date=issue_date).exclude(pk=exclude_id).first()
    if existing is not None:
        raise ValidationError(
            {"issue_date": gettext("A prescription issued on %(date)s is already recorded: edit that one "
                                   "instead of writing a second (one prescription per patient and issue date, R9.1).")
                           % {"date": saying.day(issue_date)}},
            code="prescription_exists",
        )


def _record_prescription(*, actor, patient, issue_date, dose_mg, days_supply, contraception_confirmed,
                         authorisation="", override_reason="", historical=False):
    Patient.objects.lock(patient.pk)
    _one_prescription_a_day(patient, issue_date)
    rx = Prescription(
        patient=patient, issue_date=issue_date, dose_mg=Decimal(str(dose_mg)), days_supply=days_supply,
        contraception_confirmed=bool(contraception_confirmed), authorisation=(authorisation or "").strip(),
        prescribed_by=actor,
    )
    return _save_prescription(rx, actor, override_reason, historical=historical)


@transaction.atomic
def prescription_record(*, actor, patient, issue_date, dose_mg, days_supply, contraception_confirmed,
                        authorisation="", override_reason="", historical=False):
    """Issue a thalidomide prescription (R9.3), checked against the patient's record as of
    its issue date. From the web it is refused on any code unless ``override_reason`` is
    given, and on a NO_OVERRIDE_CODES code whatever the reason; a second prescription on
    the same issue date is refused (edit the first). ``historical`` (a past chart: the demo,
    tests): nothing is refused, the codes are stored, as the datasheet import stores them."""
    return _record_prescription(
        actor=actor, patient=patient, issue_date=issue_date, dose_mg=dose_mg, days_supply=days_supply,
        contraception_confirmed=contraception_confirmed, authorisation=authorisation,
        override_reason=override_reason, historical=historical,
    )


def _editable(rx, today):
    """A dispensed prescription, or one void (expired undispensed), is no longer edited: the
    tablets are out, or the form is dead; a new prescription is written instead."""
    if rx.dispensed_date is not None:
        raise ValidationError(
            {"__all__": gettext("This prescription was dispensed on %(date)s: it is not changed any "
                                "more. Write a new prescription.") % {"date": saying.day(rx.dispensed_date)}},
            code="prescription_dispensed",
        )
    if prescription_rules.is_void(records.prescription_row(rx), dispense_by=rx.dispense_by, on=today):
        raise ValidationError(
            {"__all__": gettext("This prescription expired (not dispensed by %(date)s, R9.1): it is not "
                                "changed any more. Write a new prescription.") % {"date": saying.day(rx.dispense_by)}},
            code="prescription_void",
        )


PRESCRIPTION_EDIT_FIELDS = ("issue_date", "dose_mg", "days_supply", "contraception_confirmed", "authorisation")


@transaction.atomic
def prescription_update(*, actor, prescription, override_reason="", **fields):
    """Edit a prescription not yet dispensed nor void: the same check as a new one (R9.3),
    against the patient's other prescriptions; the prescriber becomes the editor."""
    unknown = set(fields) - set(PRESCRIPTION_EDIT_FIELDS)
    if unknown:
        raise ValidationError({name: gettext("%(field)s: not changed here.") % {"field": name} for name in sorted(unknown)})
    Patient.objects.lock(prescription.patient_id)
    rx = Prescription.objects.select_for_update().get(pk=prescription.pk)
    rx.patient = prescription.patient
    _editable(rx, timezone.localdate())
    issued_before = rx.issue_date
    for name, value in fields.items():
        setattr(rx, name, value)
    rx.dose_mg = Decimal(str(rx.dose_mg))
    rx.authorisation = (rx.authorisation or "").strip()
    _one_prescription_a_day(rx.patient, rx.issue_date, exclude_id=rx.pk)
    rx.prescribed_by = actor
    return _save_prescription(rx, actor, override_reason, since=issued_before)


@transaction.atomic
def prescription_dispense(*, actor, prescription, dispensed_date, late_reason=""):
    """Record the day the tablets were handed over (a nurse or a clinician), re-checked.

    Refused: a second dispensing; a dispensing while a positive pregnancy test has no later
    negative one (R5.2: thalidomide stops at once). A date after the dispense-by date (R9.1)
    is refused unless the person recording it says why (``late_reason``): then it is recorded
    with ``dispensed_too_late`` — the patient has the tablets, so the prescription is not void
    and its supply counts in the run-out date and in the next prescription's ``early_repeat``
    (a record that left them out would hide tablets the patient holds)."""
    Patient.objects.lock(prescription.patient_id)
    rx = Prescription.objects.select_for_update().get(pk=prescription.pk)
    rx.patient = prescription.patient
    if rx.dispensed_date is not None:
        raise ValidationError(
            {"dispensed_date": gettext("Already dispensed on %(date)s; a dispensing is recorded once.")
                               % {"date": saying.day(rx.dispensed_date)}}
        )
    rx.dispensed_date = dispensed_date
    rx.dispensed_late_reason = (late_reason or "").strip()
    rx.full_clean(exclude=["patient", "prescribed_by", "dispensing_recorded_by"])
    check = records.check_prescription_for(rx.patient, records.prescription_row(rx), exclude_id=rx.pk)
    late = [f for f in check.deviations if f.code == "dispensed_too_late"]
    if late and not rx.dispensed_late_reason:
        raise ValidationError(
            {"dispensed_date": [f"{_label('dispensed_too_late')}: {render(late[0].reason)}",
                                gettext("A prescription is not dispensed after its dispense-by date: the patient needs "
                                        "a new one. If the tablets were in fact handed over on this date, say why "
                                        "below; the dispensing is then recorded with this finding.")]},
            code="prescription_void",
        )
    if not late:
        rx.dispensed_late_reason = ""
    positive = selectors.unresolved_positive_test(rx.patient, on=dispensed_date)
    if positive is not None:
        raise ValidationError(
            {"dispensed_date": gettext("POSITIVE pregnancy test of %(date)s with no later negative test: "
                                       "thalidomide stops at once and is not dispensed (R5.2).")
                               % {"date": saying.day(positive)}},
            code="positive_test",
        )
    records.store_prescription_check(rx, check)
    rx.dispensing_recorded_by = actor
    save_with_history(rx, actor)
    _recheck_later(rx, actor, since=rx.issue_date)
    request_rescan(rx.patient_id)
    return rx


@transaction.atomic
def dose_change_with_prescription(*, actor, patient, date, dose_mg, reason="", override_reason="",
                                  days_supply, contraception_confirmed, authorisation=""):
    """A thalidomide dose change and its prescription at the new dose, all or nothing: the
    dose row first (R3.5, its override), then the prescription issued that day, checked
    (R9.3) with the new row on record, so ``dose_mismatch`` sees the new dose. One override
    reason is kept on whichever of the two broke its rules. A refusal names its part
    (``dose:field``, ``prescription:field``)."""
    try:
        row = _record_dose(
            actor=actor, patient=patient, drug=Drug.THALIDOMIDE, date=date, dose_mg=dose_mg, reason=reason,
            override_reason=override_reason,
        )
    except ValidationError as error:
        raise _part_refused("dose", error) from error
    if row.dose_mg == 0:
        raise ValidationError({"dose:dose_mg": gettext("A stop (0 mg) has no prescription: record the stop on Change dose.")})
    try:
        rx = _record_prescription(
            actor=actor, patient=patient, issue_date=date, dose_mg=row.dose_mg, days_supply=days_supply,
            contraception_confirmed=contraception_confirmed, authorisation=authorisation,
            override_reason=override_reason,
        )
    except ValidationError as error:
        raise _part_refused("prescription", error) from error
    return row, rx  # the prescription's save requested the one rescan of the patient
