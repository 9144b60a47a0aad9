"""The cohort report (clinical-rules.md R8; interfaces.md §3) from its patients' figures (pure).

``reports.cohort`` computes each patient's part in the report once
(``patient_figures``); this module adds them up, block by block. ``cohort_report`` is the
report of a list of patients; ``report_from_figures`` the report of any group of
patients whose figures are computed already (each site of a network and the network
itself, reports/network.py). No Django and no clock.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reports.cohort import (
    ACTIVITY_BLOCKS,
    ACTIVITY_DIAGNOSIS,
    AE_TERMS,
    ALL_DIAGNOSES,
    INDUCTION_WEEKS,
    NERVOUS_SYSTEM_TERMS,
    PAIRED_SCORES,
    WITHDRAWAL_KEYS,
    CohortPatient,
    PatientFigures,
    patient_figures,
    withdrawal,
)
from reports.prescription_figures import prescription_figures
from reports.statistics import (
    MONTH_DAYS,
    STAT_PLACES,
    kaplan_meier,
    mean_sd,
    median_iqr,
    pct,
    round_half_up,
)
from therapy.rules.thalidomide_check import DEVIATION_CODES
from visits.outcomes import REMISSION, RESPONSE

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
    figures = [
        f for f in (
            patient_figures(
                p, as_of=as_of, diagnosis=diagnosis, remission_below=remission_below,
                response_drop=response_drop, cdeis_remission_below=cdeis_remission_below,
            ) for p in patients
        ) if f is not None
    ]
    return report_from_figures(figures, as_of=as_of, diagnosis=diagnosis, rules_version=rules_version)


def report_from_figures(figures: list[PatientFigures], *, as_of: date, diagnosis: str, rules_version: str) -> dict:
    """The report of the patients whose ``patient_figures`` are ``figures`` (cohort_report)."""
    activity = [f for f in figures if f.activity]
    report = {
        "as_of": as_of.isoformat(),
        "rules_version": rules_version,
        "diagnosis": diagnosis,
        "n_patients": len(figures),
        "induction": _induction(activity),
        "relapse_free": _relapse_free(activity),
        "adverse_events": _adverse_events(figures),
        "endoscopy": _endoscopy(activity),
        "titration": _titration(figures),
        "exposure": None,  # filled below (needs the adverse-event total)
        "prescriptions": prescription_figures([row for f in figures for row in f.prescriptions], as_of),
    }
    if (diagnosis or "").upper() == ALL_DIAGNOSES.upper():
        report["activity_cohort"] = {
            "diagnosis": ACTIVITY_DIAGNOSIS, "n_patients": len(activity), "blocks": list(ACTIVITY_BLOCKS)
        }
    report["exposure"] = _exposure(figures, report["adverse_events"]["events"])
    return report


def comparison_blocks(figures: list[PatientFigures]) -> dict:
    """The parts of the report that a comparison of sites reads (reports/network.py
    ``comparison_row``), each computed by the very function ``report_from_figures`` uses,
    without the rest: ``n_patients``; ``induction.response`` and ``.remission``;
    ``relapse_free``; ``adverse_events.events``; ``titration``; ``exposure``. A network
    of 50 sites then costs one Kaplan–Meier fit a site, not two, and no medians."""
    activity = [f for f in figures if f.activity]
    events = _event_count(figures)
    return {
        "n_patients": len(figures),
        "induction": _response_counts(activity),
        "relapse_free": _relapse_free(activity),
        "adverse_events": {"events": events},
        "titration": _titration(figures),
        "exposure": _exposure(figures, events),
    }


def _relapse_free(activity: list[PatientFigures]) -> dict:
    return kaplan_meier(*_durations(f.relapse for f in activity if f.relapse is not None))


def _event_count(figures: list[PatientFigures]) -> int:
    return sum(len(f.events) for f in figures)


def _response_counts(figures: list[PatientFigures]) -> dict:
    """Response and remission at each induction week: n of the patients whose window has
    closed (intention to treat: no assessment or no baseline counts as not responding)."""
    response, remission = {}, {}
    for index, week in enumerate(INDUCTION_WEEKS):
        closed = [f.weeks[index] for f in figures if f.weeks[index] is not None]
        responders = sum(w.status in (RESPONSE, REMISSION) for w in closed)
        remitters = sum(w.status == REMISSION for w in closed)
        response[str(week)] = {"n": responders, "pct": pct(responders, len(closed)), "of": len(closed)}
        remission[str(week)] = {"n": remitters, "pct": pct(remitters, len(closed)), "of": len(closed)}
    return {"response": response, "remission": remission}


def _durations(follow_ups) -> tuple[list[int], list[bool]]:
    """Kaplan–Meier input from (days, event?) pairs."""
    pairs = list(follow_ups)
    return [days for days, _ in pairs], [event for _, event in pairs]


def _induction(figures: list[PatientFigures]) -> dict:
    assessed = {}
    cdai = {"0": mean_sd(f.baseline_cdai for f in figures if f.baseline_cdai is not None)}
    crp = {"0": median_iqr(f.week0_crp for f in figures if f.week0_crp is not None)}
    esr = {"0": median_iqr(f.week0_esr for f in figures if f.week0_esr is not None)}
    assessed["0"] = sum(1 for f in figures if f.baseline_cdai is not None)
    for index, week in enumerate(INDUCTION_WEEKS):
        key = str(week)
        closed = [f.weeks[index] for f in figures if f.weeks[index] is not None]
        visits = [w for w in closed if w.cdai is not None]
        assessed[key] = len(visits)
        cdai[key] = mean_sd(w.cdai for w in visits)
        crp[key] = median_iqr(w.crp for w in visits if w.crp is not None)
        esr[key] = median_iqr(w.esr for w in visits if w.esr is not None)
    return {
        **_response_counts(figures),
        "cdai_mean_sd": cdai,
        "crp_median_iqr": crp,
        "esr_median_iqr": esr,
        "assessed": assessed,
    }


def _adverse_events(figures: list[PatientFigures]) -> dict:
    per_patient = [f.events for f in figures]
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
    ae_free = kaplan_meier(*_durations(f.ae_free for f in figures))

    return {
        "patients": with_events,
        "pct": pct(with_events, len(figures)),
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


def _endoscopy(figures: list[PatientFigures]) -> dict:
    included = [f.endoscopy for f in figures if f.endoscopy is not None]
    remitted = sum(e.remitted for e in included)
    healed_any = sum(e.healed_any for e in included)
    healed_last = sum(e.healed_last for e in included)
    pairs = {score: [(b, f) for e in included for s, b, f in e.pairs if s == score] for score in PAIRED_SCORES}

    def paired_mean_sd(score):
        return {
            "baseline": mean_sd(b for b, _ in pairs[score]),
            "follow_up": mean_sd(f for _, f in pairs[score]),
            "n": len(pairs[score]),
        }

    return {
        "n": len(included),
        "remission": {"n": remitted, "pct": pct(remitted, len(included))},
        "mucosal_healing": {"n": healed_any, "pct": pct(healed_any, len(included))},
        "mucosal_healing_at_last": {"n": healed_last, "pct": pct(healed_last, len(included))},
        "cdeis_mean_sd": paired_mean_sd("cdeis"),
        "rutgeerts_mean_sd": paired_mean_sd("rutgeerts"),
    }


def _titration(figures: list[PatientFigures]) -> dict:
    rows = [row for f in figures for row in f.doses]
    deviations = {code: 0 for code in DEVIATION_CODES}
    for row in rows:
        for code in row.deviations:
            deviations[code] = deviations.get(code, 0) + 1
    return {
        "dose_changes": len(rows),
        "deviations": deviations,
        "overrides": sum(1 for row in rows if row.overridden),
    }


def _exposure(figures: list[PatientFigures], events: int) -> dict:
    days = sum(f.active_days for f in figures)
    doses = [f.cumulative_dose_g for f in figures if f.cumulative_dose_g is not None]
    patient_months = Decimal(days) / MONTH_DAYS
    rate = None if days == 0 else Decimal(events) * 100 / patient_months
    return {
        "patient_months": round_half_up(patient_months, STAT_PLACES),
        "ae_per_100_patient_months": round_half_up(rate, STAT_PLACES),
        "cumulative_dose_g_median_iqr": median_iqr(doses),
        "cumulative_dose_n": len(doses),
    }
