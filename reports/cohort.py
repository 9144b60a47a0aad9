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

from reports.prescription_figures import CohortPrescription, prescription_figures
from reports.statistics import (
    MONTH_DAYS,
    STAT_PLACES,
    exact,
    kaplan_meier,
    mean_sd,
    median_iqr,
    pct,
    round_half_up,
)
from therapy.rules.doses import DoseRow, cumulative_dose_g
from therapy.rules.thalidomide_check import DEVIATION_CODES
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
    clinical_status,
    clinical_statuses,
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


# ---------------------------------------------------------------------------
# One course, as of the report date
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Course:
    patient: CohortPatient
    start: date
    visits: tuple[VisitObs, ...]  # dated on or before as_of; key = index
    labs: tuple[CohortLab, ...]
    baseline: Baseline
    stop: date | None  # None when ongoing on as_of
    status_end: date | None  # died/transferred/lost on or before as_of

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


def activity_cohort(cohort: list[_Course], diagnosis: str) -> list[_Course]:
    """The patients of the CDAI-based blocks: the cohort itself for one diagnosis (R8 as
    written); for all diagnoses, its Crohn's disease patients only (a UC or AID patient
    has no CDAI, so counting him as "not responding" would say something false)."""
    if (diagnosis or "").upper() != ALL_DIAGNOSES.upper():
        return cohort
    return [c for c in cohort if (c.patient.diagnosis or "").upper() == ACTIVITY_DIAGNOSIS]


def course_as_of(patient: CohortPatient, as_of: date) -> _Course:
    """One patient's course as of the report date (later records left out)."""
    visits = tuple(
        VisitObs(
            key=index,
            date=visit.date,
            contact=visit.contact,
            cdai=visit.cdai,
            relapse_event=visit.relapse_event or "",
        )
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
        labs=tuple(lab for lab in patient.labs if lab.date <= as_of),
        baseline=baseline_cdai(
            recorded=patient.recorded_baseline_cdai, visits=list(visits), start_date=patient.start
        ),
        stop=patient.stop if patient.stop is not None and patient.stop <= as_of else None,
        status_end=status_end,
    )


def _nearest_lab(course: _Course, test: str, around: date, within: int) -> Decimal | None:
    """The ``test`` result nearest ``around`` within ±``within`` days.

    Ambiguity: two results equally near (3 days before and 3 days after) → the EARLIER,
    as R8 breaks visit ties and R2.1 endoscopy ties; two on one date (which the natural
    key patient + date + test rules out) → the higher, which never overstates improvement.
    """
    near = [
        (abs((lab.date - around).days), lab.date, -exact(lab.value), exact(lab.value))
        for lab in course.labs
        if lab.test.lower() == test
        and lab.value is not None
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
        (abs(course.day(visit.date) - 7 * week), visit.date, -visit.cdai, visit.key)
        for visit in course.visits
        if visit.contact == "clinic"
        and visit.cdai is not None
        and first <= course.day(visit.date) <= last
    ]
    return course.visits[min(candidates)[3]] if candidates else None


def first_response(course: _Course, remission_below: int, response_drop: int):
    """The first clinic visit (day ≥ 1) meeting R2.2 response: the R2.3 maintenance start."""
    if course.baseline.cdai is None:
        return None
    for visit in sorted(course.visits, key=lambda v: v.date):
        if visit.contact != "clinic" or visit.cdai is None or course.day(visit.date) < 1:
            continue
        status, _ = clinical_status(
            visit.cdai, course.baseline.cdai, remission_below, response_drop
        )
        if status in (RESPONSE, REMISSION):
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
    status, _ = clinical_status(visit.cdai, course.baseline.cdai, remission_below, response_drop)
    return visit, status


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
    statuses = clinical_statuses(
        visits=list(c.visits),
        baseline=c.baseline,
        start_date=c.start,
        as_of=as_of,
        remission_below=remission_below,
        response_drop=response_drop,
    )
    relapses = sorted(
        c.visits[s.key].date
        for s in statuses
        if s.status == RELAPSE and c.visits[s.key].date >= origin.date
    )
    relapse = relapses[0] if relapses else None
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


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------


