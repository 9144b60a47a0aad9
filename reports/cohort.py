"""Pure cohort statistics: the clinic lead's report (clinical-rules.md R8; Li 2020 tables).

No Django imports and no clock: plain frozen dataclasses and an explicit ``as_of`` in,
the JSON-ready dict of interfaces.md §3 out. Records dated after ``as_of`` are ignored
everywhere (visits, labs, endoscopies, adverse events, dose rows, a stop date or a
status date after it). Nothing raises for missing data: a figure that cannot be
computed is ``None``.

Arithmetic is exact (``Decimal``) up to the reported figure, which alone is rounded,
half up, with ``ROUND_HALF_UP``: percentages 1 decimal; means, SDs, medians, quartiles,
months (and rates) 2 decimals; survival proportions 3 decimals. Means and sample SDs
(n − 1) and NumPy's default linear-interpolation percentiles are computed in
``Decimal`` so that a value exactly on a half (2.675) is rounded up, which float
arithmetic cannot promise. Kaplan–Meier comes from ``lifelines`` (never hand-written).
The arithmetic, the rounding and Kaplan–Meier are in reports/statistics.py.

Readings chosen where the spec is open are marked "Ambiguity" below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from reports.prescription_figures import CohortPrescription
from reports.statistics import exact
from therapy.rules.doses import DoseRow, cumulative_dose_g
from visits.endoscopy_outcomes import (
    ENDOSCOPIC_SCORES,
    EndoObs,
    endoscopic_baseline,
    endoscopic_outcomes,
)
from visits.outcomes import (
    RELAPSE,
    REMISSION,
    RESPONSE,
    Baseline,
    VisitObs,
    baseline_cdai,
    iter_clinical_statuses,
    status_of,
)

# ---------------------------------------------------------------------------
# Constants (clinical-rules.md)
# ---------------------------------------------------------------------------

INDUCTION_WEEKS = (4, 8, 12, 24)
WINDOW_HALF_WIDTH_DAYS = {4: 7, 8: 7, 12: 7, 24: 14}  # R8: ±7 days, ±14 for week 24
RESPONSE_BY_DAY = 182  # R8: response on or before the end of the week-24 window
LAB_WINDOW_DAYS = 3  # R8: CRP/ESR nearest the assessment visit within ±3 days
CENSORING_STATUSES = ("died", "transferred", "lost")  # R7/R8
ALL_DIAGNOSES = "all"  # the report over every diagnosis (an addition to R8's --diagnosis)
# CDAI (R1.1), R2.2/R2.3 and the endoscopic scores R2.4 judges are Crohn's disease
# measures: in the all-diagnoses report the blocks built on them cover these patients only.
ACTIVITY_DIAGNOSIS = "CD"
ACTIVITY_BLOCKS = ("induction", "relapse_free", "endoscopy")
WITHDRAWAL_KEYS = ("thalidomide_withdrawn", "azathioprine_withdrawn", "both_withdrawn")
# R6 vocabulary, in the spec's order (by_term lists every code, 0 when absent).
AE_TERMS = (
    "peripheral_neuropathy",
    "somnolence",
    "vertigo",
    "fatigue",
    "insomnia",
    "leukopenia",
    "constipation",
    "arthralgia",
    "menstrual_disorder",
    "alopecia",
    "pulmonary_infection",
    "blurred_vision",
    "tremor",
    "chest_distress",
    "venous_thromboembolism",
    "rash",
    "herpes_zoster",
    "anorexia",
    "bradycardia",
    "nausea",
    "hepatotoxicity",
    "pancreatitis",
    "thrombocytopenia",
    "other",
)
NERVOUS_SYSTEM_TERMS = ("peripheral_neuropathy", "somnolence", "vertigo", "fatigue", "insomnia")
WITHDRAWN = "withdrawn"
PAIRED_SCORES = ("cdeis", "rutgeerts")  # mean (SD) at baseline and last follow-up, paired

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortVisit:
    date: date
    contact: str  # "clinic" | "phone"
    cdai: int | None
    relapse_event: str = ""  # R2.3 events


@dataclass(frozen=True)
class CohortLab:
    date: date
    test: str  # "crp" | "esr" | ...
    value: Decimal


@dataclass(frozen=True)
class CohortAdverseEvent:
    onset: date
    term: str  # R6 code
    drug: str
    action_thalidomide: str  # none | reduced | interrupted | withdrawn
    action_azathioprine: str
    hospitalised: bool


@dataclass(frozen=True)
class CohortDose:
    date: date
    dose_mg: Decimal
    deviations: tuple[str, ...] = ()
    overridden: bool = False


@dataclass(frozen=True)
class CohortPatient:
    code: str
    diagnosis: str  # CD | UC | AID
    start: date | None  # thalidomide day 0 (None: not in the cohort)
    stop: date | None  # first day off (None = ongoing)
    status: str = "active"  # died | transferred | lost → censored at status_date (R7/R8)
    status_date: date | None = None
    recorded_baseline_cdai: Decimal | None = None  # the patient's baseline_cdai (R2.1)
    crp_at_lor: Decimal | None = None
    esr_at_lor: Decimal | None = None
    visits: tuple[CohortVisit, ...] = ()
    labs: tuple[CohortLab, ...] = ()
    endoscopies: tuple[EndoObs, ...] = ()  # from visits.endoscopy_outcomes
    adverse_events: tuple[CohortAdverseEvent, ...] = ()
    thalidomide_doses: tuple[CohortDose, ...] = ()
    prescriptions: tuple[CohortPrescription, ...] = ()
    site: str = ""  # the code of the site the patient belongs to now (issue 18; "" when not said)


# ---------------------------------------------------------------------------
# One course, as of the report date
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Course:
    patient: CohortPatient
    start: date
    visits: tuple[VisitObs, ...]  # dated on or before as_of; key = index
    labs: dict[str, tuple[CohortLab, ...]]  # dated on or before as_of, by test (lower case)
    baseline: Baseline
    stop: date | None  # None when ongoing on as_of
    status_end: date | None  # died/transferred/lost on or before as_of
    scored_clinic_visits: tuple[tuple[int, VisitObs], ...] = ()  # (day, visit): clinic visits with a CDAI

    def day(self, when: date) -> int:
        return (when - self.start).days

    @property
    def last_clinic_visit(self) -> date | None:
        dates = [visit.date for visit in self.visits if visit.contact == "clinic"]
        return max(dates) if dates else None


def in_cohort(patient: CohortPatient, as_of: date, diagnosis: str) -> bool:
    """R8 cohort: the diagnosis (any, for ``ALL_DIAGNOSES``) and a start on or before as_of."""
    wanted = (diagnosis or "").upper()
    return (
        (wanted == ALL_DIAGNOSES.upper() or (patient.diagnosis or "").upper() == wanted)
        and patient.start is not None
        and patient.start <= as_of
    )


def in_activity_cohort(patient: CohortPatient, diagnosis: str) -> bool:
    """``activity_cohort`` for one cohort patient."""
    return (diagnosis or "").upper() != ALL_DIAGNOSES.upper() or (patient.diagnosis or "").upper() == ACTIVITY_DIAGNOSIS


def activity_cohort(cohort: list[_Course], diagnosis: str) -> list[_Course]:
    """The patients of the CDAI-based blocks: the cohort itself for one diagnosis (R8 as
    written); for all diagnoses, its Crohn's disease patients only (a UC or AID patient
    has no CDAI, so counting him as "not responding" would say something false)."""
    if (diagnosis or "").upper() != ALL_DIAGNOSES.upper():
        return cohort  # the same list: callers tell "Crohn's patients only" by identity
    return [c for c in cohort if in_activity_cohort(c.patient, diagnosis)]


def course_as_of(patient: CohortPatient, as_of: date) -> _Course:
    """One patient's course as of the report date (later records left out)."""
    visits = tuple(  # VisitObs(key, date, contact, cdai, relapse_event), positionally: there are many
        VisitObs(index, visit.date, visit.contact, visit.cdai, visit.relapse_event or "")
        for index, visit in enumerate(v for v in patient.visits if v.date <= as_of)
    )
    status_end = None
    if (
        patient.status in CENSORING_STATUSES
        and patient.status_date is not None
        and patient.status_date <= as_of
    ):
        status_end = patient.status_date
    return _Course(
        patient=patient,
        start=patient.start,
        visits=visits,
        labs=_labs_by_test(patient.labs, as_of),
        baseline=baseline_cdai(
            recorded=patient.recorded_baseline_cdai, visits=list(visits), start_date=patient.start
        ),
        stop=patient.stop if patient.stop is not None and patient.stop <= as_of else None,
        status_end=status_end,
        scored_clinic_visits=tuple(
            ((visit.date - patient.start).days, visit)
            for visit in visits
            if visit.contact == "clinic" and visit.cdai is not None
        ),
    )


