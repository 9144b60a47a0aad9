"""Therapy rows (stored or imported) → the plain records the R3–R5 rules take.

The one definition of each therapy derivation used by the dose page, the dose
actions, the reminder scan, the patient page, the visit PDF and the importer:

* the titration input of a patient (``thalidomide_input``) and its effective
  target dose (``effective_target``: the paediatric cap for children, R3.3);
* the decision on a proposed dose (``decide_thalidomide``, ``decide_azathioprine``:
  the R3.5 deviation codes, the R4.1 warnings and the R4.2 genotype gate);
* the course dates and stop reason that follow the thalidomide rows (R3.1);
* the start-of-therapy checklist (R5, R4.2);
* the programme profile in force and the R9 check of a prescription (``check_prescription_for``).

Functions take model instances or any object with the same attributes (the
importer's unsaved rows); loaders (``*_for``) read the database in a fixed
number of queries.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext

from thalimon import saying
from thalimon.rules_config import rule_settings, rules_version
from therapy.models import DoseChange, Drug, PregnancyTest, Prescription, Regimen, TherapyCourse
from therapy.rules import azathioprine as aza_rules
from therapy.rules import doses as dose_rules
from therapy.rules import pregnancy as pregnancy_rules
from therapy.rules import prescriptions as prescription_rules
from therapy.rules import thalidomide as thalidomide_rules
from therapy.rules import thalidomide_check
from visits.models import Contact, Visit

# Deviations no override can pass in the web form: a positive pregnancy test stops
# thalidomide until a clinician records the stop (R5.2).
HARD_BLOCKS = frozenset({"dosed_after_positive_pregnancy_test"})
ADULT_FROM_AGE = 16  # R3.1: adult regimen from the 16th birthday at the start
STOPPED = "stopped"  # the stop reason when the 0 mg row gives none
START_KINDS = (dose_rules.ChangeKind.FIRST_DOSE, dose_rules.ChangeKind.RESTART)  # R3.1: a (new) start


# --- loading ---------------------------------------------------------------------
def course_of(patient):
    """The patient's thalidomide course as stored now, or None."""
    return TherapyCourse.objects.filter(patient=patient).first()


def dose_history(rows):
    """Plain dose rows, in date order, from rows with ``date`` and ``dose_mg``."""
    return sorted((dose_rules.DoseRow(date=r.date, dose_mg=r.dose_mg) for r in rows), key=lambda r: r.date)


def doses_by_drug(rows):
    """{drug: [DoseRow]} in date order from dose rows of one patient (stored or imported)."""
    by_drug = {Drug.THALIDOMIDE: [], Drug.AZATHIOPRINE: []}
    for row in rows:
        by_drug[row.drug].append(row)
    return {drug: dose_history(drug_rows) for drug, drug_rows in by_drug.items()}


def dose_rows_for(patient, drug, *, until=None):
    """One drug's dose rows of one patient (one query)."""
    queryset = DoseChange.objects.filter(patient=patient, drug=drug)
    if until is not None:
        queryset = queryset.filter(date__lte=until)
    return [dose_rules.DoseRow(date=d, dose_mg=v) for d, v in queryset.order_by("date").values_list("date", "dose_mg")]


def doses_by_drug_for(patient_id, *, until=None):
    """{drug: [DoseRow]} of one patient, both drugs in one query."""
    queryset = DoseChange.objects.filter(patient_id=patient_id)
    if until is not None:
        queryset = queryset.filter(date__lte=until)
    rows = {Drug.THALIDOMIDE: [], Drug.AZATHIOPRINE: []}
    for drug, day, dose in queryset.order_by("date").values_list("drug", "date", "dose_mg"):
        rows[drug].append(dose_rules.DoseRow(date=day, dose_mg=dose))
    return rows


def azathioprine_active(rows, on):
    """On azathioprine on ``on`` (R4.4 tiers): a non-zero dose in force."""
    return bool(rows) and dose_rules.current_dose(rows, on) > 0


def thalidomide_active(rows, on):
    return bool(rows) and dose_rules.thalidomide_active(rows, on)


