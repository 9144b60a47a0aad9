"""Dosing services: thalidomide and azathioprine changes, the start-of-therapy
checklist, pregnancy tests and contraception confirmations (R3–R5).

The rules are in the pure module visits/titration.py; this module loads the
patient's records (a fixed number of queries), turns them into the plain
values the rules take, and writes — in one transaction, with history —
only what the rules allow or what a clinician overrode with a reason.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import Regimen, TherapyCourse
from safety.models import PregnancyTest
from thalimon.rules_config import rules_version
from visits import titration
from visits.models import Contact, DoseChange, Drug, Visit

# Deviations that no override can pass in the web form: a positive pregnancy
# test stops thalidomide until a clinician records the stop (R5.2).
HARD_BLOCKS = {"dosed_after_positive_pregnancy_test"}


# --- loading the patient's data as plain values --------------------------------
def dose_rows(patient, drug):
    return [
        titration.DoseRow(date=d.date, dose_mg=d.dose_mg)
        for d in patient.dose_changes.filter(drug=drug).order_by("date")
    ]


def thalidomide_patient(patient, *, visits=None, tests=None):
    """ThalidomidePatient from the patient's record, visits and pregnancy tests."""
    course = TherapyCourse.objects.filter(patient=patient).first()
    if visits is None:
        visits = list(patient.visits.order_by("date"))
    if tests is None:
        tests = list(patient.pregnancy_tests.order_by("date"))
    regimen = ""
    target = None
    if course is not None:
        regimen = course.effective_regimen
        target = course.target_dose_mg
    if not regimen:
        # No course yet: the regimen follows age today (R3.1), re-checked at the start.
        regimen = Regimen.ADULT if patient.age_on(timezone.localdate()) >= 16 else Regimen.PAEDIATRIC
    return titration.ThalidomidePatient(
        regimen=regimen,
        target_dose_mg=target,
        sex=patient.sex,
        female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
        irregular_cycles=patient.irregular_cycles,
        contraception_start=patient.contraception_start,
        weights=tuple((v.date, v.weight_kg) for v in visits if v.weight_kg is not None),
        neuropathy=tuple(
            (v.date, v.neuropathy_grade)
            for v in visits
            if v.contact == Contact.CLINIC and v.neuropathy_grade is not None
        ),
        # R3.5 "while breast-feeding is recorded": any contact that asked (clinic or phone);
        # a contact that did not ask (None) says nothing either way.
        breastfeeding=tuple((v.date, v.breastfeeding) for v in visits if v.breastfeeding is not None),
        pregnancy_tests=tuple(titration.PregnancyTest(date=t.date, result=t.result) for t in tests),
    )


# --- checking -------------------------------------------------------------------
@dataclass
class DoseDecision:
    drug: str
    kind: str = ""
    deviations: list = field(default_factory=list)  # titration.Finding
    warnings: list = field(default_factory=list)
    blocking: list = field(default_factory=list)  # findings that refuse without an override
    hard_blocks: list = field(default_factory=list)  # findings no override can pass
    aza: object = None  # titration.AzaCheck

    @property
    def clean(self):
        return not self.blocking