def _labs_by_test(labs, as_of: date) -> dict[str, tuple[CohortLab, ...]]:
    by_test = {}
    for lab in labs:
        if lab.date <= as_of:
            by_test.setdefault(lab.test.lower(), []).append(lab)
    return {test: tuple(rows) for test, rows in by_test.items()}


def _nearest_lab(course: _Course, test: str, around: date, within: int) -> Decimal | None:
    """The ``test`` result nearest ``around`` within ±``within`` days.

    Ambiguity: two results equally near (3 days before and 3 days after) → the EARLIER,
    as R8 breaks visit ties and R2.1 endoscopy ties; two on one date (which the natural
    key patient + date + test rules out) → the higher, which never overstates improvement.
    """
    near = [
        (abs((lab.date - around).days), lab.date, -exact(lab.value), exact(lab.value))
        for lab in course.labs.get(test, ())
        if lab.value is not None
        and abs((lab.date - around).days) <= within
    ]
    return min(near)[3] if near else None


def _week0_lab(course: _Course, test: str) -> Decimal | None:
    """R2.1: crp_at_lor / esr_at_lor, else the lab of the baseline visit (same date)."""
    recorded = course.patient.crp_at_lor if test == "crp" else course.patient.esr_at_lor
    if recorded is not None:
        return exact(recorded)
    if course.baseline.visit_key is None:
        return None
    visit = course.visits[course.baseline.visit_key]
    return _nearest_lab(course, test, visit.date, 0)