# --- the titration input -----------------------------------------------------------
def regimen_of(patient, course, *, today):
    """R3.1: the course's regimen; without a course, the one of the patient's age today
    (re-checked at the start)."""
    regimen = course.effective_regimen if course is not None else ""
    if regimen:
        return regimen
    return Regimen.ADULT if patient.age_on(today) >= ADULT_FROM_AGE else Regimen.PAEDIATRIC


def thalidomide_input(patient, *, course, visits, tests, today):
    """The ThalidomidePatient of R3/R5 from the patient, course, visits and tests given."""
    return thalidomide_rules.ThalidomidePatient(
        regimen=regimen_of(patient, course, today=today),
        target_dose_mg=course.target_dose_mg if course is not None else None,
        sex=patient.sex,
        female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
        irregular_cycles=patient.irregular_cycles,
        contraception_start=patient.contraception_start,
        weights=weights_of(visits),
        # R3.4: a neuropathy grade is assessed at clinic visits only.
        neuropathy=tuple(
            (v.date, v.neuropathy_grade) for v in visits if v.contact == Contact.CLINIC and v.neuropathy_grade is not None
        ),
        # R3.5 "while breast-feeding is recorded": any contact that asked (clinic or phone);
        # a contact that did not ask (None) says nothing either way.
        breastfeeding=tuple((v.date, v.breastfeeding) for v in visits if v.breastfeeding is not None),
        pregnancy_tests=tuple(pregnancy_rules.PregnancyTest(date=t.date, result=t.result) for t in tests),
    )


def weights_of(visits):
    return tuple((v.date, v.weight_kg) for v in visits if v.weight_kg is not None)


def thalidomide_patient(patient, *, visits=None, tests=None, until=None):
    """The titration input of a stored patient (loads what is not given)."""
    if visits is None:
        visits = Visit.objects.filter(patient=patient)
        visits = list((visits.filter(date__lte=until) if until else visits).order_by("date"))
    if tests is None:
        tests = PregnancyTest.objects.filter(patient=patient)
        tests = list((tests.filter(date__lte=until) if until else tests).order_by("date"))
    return thalidomide_input(patient, course=course_of(patient), visits=visits, tests=tests, today=timezone.localdate())


def effective_target_for(patient, *, course, weights, on, today):
    """``effective_target`` of a patient from the course and weights alone (what the rule
    reads of the titration input): the reminder scan's cheap path to the same figure."""
    if course is None:
        return None
    probe = thalidomide_rules.ThalidomidePatient(
        regimen=regimen_of(patient, course, today=today), target_dose_mg=course.target_dose_mg, sex=patient.sex,
        female_of_reproductive_potential=False, irregular_cycles=None, contraception_start=None,
        weights=tuple(weights),
    )
    return effective_target(probe, on)


def effective_target(thal_patient, on):
    """The target dose the schedule steps towards on ``on``: adult, the recorded one
    (default 100, never above 100); paediatric, the R3.3 cap (a lower recorded target
    is used instead). None when a child's cap cannot be set (no recent weight)."""
    return thalidomide_rules.effective_target(thal_patient, on)


# --- dose decisions -----------------------------------------------------------------
@dataclass
class DoseDecision:
    drug: str
    kind: str = ""
    deviations: list = field(default_factory=list)  # Finding: stored on the row
    warnings: list = field(default_factory=list)  # Finding: stored on the row
    blocking: list = field(default_factory=list)  # refuse in the web form without an override
    hard_blocks: list = field(default_factory=list)  # no override can pass
    aza: object = None  # aza_rules.AzaCheck

    @property
    def clean(self):
        return not self.blocking

    @property
    def starts_thalidomide(self):
        """A thalidomide first dose, or a new start more than 28 days after a stop (R3.1):
        recorded only by the start-of-therapy checklist."""
        return self.drug == Drug.THALIDOMIDE and self.kind in START_KINDS


def decide_thalidomide(thal_patient, *, history, proposed):
    """R3.5 on a proposed thalidomide row against the rows before it."""
    check = thalidomide_check.check_thalidomide_change(
        patient=thal_patient, history=[row for row in history if row.date != proposed.date], proposed=proposed
    )
    deviations = list(check.deviations)
    return DoseDecision(
        drug=Drug.THALIDOMIDE,
        kind=check.kind,
        deviations=deviations,
        warnings=list(check.warnings),
        blocking=deviations,
        hard_blocks=[d for d in deviations if d.code in HARD_BLOCKS],
    )