def cohort_report(
    patients: list[CohortPatient],
    *,
    as_of: date,
    diagnosis: str = "CD",
    rules_version: str,
    remission_below: int,
    response_drop: int,
    cdeis_remission_below: Decimal,
) -> dict:
    """R8 cohort report: exactly the keys of interfaces.md §3, plus additions.

    Additions (never renames): ``diagnosis``; ``induction.assessed`` (patients assessed
    per week, "0" = with a baseline CDAI) and ``of`` (the denominator) in every
    response/remission entry; ``relapse_free.curve``; ``adverse_events.by_term_events``
    and ``adverse_events.ae_free`` (n, events, median, CI, curve);
    ``endoscopy.mucosal_healing_at_last`` and ``n`` in each mean-SD block;
    ``exposure.cumulative_dose_n``; ``activity_cohort`` (the all-diagnoses report only).

    Ambiguities, resolved as follows:

    * All diagnoses (``diagnosis="all"``, beyond R8): every patient with a course. The
      CDAI-based blocks (induction, relapse-free survival) and the endoscopic block
      (CDEIS, SES-CD, Rutgeerts: Crohn's scores) are over its Crohn's disease patients
      only, as ``activity_cohort`` says; adverse events, titration and exposure over all.

    * Induction: a window has closed when ``as_of`` is after its last day (as R2.6
      reads it; a visit may still be entered on the last day). CDAI mean (SD) and
      CRP/ESR median (IQR) at week w are over the patients of that week's denominator
      who were assessed; week 0 over all cohort patients with a baseline CDAI (the R2.1
      whole number, as classified) or a week-0 lab. A patient without a baseline CDAI
      is in the denominators and counts as not responding.
    * Relapse-free survival: origin = the first R2.2 response visit (the R2.3
      maintenance start), included when on or before day 182; event = the first R2.3
      relapse on or before the earlier of the stop date and a died/transferred/lost
      status date; otherwise censored at the earliest of the last clinic visit, the stop
      date and that status date (never before the origin: a first response after the
      stop gives 0 months of follow-up).
    * Adverse events: only events with onset from day 0 to ``as_of`` (Li 2020 counts
      events after the start of therapy). ``by_term`` counts PATIENTS per code (Li 2020
      Table 4: 21 (17.2 %) patients with acroanaesthesia; its rows add up to the 90
      events only because nobody had one code twice, while its "neuropathy" group
      row, 35, counts patients); ``by_term_events`` gives events. Withdrawal and
      hospitalisation figures count EVENTS; "both" = withdrawn from both drugs, left
      out of the per-drug counts. AE-free survival ends at a died/transferred/lost
      status date as well as at the last clinic visit (R7: censored there in R8).
    * Endoscopy: a baseline = a baseline of any score (R2.1 window); later endoscopies
      are those ``endoscopic_outcomes`` judges. Mucosal healing = at ANY follow-up
      endoscopy, like endoscopic remission and like Li 2020 ("achieved MH during
      follow-up"); ``mucosal_healing_at_last`` gives the stricter last-endoscopy
      reading. Mean (SD) CDEIS and Rutgeerts are paired: patients with both a baseline
      and a follow-up value of that score; follow-up = the last follow-up endoscopy
      with that score.
    * Exposure: days active from the dose rows (R3.1), else from start/stop when a
      patient has no dose rows; the cumulative dose median (IQR) is over patients with
      dose rows (without rows the dose is unknown, not zero). AE rate per 100
      patient-months is rounded to 2 decimals.
    * Prescriptions (R9.5) and their added counts: see reports/prescription_figures.py.
    """
    cohort = [course_as_of(p, as_of) for p in patients if in_cohort(p, as_of, diagnosis)]
    activity = activity_cohort(cohort, diagnosis)
    report = {
        "as_of": as_of.isoformat(),
        "rules_version": rules_version,
        "diagnosis": diagnosis,
        "n_patients": len(cohort),
        "induction": _induction(activity, as_of, remission_below, response_drop),
        "relapse_free": _relapse_free(activity, as_of, remission_below, response_drop),
        "adverse_events": _adverse_events(cohort, as_of),
        "endoscopy": _endoscopy(activity, as_of, cdeis_remission_below),
        "titration": _titration(cohort, as_of),
        "exposure": None,  # filled below (needs the adverse-event total)
        "prescriptions": _prescriptions(cohort, as_of),
    }
    if activity is not cohort:
        report["activity_cohort"] = {
            "diagnosis": ACTIVITY_DIAGNOSIS, "n_patients": len(activity), "blocks": list(ACTIVITY_BLOCKS)
        }
    report["exposure"] = _exposure(cohort, as_of, report["adverse_events"]["events"])
    return report