def induction_window(week: int) -> tuple[int, int]:
    half = WINDOW_HALF_WIDTH_DAYS[week]
    return 7 * week - half, 7 * week + half


def assessment_visit(course: _Course, week: int) -> VisitObs | None:
    """R8: the clinic visit with a CDAI nearest day 7w within the window; ties → the earlier.

    Ambiguity: two such visits on one date → the one with the HIGHER CDAI (response is
    never overstated).
    """
    first, last = induction_window(week)
    candidates = [
        (abs(day - 7 * week), visit.date, -visit.cdai, visit.key)
        for day, visit in course.scored_clinic_visits
        if first <= day <= last
    ]
    return course.visits[min(candidates)[3]] if candidates else None


def first_response(course: _Course, remission_below: int, response_drop: int):
    """The first clinic visit (day ≥ 1) meeting R2.2 response: the R2.3 maintenance start."""
    if course.baseline.cdai is None:
        return None
    for visit in sorted(course.visits, key=lambda v: v.date):
        if visit.contact != "clinic" or visit.cdai is None or course.day(visit.date) < 1:
            continue
        if status_of(visit.cdai, course.baseline.cdai, remission_below, response_drop) in (RESPONSE, REMISSION):
            return visit
    return None


def week_outcome(course: _Course, week: int, as_of: date, remission_below: int, response_drop: int):
    """R8 at week w for one patient: None while the window is open (not in the denominator),
    else (the assessment visit or None, its R2.2 status or None = counts as not responding)."""
    if (as_of - course.start).days <= induction_window(week)[1]:
        return None
    visit = assessment_visit(course, week)
    if visit is None or course.baseline.cdai is None:
        return visit, None  # no assessment, or no baseline: not classifiable
    return visit, status_of(visit.cdai, course.baseline.cdai, remission_below, response_drop)


def relapse_follow_up(
    c: _Course, as_of: date, remission_below: int, response_drop: int
) -> tuple[int, bool] | None:
    """One patient's relapse-free follow-up: (days from the first response, relapsed?);
    None when there was no response by day 182 (not in the analysis)."""
    origin = first_response(c, remission_below, response_drop)
    if origin is None or c.day(origin.date) > RESPONSE_BY_DAY:
        return None
    limits = [d for d in (c.stop, c.status_end) if d is not None]
    end = min(limits) if limits else None  # an event on the stop date counts
    statuses = iter_clinical_statuses(
        visits=list(c.visits),
        baseline=c.baseline,
        start_date=c.start,
        as_of=as_of,
        remission_below=remission_below,
        response_drop=response_drop,
        explain=False,
    )
    # The statuses come in date order: the first relapse from the origin on is the earliest.
    relapse = next(
        (c.visits[s.key].date for s in statuses if s.status == RELAPSE and c.visits[s.key].date >= origin.date),
        None,
    )
    if relapse is not None and (end is None or relapse <= end):
        return (relapse - origin.date).days, True
    censor = min([c.last_clinic_visit, *limits])
    return max((censor - origin.date).days, 0), False