def decide_thalidomide_history(thal_patient, history):
    """R3.5 on every row of a whole history (the importer): one DoseDecision a row."""
    return [
        DoseDecision(
            drug=Drug.THALIDOMIDE, kind=check.kind, deviations=list(check.deviations),
            warnings=list(check.warnings), blocking=list(check.deviations),
            hard_blocks=[d for d in check.deviations if d.code in HARD_BLOCKS],
        )
        for check in thalidomide_check.check_thalidomide_history(patient=thal_patient, history=history)
    ]


def decide_azathioprine(patient, *, weights, previous_dose, dose_mg, on):
    """R4.1 dose warnings and the R4.2 genotype gate on a proposed azathioprine dose.

    ``previous_dose`` is the dose in force before (None: never given). Stored: the
    gate (starting in a poor metaboliser) as a deviation, the R4.1 warnings as
    warnings. The web form also refuses, unless overridden, a start or an increase
    without a recent weight (``weight_missing``: an mg/kg dose cannot be checked —
    the safer reading); a reduction or a stop is always allowed.
    """
    dose_mg = Decimal(str(dose_mg))
    decision = DoseDecision(drug=Drug.AZATHIOPRINE)
    if dose_mg == 0:
        decision.kind = "stop"
        return decision
    starting = previous_dose is None or previous_dose == 0
    decision.kind = "first_dose" if starting else "change"
    decision.aza = aza_rules.check_aza_dose(
        dose_mg=dose_mg, on=on, weights=weights, tpmt=patient.tpmt, nudt15=patient.nudt15,
        xanthine_oxidase_inhibitor=patient.xanthine_oxidase_inhibitor,
    )
    decision.warnings = list(decision.aza.warnings)
    if decision.aza.contraindicated and starting:
        gate = aza_rules.aza_start_gate(tpmt=patient.tpmt, nudt15=patient.nudt15)
        decision.deviations = [gate] if gate else []
    increasing = starting or dose_mg > previous_dose
    missing_weight = [w for w in decision.warnings if w.code == "weight_missing"] if increasing else []
    decision.blocking = [*missing_weight, *decision.deviations]
    return decision


def check_dose(patient, *, drug, date, dose_mg):
    """What the rules say about a proposed change of a stored patient, with the data as of its date."""
    dose_mg = Decimal(str(dose_mg))
    history = dose_rows_for(patient, drug)
    if drug == Drug.THALIDOMIDE:
        return decide_thalidomide(
            thalidomide_patient(patient), history=history, proposed=dose_rules.DoseRow(date=date, dose_mg=dose_mg)
        )
    previous = [row for row in history if row.date < date]
    weights = weights_of(Visit.objects.filter(patient=patient).exclude(weight_kg=None).only("date", "weight_kg"))
    return decide_azathioprine(
        patient, weights=weights, previous_dose=previous[-1].dose_mg if previous else None, dose_mg=dose_mg, on=date
    )


# --- the course follows the thalidomide rows (R3.1) ----------------------------------
def course_dates(rows):
    """(start, stop) of the thalidomide rows: the first non-zero row, and the first day
    without the drug of the latest stop when it is stopped now; (None, None) if never given."""
    rows = sorted(rows, key=lambda r: r.date)
    dosed = [row for row in rows if row.dose_mg > 0]
    if not dosed:
        return None, None
    return dosed[0].date, dose_rules.stop_date(rows, rows[-1].date)


def stop_reason(*, current_reason, current_stop, new_stop, zero_row_reason):
    """The course's stop reason after its stop date became ``new_stop``: empty when
    ongoing; kept while the stop date stays; else the reason of the 0 mg row (or "stopped")."""
    if new_stop is None:
        return ""
    if current_reason and current_stop == new_stop:
        return current_reason
    return (zero_row_reason or STOPPED)[:200]


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

    @property
    def missing(self):
        return [item for item in self.items if not item.done]