def check_dose(patient, *, drug, date, dose_mg, history=None):
    """What the rules say about a proposed change, with the data as of its date."""
    dose_mg = Decimal(str(dose_mg))
    if drug == Drug.THALIDOMIDE:
        history = history if history is not None else dose_rows(patient, Drug.THALIDOMIDE)
        check = titration.check_thalidomide_change(
            patient=thalidomide_patient(patient),
            history=[row for row in history if row.date != date],
            proposed=titration.DoseRow(date=date, dose_mg=dose_mg),
        )
        deviations = list(check.deviations)
        return DoseDecision(
            drug=drug,
            kind=check.kind,
            deviations=deviations,
            warnings=list(check.warnings),
            blocking=deviations,
            hard_blocks=[d for d in deviations if d.code in HARD_BLOCKS],
        )
    history = history if history is not None else dose_rows(patient, Drug.AZATHIOPRINE)
    previous = [row for row in history if row.date < date]
    decision = DoseDecision(drug=drug)
    if dose_mg == 0:
        decision.kind = "stop"
        return decision
    weights = tuple((v.date, v.weight_kg) for v in patient.visits.exclude(weight_kg=None))
    decision.aza = titration.check_aza_dose(
        dose_mg=dose_mg,
        on=date,
        weights=weights,
        tpmt=patient.tpmt,
        nudt15=patient.nudt15,
        xanthine_oxidase_inhibitor=patient.xanthine_oxidase_inhibitor,
    )
    decision.warnings = list(decision.aza.warnings)
    starting = not previous or previous[-1].dose_mg == 0
    decision.kind = "first_dose" if starting else "change"
    missing_weight = [w for w in decision.warnings if w.code == "weight_missing"]
    increasing = starting or dose_mg > previous[-1].dose_mg
    if missing_weight and increasing:
        # R4.1 records weight_missing as a warning; an mg/kg dose cannot be checked without
        # a weight, so the web form refuses a start or an increase unless a clinician
        # overrides (safer reading); a reduction is always allowed.
        decision.blocking = list(missing_weight)
        decision.deviations = list(missing_weight)
    if decision.aza.contraindicated and starting:
        # R4.2 refuses *starting* AZA in a poor metaboliser; reducing or tapering is always allowed.
        gate = titration.aza_start_gate(tpmt=patient.tpmt, nudt15=patient.nudt15)
        decision.blocking = [*decision.blocking, *([gate] if gate else [])]
        decision.deviations = list(decision.blocking)
    return decision


def _refusal(decision):
    lines = [f"{finding.reason}" for finding in decision.blocking]
    return ValidationError(
        {"dose_mg": ["This change breaks the dosing rules and was not saved:", *lines]},
        code="dose_refused",
    )


# --- writing --------------------------------------------------------------------
def _sync_course(patient, actor):
    """R3.1: the course start is the first thalidomide row; the stop the next 0 mg row."""
    rows = dose_rows(patient, Drug.THALIDOMIDE)
    dosed = [row for row in rows if row.dose_mg > 0]
    if not dosed:
        return None
    course = TherapyCourse.objects.filter(patient=patient).first() or TherapyCourse(patient=patient)
    start = dosed[0].date
    # The first day without the drug of the latest stop, if the drug is stopped now (R3.1).
    stop = titration.stop_date(rows, rows[-1].date)
    changed = course.pk is None or course.start_date != start or course.stop_date != stop
    if changed:
        course.start_date = start
        course.stop_date = stop
        if stop and not course.stop_reason:
            last = patient.dose_changes.filter(drug=Drug.THALIDOMIDE, date=stop).first()
            course.stop_reason = (last.reason if last else "") or "stopped"
        if not stop:
            course.stop_reason = ""
        course._history_user = actor
        course.save()
    return course