def withdrawal(event: CohortAdverseEvent) -> str | None:
    """The Table 4 withdrawal row an event counts in (one withdrawn from both drugs counts
    under "both" only), or None."""
    thalidomide = event.action_thalidomide == WITHDRAWN
    azathioprine = event.action_azathioprine == WITHDRAWN
    if thalidomide and azathioprine:
        return "both_withdrawn"
    if thalidomide:
        return "thalidomide_withdrawn"
    return "azathioprine_withdrawn" if azathioprine else None


def dose_rows(course: _Course, as_of: date) -> list[CohortDose]:
    """The thalidomide dose rows of one patient checked by the titration figures."""
    return [row for row in course.patient.thalidomide_doses if row.date <= as_of]


def days_active(rows: list[DoseRow], as_of: date) -> int:
    """Days d ≤ as_of on which thalidomide is active (R3.1: the latest row on or before d
    is above 0); equal to counting ``visits.titration.thalidomide_active`` day by day."""
    ordered = sorted((row for row in rows if row.date <= as_of), key=lambda row: row.date)
    total = 0
    for index, row in enumerate(ordered):
        end = ordered[index + 1].date if index + 1 < len(ordered) else None
        last = as_of if end is None else min(as_of, end - timedelta(days=1))
        if row.dose_mg > 0 and last >= row.date:
            total += (last - row.date).days + 1
    return total


def cohort_events(course: _Course, as_of: date) -> list[CohortAdverseEvent]:
    """One patient's adverse events counted by R8 (onset from day 0 to as_of)."""
    return [
        event for event in course.patient.adverse_events if course.start <= event.onset <= as_of
    ]



# ---------------------------------------------------------------------------
# One patient's part in the report
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    """One patient at one induction week whose window has closed (R8)."""

    status: str | None  # R2.2 status of the assessment visit; None counts as not responding
    cdai: int | None  # the assessment visit's CDAI; None when there was no assessment visit
    crp: Decimal | None  # CRP/ESR nearest the assessment visit within ±3 days
    esr: Decimal | None


@dataclass(frozen=True)
class EndoscopyFigures:
    """One patient in the endoscopy block: a baseline endoscopy and at least one judged later."""

    remitted: bool  # endoscopic remission at any follow-up endoscopy
    healed_any: bool  # mucosal healing at any follow-up endoscopy
    healed_last: bool  # mucosal healing at the last one
    pairs: tuple[tuple[str, Decimal, Decimal], ...]  # (score, baseline, last follow-up), paired scores


@dataclass(frozen=True)
class PatientFigures:
    """Everything one cohort patient adds to the report, computed once (``patient_figures``).

    The report of any group of patients is ``report_from_figures`` of their figures, so
    a network's sites and the network itself (reports/network.py) are reported from one
    pass over the patients. ``activity`` says whether the patient is in the CDAI-based
    blocks (``activity_cohort``); the fields of those blocks are empty when not."""

    code: str
    activity: bool
    baseline_cdai: int | None = None
    week0_crp: Decimal | None = None
    week0_esr: Decimal | None = None
    weeks: tuple[WeekFigures | None, ...] = ()  # one per INDUCTION_WEEKS; None while its window is open
    relapse: tuple[int, bool] | None = None  # relapse_follow_up
    endoscopy: EndoscopyFigures | None = None
    events: tuple[CohortAdverseEvent, ...] = ()  # cohort_events
    ae_free: tuple[int, bool] = (0, False)  # AE-free follow-up: (days, event?)
    doses: tuple[CohortDose, ...] = ()  # dose_rows
    prescriptions: tuple[CohortPrescription, ...] = ()
    active_days: int = 0  # exposure: days on thalidomide up to as_of
    cumulative_dose_g: Decimal | None = None  # None without dose rows (unknown, not zero)