def _consent_item(course, start_date):
    signed = course.consent_signed_date if course else None
    return ChecklistItem(
        key="consent",
        label=gettext("Teratogenicity consent signed"),
        done=bool(signed and signed <= start_date),
        detail=gettext("signed %(date)s") % {"date": saying.day(signed)} if signed else gettext("not recorded"),
        rule="R5",
    )


def _pregnancy_items(patient, course, start_date):
    tests = [
        pregnancy_rules.PregnancyTest(date=t.date, result=t.result)
        for t in PregnancyTest.objects.filter(patient=patient, date__lte=start_date)
    ]
    ok, why = pregnancy_rules.pre_start_tests_ok(tests, start_date)
    counselled = course.contraception_counselling_date if course else None
    since = patient.contraception_start
    lead_days = pregnancy_rules.CONTRACEPTION_LEAD_DAYS
    return [
        ChecklistItem(
            key="pregnancy_tests",
            label=gettext("Two negative pregnancy tests (day −14 to −10, and day −1 or 0)"),
            done=ok, detail=why, rule="R5.2",
        ),
        ChecklistItem(
            key="contraception",
            label=gettext("Contraception counselling, two methods from %(weeks)s weeks before the start")
            % {"weeks": lead_days // 7},
            done=bool(counselled) and bool(since) and since <= start_date - timedelta(days=lead_days),
            detail="; ".join([
                gettext("counselled %(date)s") % {"date": saying.day(counselled)} if counselled
                else gettext("no counselling recorded"),
                gettext("contraception from %(date)s") % {"date": saying.day(since)} if since
                else gettext("no contraception start recorded"),
            ]),
            rule="R5.3",
        ),
    ]


def _genotype_words(status):
    """A TPMT/NUDT15 status code as the checklist prints it (the code's own word)."""
    words = {"normal": gettext("normal"), "intermediate": gettext("intermediate"), "poor": gettext("poor"),
             "unknown": gettext("unknown")}
    return words.get(status, status)


def _genotype_item(patient):
    known = patient.tpmt != "unknown" and patient.nudt15 != "unknown"
    poor = "poor" in (patient.tpmt, patient.nudt15)
    return ChecklistItem(
        key="genotype",
        label=gettext("TPMT and NUDT15 results recorded for azathioprine"),
        done=known,
        detail=f"TPMT {_genotype_words(patient.tpmt)}, NUDT15 {_genotype_words(patient.nudt15)}"
        + ("; " + gettext("poor metaboliser: azathioprine is contraindicated (R4.2)") if poor else ""),
        rule="R4.2",
    )


def checklist(patient, *, start_date, with_azathioprine=True, course=None):
    """What must be true before the first thalidomide dose on ``start_date``."""
    course = course if course is not None else course_of(patient)
    items = [_consent_item(course, start_date)]
    if patient.is_female_of_reproductive_potential:
        items += _pregnancy_items(patient, course, start_date)
    if with_azathioprine:
        items.append(_genotype_item(patient))
    return Checklist(items=items, start_date=start_date)


def checklist_overridden(course, start_date):
    """A checklist override covers the start it was written for, never a later restart."""
    return bool(course and course.checklist_override_reason and course.checklist_override_date == start_date)


# --- the start as the course page shows it (read-only) --------------------------------
@dataclass
class StartRecord:
    """The thalidomide start of a patient: day 0 of the course, its first dose row (None for
    an imported start without dose rows), the latest (new) start, whether thalidomide is
    taken on ``on``, and the checklist items not on record for day 0 (none when overridden)."""

    course: object
    first_dose: object
    latest_start: object
    active: bool
    stopped_on: object
    checklist_missing: list

    @property
    def started(self):
        return self.first_dose is not None


def start_record_for(patient, *, on):
    """The StartRecord of a stored patient (a few queries)."""
    course = course_of(patient)
    rows = list(
        DoseChange.objects.filter(patient=patient, drug=Drug.THALIDOMIDE, date__lte=on)
        .select_related("decided_by").order_by("date")
    )
    history = dose_history(rows)
    missing = []
    if course is not None and not checklist_overridden(course, course.start_date):
        missing = checklist(patient, start_date=course.start_date, course=course).missing
    return StartRecord(
        course=course,
        first_dose=next((row for row in rows if row.dose_mg > 0), None),
        latest_start=dose_rules.course_start(history, on) if history else None,
        active=thalidomide_active(history, on),
        stopped_on=dose_rules.stop_date(history, on) if history else None,
        checklist_missing=missing,
    )


# --- prescriptions (R9) ---------------------------------------------------------------
def prescription_programme():
    """The R9.1 programme profile in force: ``prescription_programme`` and the unit strength
    from the rule settings, each ``prescription_<value>`` override applied (None = the
    profile's value; ``prescription_dispense_days_other`` 0 = not checked)."""
    chosen = rule_settings()
    overrides = {}
    for name in prescription_rules.PROFILES[chosen.prescription_programme]:
        value = getattr(chosen, f"prescription_{name}")
        if value is not None:
            overrides[name] = None if name == "dispense_days_other" and value == 0 else value
    return prescription_rules.programme(
        chosen.prescription_programme, unit_mg=chosen.thalidomide_unit_mg,
        halves_allowed=chosen.thalidomide_unit_halves_allowed, **overrides,
    )


def prescription_row(prescription):
    """The plain R9 row of a prescription (stored, or any object with the same attributes)."""
    return prescription_rules.PrescriptionRow(
        issue_date=prescription.issue_date, dose_mg=Decimal(str(prescription.dose_mg)),
        days_supply=prescription.days_supply, contraception_confirmed=bool(prescription.contraception_confirmed),
        dispensed_date=prescription.dispensed_date, authorisation=prescription.authorisation or "",
    )


def store_prescription_check(rx, check, *, programme=None, version=None):
    """Set a prescription's computed fields from its R9 check (the web actions and the import
    alike): the profile, risk category, dispense-by date, quantity, codes in R9.3 table order
    with their reasons, and the rules version."""
    rx.programme = (programme or prescription_programme()).name
    rx.risk_category = check.risk_category
    rx.dispense_by = check.dispense_by
    rx.quantity_units = check.quantity_units
    rx.deviations = list(check.codes)
    rx.check_reasons = [f.reason for f in check.deviations]
    rx.rules_version = version or rules_version()


PRESCRIPTION_ROW_FIELDS = (
    "issue_date", "dose_mg", "days_supply", "contraception_confirmed", "dispensed_date", "authorisation",
)


def plain_prescription(values):
    """The PrescriptionRow of a prescription's ``PRESCRIPTION_ROW_FIELDS`` values (a dict)."""
    return prescription_rules.PrescriptionRow(**values)


def prescription_rows(patient, *, exclude_id=None):
    """The patient's prescriptions as plain rows, in issue-date order (one query)."""
    queryset = Prescription.objects.filter(patient=patient)
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    return [
        plain_prescription(dict(zip(PRESCRIPTION_ROW_FIELDS, values, strict=True)))
        for values in queryset.order_by("issue_date").values_list(*PRESCRIPTION_ROW_FIELDS)
    ]


def check_prescription_for(patient, row, *, exclude_id=None):
    """R9.2/R9.3 on ``row`` (a PrescriptionRow) of a stored patient against the patient's facts,
    thalidomide rows and other prescriptions (``exclude_id``: the stored one being edited).
    A fixed number of queries (the patient's course, visits and tests, doses, prescriptions)."""
    return prescription_rules.check_prescription(
        thalidomide_patient(patient), birth_date=patient.birth_date,
        doses=dose_rows_for(patient, Drug.THALIDOMIDE),
        prescriptions=prescription_rows(patient, exclude_id=exclude_id),
        row=row, programme=prescription_programme(),
    )


def prescription_run_out_for(patient, *, as_of):
    """R9.4 (run-out date, prescription due date) of a stored patient on ``as_of``."""
    facts = dict(
        birth_date=patient.birth_date, doses=dose_rows_for(patient, Drug.THALIDOMIDE),
        prescriptions=prescription_rows(patient), programme=prescription_programme(), as_of=as_of,
    )
    probe = prescription_rules.category_patient(
        sex=patient.sex, female_of_reproductive_potential=patient.is_female_of_reproductive_potential
    )
    return prescription_rules.run_out_date(probe, **facts), prescription_rules.prescription_due(probe, **facts)