@transaction.atomic
def dose_change_record(
    *, actor, patient, drug, date, dose_mg, reason="", override_reason="", historical=False
):
    """Record a dose change.

    The web form passes ``historical=False``: a change with deviations is
    refused unless ``override_reason`` is given (and never for a hard block).
    Imports pass ``historical=True``: nothing is refused, deviations are stored.
    """
    from visits.services import patient_outcomes_refresh

    row = DoseChange(
        patient=patient,
        drug=drug,
        date=date,
        dose_mg=Decimal(str(dose_mg)),
        reason=reason,
        override_reason=override_reason.strip(),
        decided_by=actor,
    )
    # One decision at a time per patient: two simultaneous steps cannot both pass step_too_soon.
    type(patient).objects.select_for_update().filter(pk=patient.pk).first()
    row.full_clean()
    if not historical:
        later = patient.dose_changes.filter(drug=drug, date__gt=date).order_by("-date").first()
        if later is not None:
            raise ValidationError(
                {"date": f"A {drug} record dated {later.date:%Y-%m-%d} exists; changes are recorded in date "
                         "order (every later row was checked against the rows before it)."}
            )
        if drug == Drug.THALIDOMIDE and row.dose_mg == 0 and not patient.dose_changes.filter(
            drug=drug, dose_mg__gt=0
        ).exists():
            raise ValidationError({"dose_mg": "Thalidomide has not been started: a stop cannot be the first record."})
    decision = check_dose(patient, drug=drug, date=date, dose_mg=row.dose_mg)
    if drug == Drug.THALIDOMIDE and decision.kind in ("first_dose", "restart") and not historical:
        missing = [item for item in checklist(patient, start_date=date).items if not item.done]
        course = TherapyCourse.objects.filter(patient=patient).first()
        # A checklist override covers the start it was written for, never a later restart.
        overridden = bool(course and course.checklist_override_reason and course.checklist_override_date == date)
        if missing and not overridden:
            raise ValidationError(
                {"dose_mg": ["Complete the start-of-therapy checklist first:", *[i.label for i in missing]]},
                code="checklist_incomplete",
            )
    if not historical:
        if decision.hard_blocks:
            raise ValidationError(
                {"dose_mg": [f.reason for f in decision.hard_blocks] + [
                    "No override is possible: record the thalidomide stop (0 mg) first."
                ]},
                code="dose_refused",
            )
        if decision.blocking and not row.override_reason:
            raise _refusal(decision)
    if row.override_reason and not decision.blocking and not historical:
        row.override_reason = ""  # nothing to override: keep the record honest
    row.kind = decision.kind
    row.deviations = [f.code for f in decision.deviations]
    row.warnings = [f.code for f in decision.warnings]
    row.check_reasons = [f.reason for f in decision.deviations + decision.warnings]
    row.rules_version = rules_version()
    row._history_user = actor
    row.save()
    if drug == Drug.THALIDOMIDE:
        before = TherapyCourse.objects.filter(patient=patient).values_list("start_date", flat=True).first()
        course = _sync_course(patient, actor)
        if course and course.start_date != before:
            patient.course = course
            patient_outcomes_refresh(patient)
    return row


@transaction.atomic
def pregnancy_test_record(*, actor, patient, date, result):
    existing = PregnancyTest.objects.filter(patient=patient, date=date).first()
    if existing is not None:
        # Never overwrite a result (a positive turned negative would lift the R5.2 block).
        raise ValidationError(
            {"date": f"A {existing.result} test is already recorded on {date:%Y-%m-%d}; "
                     "a result is never overwritten. Ask a clinician to correct it in the record's history."}
        )
    test = PregnancyTest(patient=patient, date=date, recorded_by=actor)
    test.result = result
    test.full_clean()
    test._history_user = actor
    test.save()
    return test


@transaction.atomic
def contraception_confirm(*, actor, patient, date, contact, confirmed):
    """R5.3: record a confirmation (yes/no) at a clinic visit or by phone."""
    visit = Visit.objects.filter(patient=patient, date=date, contact=contact).first()
    if visit is None:
        visit = Visit(patient=patient, date=date, contact=contact, created_by=actor)
    visit.contraception_confirmed = confirmed
    visit.full_clean()
    visit._history_user = actor
    visit.save()
    return visit


# --- the start-of-therapy checklist ------------------------------------------------
@dataclass
class ChecklistItem:
    key: str
    label: str
    done: bool
    detail: str
    rule: str


@dataclass
class Checklist:
    items: list
    start_date: object

    @property
    def complete(self):
        return all(item.done for item in self.items)