def patient_figures(
    patient: CohortPatient,
    *,
    as_of: date,
    diagnosis: str,
    remission_below: int,
    response_drop: int,
    cdeis_remission_below: Decimal,
) -> PatientFigures | None:
    """One patient's part in the report of ``cohort_report`` (None: not in the cohort)."""
    if not in_cohort(patient, as_of, diagnosis):
        return None
    course = course_as_of(patient, as_of)
    activity = in_activity_cohort(patient, diagnosis)
    activity_figures = {}
    if activity:
        activity_figures = {
            "baseline_cdai": course.baseline.cdai,
            "week0_crp": _week0_lab(course, "crp"),
            "week0_esr": _week0_lab(course, "esr"),
            "weeks": tuple(_week_figures(course, week, as_of, remission_below, response_drop)
                           for week in INDUCTION_WEEKS),
            "relapse": relapse_follow_up(course, as_of, remission_below, response_drop),
            "endoscopy": _endoscopy_figures(course, as_of, cdeis_remission_below),
        }
    events = cohort_events(course, as_of)
    days, cumulative = _exposure_figures(course, as_of)
    return PatientFigures(
        code=patient.code,
        activity=activity,
        **activity_figures,
        events=tuple(events),
        ae_free=_ae_free(course, events),
        doses=tuple(dose_rows(course, as_of)),
        prescriptions=patient.prescriptions,
        active_days=days,
        cumulative_dose_g=cumulative,
    )


def _week_figures(course: _Course, week: int, as_of: date, remission_below: int, response_drop: int):
    outcome = week_outcome(course, week, as_of, remission_below, response_drop)
    if outcome is None:
        return None
    visit, status = outcome
    if visit is None:
        return WeekFigures(status=status, cdai=None, crp=None, esr=None)
    return WeekFigures(
        status=status,
        cdai=visit.cdai,
        crp=_nearest_lab(course, "crp", visit.date, LAB_WINDOW_DAYS),
        esr=_nearest_lab(course, "esr", visit.date, LAB_WINDOW_DAYS),
    )


def _ae_free(course: _Course, events: list[CohortAdverseEvent]) -> tuple[int, bool]:
    """AE-free follow-up: to the first event, else censored at the earlier of the last
    clinic visit and a died/transferred/lost status date."""
    first = min((e.onset for e in events), default=None)
    if first is not None and (course.status_end is None or first <= course.status_end):
        return course.day(first), True
    ends = [d for d in (course.last_clinic_visit, course.status_end) if d is not None]
    return (max(course.day(min(ends)), 0) if ends else 0), False


def _endoscopy_figures(course: _Course, as_of: date, cdeis_remission_below: Decimal) -> EndoscopyFigures | None:
    kept = [
        replace(endo, key=index)
        for index, endo in enumerate(e for e in course.patient.endoscopies if e.date <= as_of)
    ]
    if not kept:
        return None
    baselines = {
        score: endoscopic_baseline(endoscopies=kept, start_date=course.start, score=score)
        for score in ENDOSCOPIC_SCORES
    }
    if all(b is None for b in baselines.values()):
        return None
    outcomes = endoscopic_outcomes(
        endoscopies=kept, start_date=course.start, as_of=as_of, cdeis_remission_below=cdeis_remission_below,
    )
    if not outcomes:
        return None
    pairs = []
    for score in PAIRED_SCORES:
        later = [kept[o.key] for o in outcomes if getattr(kept[o.key], score) is not None]
        if baselines[score] is None or not later:
            continue
        # Last by date; two on one date (ruled out by the natural key) → the higher.
        last = max(later, key=lambda e, s=score: (e.date, exact(getattr(e, s))))
        pairs.append((score, getattr(baselines[score], score), getattr(last, score)))
    return EndoscopyFigures(
        remitted=any(o.remission is True for o in outcomes),
        healed_any=any(o.mucosal_healing is True for o in outcomes),
        healed_last=outcomes[-1].mucosal_healing is True,
        pairs=tuple(pairs),
    )


def _exposure_figures(course: _Course, as_of: date) -> tuple[int, Decimal | None]:
    """(days active up to as_of, the cumulative dose in g or None without dose rows)."""
    rows = [
        DoseRow(date=row.date, dose_mg=exact(row.dose_mg))
        for row in course.patient.thalidomide_doses
        if row.date <= as_of
    ]
    if rows:
        return days_active(rows, as_of), cumulative_dose_g(rows, as_of)
    last = as_of if course.stop is None else min(as_of, course.stop - timedelta(days=1))
    return max((last - course.start).days + 1, 0), None