def _induction(cohort: list[_Course], as_of: date, remission_below: int, response_drop: int):
    response, remission, assessed = {}, {}, {}
    cdai = {"0": mean_sd(c.baseline.cdai for c in cohort if c.baseline.cdai is not None)}
    crp = {"0": median_iqr(v for v in (_week0_lab(c, "crp") for c in cohort) if v is not None)}
    esr = {"0": median_iqr(v for v in (_week0_lab(c, "esr") for c in cohort) if v is not None)}
    assessed["0"] = sum(1 for c in cohort if c.baseline.cdai is not None)
    for week in INDUCTION_WEEKS:
        key = str(week)
        outcomes = [(c, week_outcome(c, week, as_of, remission_below, response_drop)) for c in cohort]
        closed = [(c, *outcome) for c, outcome in outcomes if outcome is not None]
        visits = [(c, visit) for c, visit, _ in closed if visit is not None]
        responders = sum(status in (RESPONSE, REMISSION) for *_, status in closed)
        remitters = sum(status == REMISSION for *_, status in closed)
        response[key] = {"n": responders, "pct": pct(responders, len(closed)), "of": len(closed)}
        remission[key] = {"n": remitters, "pct": pct(remitters, len(closed)), "of": len(closed)}
        assessed[key] = len(visits)
        cdai[key] = mean_sd(visit.cdai for _, visit in visits)
        for test, table in (("crp", crp), ("esr", esr)):
            values = [_nearest_lab(c, test, visit.date, LAB_WINDOW_DAYS) for c, visit in visits]
            table[key] = median_iqr(v for v in values if v is not None)
    return {
        "response": response,
        "remission": remission,
        "cdai_mean_sd": cdai,
        "crp_median_iqr": crp,
        "esr_median_iqr": esr,
        "assessed": assessed,
    }


def _relapse_free(
    cohort: list[_Course], as_of: date, remission_below: int, response_drop: int
) -> dict:
    follow_ups = [relapse_follow_up(c, as_of, remission_below, response_drop) for c in cohort]
    follow_ups = [f for f in follow_ups if f is not None]
    return kaplan_meier([days for days, _ in follow_ups], [event for _, event in follow_ups])


def cohort_events(course: _Course, as_of: date) -> list[CohortAdverseEvent]:
    """One patient's adverse events counted by R8 (onset from day 0 to as_of)."""
    return [
        event for event in course.patient.adverse_events if course.start <= event.onset <= as_of
    ]


def _adverse_events(cohort: list[_Course], as_of: date) -> dict:
    per_patient = [cohort_events(c, as_of) for c in cohort]
    terms = list(AE_TERMS) + sorted(
        {e.term for events in per_patient for e in events} - set(AE_TERMS)
    )
    by_term = {term: 0 for term in terms}
    by_term_events = {term: 0 for term in terms}
    for events in per_patient:
        for term in {e.term for e in events}:
            by_term[term] += 1
        for e in events:
            by_term_events[e.term] += 1
    all_events = [e for events in per_patient for e in events]
    with_events = sum(1 for events in per_patient if events)
    withdrawals = [withdrawal(e) for e in all_events]

    durations, observed = [], []
    for c, events in zip(cohort, per_patient, strict=True):
        first = min((e.onset for e in events), default=None)
        if first is not None and (c.status_end is None or first <= c.status_end):
            durations.append(c.day(first))
            observed.append(True)
            continue
        ends = [d for d in (c.last_clinic_visit, c.status_end) if d is not None]
        durations.append(max(c.day(min(ends)), 0) if ends else 0)
        observed.append(False)
    ae_free = kaplan_meier(durations, observed)

    return {
        "patients": with_events,
        "pct": pct(with_events, len(cohort)),
        "events": len(all_events),
        "by_term": by_term,
        "by_term_events": by_term_events,
        "nervous_system_patients": sum(
            1 for events in per_patient if any(e.term in NERVOUS_SYSTEM_TERMS for e in events)
        ),
        **{key: withdrawals.count(key) for key in WITHDRAWAL_KEYS},
        "hospitalised": sum(1 for e in all_events if e.hospitalised),
        "ae_free_km": ae_free["km"],
        "ae_free": {key: ae_free[key] for key in ("n", "events", "median_months", "median_ci")}
        | {"curve": ae_free["curve"]},
    }