def checklist(patient, *, start_date, with_azathioprine=True):
    """What must be true before the first thalidomide dose on ``start_date``."""
    course = TherapyCourse.objects.filter(patient=patient).first()
    items = [
        ChecklistItem(
            key="consent",
            label="Teratogenicity consent signed",
            done=bool(course and course.consent_signed_date and course.consent_signed_date <= start_date),
            detail=(
                f"signed {course.consent_signed_date:%Y-%m-%d}"
                if course and course.consent_signed_date
                else "not recorded"
            ),
            rule="R5",
        )
    ]
    if patient.is_female_of_reproductive_potential:
        tests = [
            titration.PregnancyTest(date=t.date, result=t.result)
            for t in patient.pregnancy_tests.filter(date__lte=start_date)
        ]
        ok, why = titration.pre_start_tests_ok(tests, start_date)
        items.append(
            ChecklistItem(
                key="pregnancy_tests",
                label="Two negative pregnancy tests (day −14 to −10, and day −1 or 0)",
                done=ok,
                detail=why,
                rule="R5.2",
            )
        )
        counselled = bool(course and course.contraception_counselling_date)
        items.append(
            ChecklistItem(
                key="contraception",
                label="Contraception counselling, two methods from 4 weeks before the start",
                done=counselled
                and bool(patient.contraception_start)
                and patient.contraception_start <= start_date - timedelta(days=28),
                detail=(
                    f"counselled {course.contraception_counselling_date:%Y-%m-%d}; " if counselled else "no counselling recorded; "
                )
                + (
                    f"contraception from {patient.contraception_start:%Y-%m-%d}"
                    if patient.contraception_start
                    else "no contraception start recorded"
                ),
                rule="R5.3",
            )
        )
    if with_azathioprine:
        known = patient.tpmt != "unknown" and patient.nudt15 != "unknown"
        poor = "poor" in (patient.tpmt, patient.nudt15)
        items.append(
            ChecklistItem(
                key="genotype",
                label="TPMT and NUDT15 results recorded for azathioprine",
                done=known,
                detail=(
                    f"TPMT {patient.tpmt}, NUDT15 {patient.nudt15}"
                    + ("; poor metaboliser: azathioprine is contraindicated (R4.2)" if poor else "")
                ),
                rule="R4.2",
            )
        )
    return Checklist(items=items, start_date=start_date)


@transaction.atomic
def therapy_start(
    *, actor, patient, start_date, dose_mg, target_dose_mg=None, regimen="", regimen_reason="",
    consent_signed_date=None, contraception_counselling_date=None, override_reason="",
    dose_override_reason="",
):
    """Record the checklist facts and the first thalidomide dose in one step.

    ``override_reason`` covers an incomplete checklist for this start only;
    deviations of the first dose itself (R3.5) need their own
    ``dose_override_reason``, written after the clinician has seen them."""
    from visits.services import patient_outcomes_refresh

    course = TherapyCourse.objects.filter(patient=patient).first() or TherapyCourse(patient=patient)
    course.start_date = start_date
    course.target_dose_mg = target_dose_mg
    course.regimen = regimen
    course.regimen_reason = regimen_reason
    course.consent_signed_date = consent_signed_date
    course.contraception_counselling_date = contraception_counselling_date
    course.full_clean()
    course._history_user = actor
    course.save()
    state = checklist(patient, start_date=start_date)
    if not state.complete:
        if not override_reason.strip():
            raise ValidationError(
                {"override_reason": [
                    "The checklist is incomplete; a clinician may start only with an override reason:",
                    *[item.label for item in state.items if not item.done],
                ]}
            )
        course.checklist_override_reason = override_reason.strip()
        course.checklist_override_date = start_date
        course.checklist_override_missing = [item.key for item in state.items if not item.done]
        course.save()
    row = dose_change_record(
        actor=actor, patient=patient, drug=Drug.THALIDOMIDE, date=start_date, dose_mg=dose_mg,
        reason="start", override_reason=dose_override_reason,
    )
    patient.course = course
    patient_outcomes_refresh(patient)  # day 0 moves the baseline window and every status
    return row