def _endoscopy(cohort: list[_Course], as_of: date, cdeis_remission_below: Decimal) -> dict:
    included = remitted = healed_any = healed_last = 0
    pairs = {"cdeis": [], "rutgeerts": []}
    for c in cohort:
        kept = [
            replace(endo, key=index)
            for index, endo in enumerate(e for e in c.patient.endoscopies if e.date <= as_of)
        ]
        baselines = {
            score: endoscopic_baseline(endoscopies=kept, start_date=c.start, score=score)
            for score in ENDOSCOPIC_SCORES
        }
        if all(b is None for b in baselines.values()):
            continue
        outcomes = endoscopic_outcomes(
            endoscopies=kept,
            start_date=c.start,
            as_of=as_of,
            cdeis_remission_below=cdeis_remission_below,
        )
        if not outcomes:
            continue
        included += 1
        remitted += any(o.remission is True for o in outcomes)
        healed_any += any(o.mucosal_healing is True for o in outcomes)
        healed_last += outcomes[-1].mucosal_healing is True
        for score in pairs:
            later = [kept[o.key] for o in outcomes if getattr(kept[o.key], score) is not None]
            if baselines[score] is None or not later:
                continue
            # Last by date; two on one date (ruled out by the natural key) → the higher.
            last = max(later, key=lambda e, s=score: (e.date, exact(getattr(e, s))))
            pairs[score].append((getattr(baselines[score], score), getattr(last, score)))

    def paired_mean_sd(score):
        return {
            "baseline": mean_sd(b for b, _ in pairs[score]),
            "follow_up": mean_sd(f for _, f in pairs[score]),
            "n": len(pairs[score]),
        }

    return {
        "n": included,
        "remission": {"n": remitted, "pct": pct(remitted, included)},
        "mucosal_healing": {"n": healed_any, "pct": pct(healed_any, included)},
        "mucosal_healing_at_last": {"n": healed_last, "pct": pct(healed_last, included)},
        "cdeis_mean_sd": paired_mean_sd("cdeis"),
        "rutgeerts_mean_sd": paired_mean_sd("rutgeerts"),
    }


def _titration(cohort: list[_Course], as_of: date) -> dict:
    rows = [row for c in cohort for row in dose_rows(c, as_of)]
    deviations = {code: 0 for code in DEVIATION_CODES}
    for row in rows:
        for code in row.deviations:
            deviations[code] = deviations.get(code, 0) + 1
    return {
        "dose_changes": len(rows),
        "deviations": deviations,
        "overrides": sum(1 for row in rows if row.overridden),
    }


def _prescriptions(cohort: list[_Course], as_of: date) -> dict:
    return prescription_figures([row for c in cohort for row in c.patient.prescriptions], as_of)


def _exposure(cohort: list[_Course], as_of: date, events: int) -> dict:
    days = 0
    doses = []
    for c in cohort:
        rows = [
            DoseRow(date=row.date, dose_mg=exact(row.dose_mg))
            for row in c.patient.thalidomide_doses
            if row.date <= as_of
        ]
        if rows:
            days += days_active(rows, as_of)
            doses.append(cumulative_dose_g(rows, as_of))
        else:
            last = as_of if c.stop is None else min(as_of, c.stop - timedelta(days=1))
            days += max((last - c.start).days + 1, 0)
    patient_months = Decimal(days) / MONTH_DAYS
    rate = None if days == 0 else Decimal(events) * 100 / patient_months
    return {
        "patient_months": round_half_up(patient_months, STAT_PLACES),
        "ae_per_100_patient_months": round_half_up(rate, STAT_PLACES),
        "cumulative_dose_g_median_iqr": median_iqr(doses),
        "cumulative_dose_n": len(doses),
    }
