"""R8 cohort statistics (clinical-rules.md; interfaces.md §3), small cohorts worked by hand.

Every expected figure below was worked out on paper from the spec (arithmetic in the
comments), never by the code under test. Therapy starts on 2021-01-01 (day 0) unless a
test says otherwise; ``day(n)`` is n days later. A month is 30.4375 days. No database:
``reports.cohort`` is a pure function of its inputs and ``as_of``.
"""

import json
from datetime import date, timedelta
from decimal import Decimal

import numpy
import pytest
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from reports.cohort import (
    AE_TERMS,
    CohortAdverseEvent,
    CohortDose,
    CohortLab,
    CohortPatient,
    CohortVisit,
    days_active,
)
from reports.cohort_blocks import cohort_report
from reports.prescription_figures import CohortPrescription
from reports.statistics import kaplan_meier, median_iqr, round_half_up
from thalimon.rules_config import RuleSettings
from therapy.rules.doses import DoseRow, thalidomide_active
from therapy.rules.prescriptions import PRESCRIPTION_CODES
from therapy.rules.thalidomide_check import DEVIATION_CODES
from visits.endoscopy_outcomes import EndoObs

START = date(2021, 1, 1)
D = Decimal


def day(n: int, start: date = START) -> date:
    return start + timedelta(days=n)


def clinic(n, cdai, event="", start=START):
    return CohortVisit(date=day(n, start), contact="clinic", cdai=cdai, relapse_event=event)


def phone(n, cdai=None, start=START):
    return CohortVisit(date=day(n, start), contact="phone", cdai=cdai)


def lab(n, test, value, start=START):
    return CohortLab(date=day(n, start), test=test, value=D(str(value)))


def ae(n, term, thal="none", aza="none", hospitalised=False, drug="thalidomide"):
    return CohortAdverseEvent(
        onset=day(n),
        term=term,
        drug=drug,
        action_thalidomide=thal,
        action_azathioprine=aza,
        hospitalised=hospitalised,
    )


def patient(code, **fields):
    fields.setdefault("diagnosis", "CD")
    fields.setdefault("start", START)
    fields.setdefault("stop", None)
    return CohortPatient(code=code, **fields)


# The thresholds are configurable, so the report requires them; the cases use the
# configured defaults (150, 70, CDEIS 7).
RULES = RuleSettings()
THRESHOLDS = {
    "remission_below": RULES.remission_cdai_below,
    "response_drop": RULES.response_cdai_drop,
    "cdeis_remission_below": RULES.cdeis_remission_below,
}


def report(patients, as_of, **options):
    return cohort_report(patients, as_of=as_of, rules_version="test-1", **{**THRESHOLDS, **options})


# ---------------------------------------------------------------------------
# Rounding (Conventions): half up with Decimal, only the final figure
# ---------------------------------------------------------------------------

ROUNDING_CASES = [
    pytest.param(D("12.25"), 1, 12.3, id="R8-pct-12.25-half-up-12.3"),
    pytest.param(D("12.5"), 1, 12.5, id="R8-pct-1/8-12.5"),
    pytest.param(D("6.25"), 1, 6.3, id="R8-pct-6.25-half-up-6.3-not-6.2"),
    pytest.param(D("2.675"), 2, 2.68, id="R8-stat-2.675-half-up-2.68"),
    pytest.param(D("200.125"), 2, 200.13, id="R8-mean-200.125-half-up"),
    pytest.param(D("0.0005"), 3, 0.001, id="R8-survival-0.0005-half-up"),
    pytest.param(D("12.2499"), 1, 12.2, id="R8-below-half-down"),
    # lifelines' log-space product gives 0.5000000000000001 for an exact 0.5
    pytest.param(0.5000000000000001, 3, 0.5, id="R8-float-noise-cleaned"),
    pytest.param(0.8125, 3, 0.813, id="R8-float-exact-half-up"),
    pytest.param(None, 1, None, id="R8-none"),
    pytest.param(float("inf"), 2, None, id="R8-infinite-null"),
    pytest.param(float("nan"), 2, None, id="R8-nan-null"),
]


@pytest.mark.parametrize(("value", "places", "expected"), ROUNDING_CASES)
def test_R8_round_half_up(value, places, expected):
    assert round_half_up(value, places) == expected


def test_R8_percentile_is_numpy_linear_computed_exactly():
    # [2.67, 2.68]: median 2.675 → 2.68 (half up); q1 = 2.67 + 0.25 × 0.01 = 2.6725 → 2.67;
    # q3 = 2.6775 → 2.68. Python's round(2.675, 2) gives 2.67 (binary float).
    assert median_iqr([D("2.68"), D("2.67")]) == [2.68, 2.67, 2.68]
    # The definition is NumPy's default linear interpolation:
    values = [D(3), D(1), D(10), D(4), D(7)]  # sorted 1 3 4 7 10
    # median = x[2] = 4; q1: h = 4 × 0.25 = 1 → 3; q3: h = 3 → 7
    assert median_iqr(values) == [4.0, 3.0, 7.0]
    values = [D(6), D(8), D(10), D(30)]
    # h(0.5) = 1.5 → 8 + 0.5 × 2 = 9; h(0.25) = 0.75 → 6 + 0.75 × 2 = 7.5;
    # h(0.75) = 2.25 → 10 + 0.25 × 20 = 15
    assert median_iqr(values) == [9.0, 7.5, 15.0]
    floats = [float(v) for v in values]
    assert [float(numpy.percentile(floats, q)) for q in (50, 25, 75)] == [9.0, 7.5, 15.0]
    assert median_iqr([]) == [None, None, None]


# ---------------------------------------------------------------------------
# Cohort selection
# ---------------------------------------------------------------------------


def test_R8_cohort_is_diagnosis_with_start_on_or_before_as_of():
    as_of = day(100)
    patients = [
        patient("cd-started"),
        patient("cd-starts-on-as-of", start=as_of),
        patient("cd-starts-later", start=day(101)),
        patient("cd-no-start", start=None),
        patient("uc", diagnosis="UC"),
    ]
    assert report(patients, as_of)["n_patients"] == 2
    assert report(patients, as_of, diagnosis="UC")["n_patients"] == 1
    assert report(patients, as_of, diagnosis="AID")["n_patients"] == 0


# ---------------------------------------------------------------------------
# R8 induction (Li 2020 Table 2)
# ---------------------------------------------------------------------------
#
# as_of = day 200 for A–D (start 2021-01-01). E starts 91 days before as_of, so on
# as_of E is at day 91: its week-12 window (days 77–91) has NOT closed (a window closes
# when as_of is after its last day) and neither has week 24; weeks 4 and 8 have.
#
# A: recorded baseline 250. d28 200 (Δ50 no), d56 175 (Δ75 response, 175 ≥ 150),
#    d84 140 (Δ110 remission), d168 100 (remission).
# B: no recorded baseline; clinic d−3 CDAI 300 → baseline 300 (R2.1).
#    week 4: d24 220 and d32 300 are both 4 days from d28 → the EARLIER, d24: Δ80 response.
#    week 8: no visit → in the denominator, not responding.
#    week 12: phone d84 CDAI 50 (phone: not an assessment); clinic d91 200 (window edge):
#    Δ100 response (not remission, 200 ≥ 150).
#    week 24: d181 120 (13 days from d168, inside ±14): remission.
# C: recorded baseline 200. week 4: d36 is 8 days from d28 (outside ±7) → not assessed,
#    not responding. week 8: d56 130 → Δ70 (≥ 70) and < 150 → remission.
#    week 12: d84 150 → Δ50 no response. week 24: d154 (14 days early, inside) 149 →
#    Δ51 no response; d183 CDAI 50 is 15 days late (outside ±14), ignored.
# D: no baseline (its only earlier visit, d−20, is outside day −14..0).
#    week 4: d28 100 → assessed (counts in the CDAI mean) but not classifiable →
#    not responding.
# E: recorded baseline 220. d28 140 (Δ80 remission), d56 130 (remission),
#    d84 100 (window not closed: excluded from the week-12 denominator and mean).


def _induction_cohort():
    as_of = day(200)
    e_start = as_of - timedelta(days=91)
    return as_of, [
        patient(
            "A",
            recorded_baseline_cdai=D(250),
            crp_at_lor=D(15),
            visits=(clinic(28, 200), clinic(56, 175), clinic(84, 140), clinic(168, 100)),
            # week 4 (d28): d30 (2 days away) is nearer than d25 (3 days away)
            labs=(lab(25, "crp", 99), lab(30, "crp", 10)),
        ),
        patient(
            "B",
            visits=(
                clinic(-3, 300),
                clinic(24, 220),
                clinic(32, 300),
                phone(84, 50),
                clinic(91, 200),
                clinic(181, 120),
            ),
            labs=(
                lab(-3, "crp", 20),  # the baseline visit's lab → week-0 CRP
                lab(-3, "esr", 30),
                lab(-2, "crp", 77),  # not the baseline visit's date: not week 0
                lab(22, "crp", 8),  # week 4 (d24): d22 and d26 both 2 days away
                lab(26, "crp", 4),  #   → the earlier, d22: 8
            ),
        ),
        patient(
            "C",
            recorded_baseline_cdai=D(200),
            esr_at_lor=D(40),
            visits=(
                clinic(36, 100),
                clinic(56, 130),
                clinic(84, 150),
                clinic(154, 149),
                clinic(183, 50),
            ),
        ),
        patient(
            "D",
            visits=(clinic(-20, 300), clinic(28, 100)),
            labs=(lab(32, "crp", 1),),  # 4 days from the d28 visit: outside ±3
        ),
        patient(
            "E",
            start=e_start,
            recorded_baseline_cdai=D(220),
            crp_at_lor=D(30),
            visits=(
                clinic(28, 140, start=e_start),
                clinic(56, 130, start=e_start),
                clinic(84, 100, start=e_start),
            ),
            labs=(lab(28, "crp", 6, start=e_start),),
        ),
    ]


# week, response n, remission n, denominator, response %, remission %
INDUCTION_RATES = [
    # week 4: A no, B response (tie → d24), C not assessed, D no baseline, E remission
    # → response 2/5 = 40.0 %, remission 1/5 = 20.0 %
    pytest.param("4", 2, 1, 5, 40.0, 20.0, id="R8-week4-tie-earlier-unassessed-counted"),
    # week 8: A response, B none, C remission (Δ = 70), D none, E remission
    # → response 3/5 = 60.0 %, remission 2/5 = 40.0 %
    pytest.param("8", 3, 2, 5, 60.0, 40.0, id="R8-week8-missing-visit-not-responding"),
    # week 12: E excluded (window open on as_of); A remission, B response (phone ignored),
    # C no, D none → response 2/4 = 50.0 %, remission 1/4 = 25.0 %
    pytest.param("12", 2, 1, 4, 50.0, 25.0, id="R8-week12-open-window-excluded"),
    # week 24 (±14): A remission, B remission (d181), C no (d154; d183 outside), D none
    # → response 2/4 = 50.0 %, remission 2/4 = 50.0 %
    pytest.param("24", 2, 2, 4, 50.0, 50.0, id="R8-week24-plus-minus-14"),
]


@pytest.mark.parametrize(("week", "resp", "remit", "of", "resp_pct", "remit_pct"), INDUCTION_RATES)
def test_R8_induction_response_and_remission(week, resp, remit, of, resp_pct, remit_pct):
    as_of, patients = _induction_cohort()
    induction = report(patients, as_of)["induction"]
    assert induction["response"][week] == {"n": resp, "pct": resp_pct, "of": of}
    assert induction["remission"][week] == {"n": remit, "pct": remit_pct, "of": of}


CDAI_MEAN_SD = [
    # week 0: baselines A 250, B 300, C 200, E 220 (D none): mean 970/4 = 242.5;
    # deviations 7.5, 57.5, −42.5, −22.5 → squares 56.25 + 3306.25 + 1806.25 + 506.25
    # = 5675; /3 = 1891.67; √ = 43.493 → 43.49
    pytest.param("0", [242.5, 43.49], id="R8-cdai-week0-baseline"),
    # week 4: A 200, B 220, D 100, E 140: mean 660/4 = 165; deviations 35, 55, −65, −25
    # → 1225 + 3025 + 4225 + 625 = 9100; /3 = 3033.33; √ = 55.076 → 55.08
    pytest.param("4", [165.0, 55.08], id="R8-cdai-week4"),
    # week 8: A 175, C 130, E 130: mean 435/3 = 145; 900 + 225 + 225 = 1350; /2 = 675;
    # √ = 25.981 → 25.98
    pytest.param("8", [145.0, 25.98], id="R8-cdai-week8"),
    # week 12: A 140, B 200, C 150 (E excluded): mean 490/3 = 163.333 → 163.33;
    # deviations −23.33, 36.67, −13.33 → 544.44 + 1344.44 + 177.78 = 2066.67; /2 = 1033.33;
    # √ = 32.146 → 32.15
    pytest.param("12", [163.33, 32.15], id="R8-cdai-week12"),
    # week 24: A 100, B 120, C 149: mean 369/3 = 123; 529 + 9 + 676 = 1214; /2 = 607;
    # √ = 24.637 → 24.64
    pytest.param("24", [123.0, 24.64], id="R8-cdai-week24"),
]


@pytest.mark.parametrize(("week", "expected"), CDAI_MEAN_SD)
def test_R8_induction_cdai_mean_sd_among_assessed(week, expected):
    as_of, patients = _induction_cohort()
    assert report(patients, as_of)["induction"]["cdai_mean_sd"][week] == expected


def test_R8_induction_crp_esr_median_iqr():
    as_of, patients = _induction_cohort()
    induction = report(patients, as_of)["induction"]
    # week-0 CRP: A crp_at_lor 15, B its baseline visit's lab 20, E crp_at_lor 30
    # → sorted 15 20 30: median 20; q1 h = 0.5 → 15 + 0.5 × 5 = 17.5; q3 h = 1.5 → 25
    assert induction["crp_median_iqr"]["0"] == [20.0, 17.5, 25.0]
    # week-0 ESR: B baseline-visit lab 30, C esr_at_lor 40 → median 35, q1 32.5, q3 37.5
    assert induction["esr_median_iqr"]["0"] == [35.0, 32.5, 37.5]
    # week-4 CRP (±3 days of the assessment): A 10 (d30), B 8 (tie d22/d26 → earlier),
    # D none (4 days away), E 6 → sorted 6 8 10: median 8, q1 7, q3 9
    assert induction["crp_median_iqr"]["4"] == [8.0, 7.0, 9.0]
    assert induction["esr_median_iqr"]["4"] == [None, None, None]
    # assessed per week: week 0 = with a baseline CDAI
    assert induction["assessed"] == {"0": 4, "4": 4, "8": 3, "12": 3, "24": 3}


# as_of day on which the week-4 window (days 21–35) is judged; denominator; responders
WINDOW_CLOSING = [
    pytest.param(35, 0, None, id="R8-window-open-on-its-last-day"),
    pytest.param(36, 1, 100.0, id="R8-window-closed-the-day-after"),
]


@pytest.mark.parametrize(("as_of_day", "of", "pct"), WINDOW_CLOSING)
def test_R8_window_closes_after_its_last_day(as_of_day, of, pct):
    one = patient("P", recorded_baseline_cdai=D(200), visits=(clinic(28, 100),))
    response = report([one], day(as_of_day))["induction"]["response"]["4"]
    assert response == {"n": of, "pct": pct, "of": of}


# week, visit day, assessed? (baseline 250, visit CDAI 100 → remission when assessed)
WINDOW_EDGES = [
    pytest.param("4", 20, False, id="R8-week4-day20-outside-7"),
    pytest.param("4", 21, True, id="R8-week4-day21-edge"),
    pytest.param("4", 35, True, id="R8-week4-day35-edge"),
    pytest.param("4", 36, False, id="R8-week4-day36-outside-7"),
    pytest.param("24", 153, False, id="R8-week24-day153-outside-14"),
    pytest.param("24", 154, True, id="R8-week24-day154-edge-14"),
    pytest.param("24", 182, True, id="R8-week24-day182-edge-14"),
    pytest.param("24", 183, False, id="R8-week24-day183-outside-14"),
]


@pytest.mark.parametrize(("week", "visit_day", "assessed"), WINDOW_EDGES)
def test_R8_assessment_window_edges(week, visit_day, assessed):
    one = patient("P", recorded_baseline_cdai=D(250), visits=(clinic(visit_day, 100),))
    induction = report([one], day(300))["induction"]
    expected = {"n": 1, "pct": 100.0, "of": 1} if assessed else {"n": 0, "pct": 0.0, "of": 1}
    assert induction["remission"][week] == expected
    assert induction["cdai_mean_sd"][week] == ([100.0, None] if assessed else [None, None])


# ---------------------------------------------------------------------------
# R8 relapse-free survival (R2.3; Kaplan–Meier with lifelines)
# ---------------------------------------------------------------------------
#
# All baselines 250 (recorded); as_of day 2000. Follow-up in days from the first
# response visit (origin):
# R1 response d28 (170, Δ80); d56 120 (nadir 120); d328 260 > 150 and > 120 + 70
#    → relapse: EVENT at 300 days.
# R2 response d30 (150, Δ100); last clinic visit d530 (140); a phone contact d600 does
#    not count → censored at 500 days.
# R3 response d40 (100); thalidomide stopped d440; relapse d600 (300) is after the stop
#    → not counted; last clinic visit d800 → censored at the stop: 400 days.
# R4 response d28 (100); fistula recorded at the clinic visit on the stop date d728
#    → EVENT at 700 days (an event on the stop date counts).
# R5 response d50 (100); transferred on d1250; relapse d1300 (after the status date)
#    not counted; last clinic visit d1400 → censored at the status date: 1200 days.
# R6 never responds (240, 230) → not in the analysis.
# R7 first response on d190 (after day 182) → not in the analysis.
#
# KM: times 300 E, 400 C, 500 C, 700 E, 1200 C. At 300: 5 at risk, 1 event → 4/5 = 0.8.
# At 700: 2 at risk (R4, R5), 1 event → 0.8 × 1/2 = 0.4.
# 12 mo = 365.25 d → 0.8; 24 mo = 730.5 d → 0.4; 36 mo = 1095.75 d ≤ 1200 → 0.4;
# 48 mo = 1461 d > 1200 (longest follow-up) → null; 60 → null.
# Median: first time S ≤ 0.5 = 700 d = 700/30.4375 = 22.998 → 23.0 months.


def _relapse_cohort():
    base = {"recorded_baseline_cdai": D(250)}
    return day(2000), [
        patient("R1", visits=(clinic(28, 170), clinic(56, 120), clinic(328, 260)), **base),
        patient("R2", visits=(clinic(30, 150), clinic(530, 140), phone(600)), **base),
        patient(
            "R3",
            stop=day(440),
            visits=(clinic(40, 100), clinic(600, 300), clinic(800, 300)),
            **base,
        ),
        patient("R4", stop=day(728), visits=(clinic(28, 100), clinic(728, 120, "fistula")), **base),
        patient(
            "R5",
            status="transferred",
            status_date=day(1250),
            visits=(clinic(50, 100), clinic(1300, 300), clinic(1400, 100)),
            **base,
        ),
        patient("R6", visits=(clinic(28, 240), clinic(100, 230)), **base),
        patient("R7", visits=(clinic(100, 240), clinic(190, 100)), **base),
    ]


def test_R8_relapse_free_km_with_censoring_at_stop_and_status():
    as_of, patients = _relapse_cohort()
    relapse_free = report(patients, as_of)["relapse_free"]
    assert relapse_free["n"] == 5
    assert relapse_free["events"] == 2
    assert relapse_free["km"] == {"12": 0.8, "24": 0.4, "36": 0.4, "48": None, "60": None}
    assert relapse_free["median_months"] == 23.0
    # The CI is defined as lifelines' median_survival_times(confidence_interval_).
    kmf = KaplanMeierFitter().fit(
        [d / 30.4375 for d in (300, 500, 400, 700, 1200)], [True, False, False, True, False]
    )
    lower, upper = median_survival_times(kmf.confidence_interval_).iloc[0].tolist()
    expected_ci = [round_half_up(lower, 2), round_half_up(upper, 2)]
    assert relapse_free["median_ci"] == expected_ci
    assert relapse_free["median_ci"][0] <= 23.0
    curve = relapse_free["curve"]
    assert curve["survival"][0] == 1.0 and curve["at_risk"][0] == 5
    assert len(curve["months"]) == len(curve["lower"]) == len(curve["upper"])


def test_R8_relapse_before_as_of_only():
    # R1's relapse on d328 lies after as_of = d300 → censored at its last clinic visit d56:
    # 28 days. All five censored → KM 1.0 where followed; median not reached → null.
    _, patients = _relapse_cohort()
    relapse_free = report(patients, day(300))["relapse_free"]
    assert relapse_free["events"] == 0
    assert relapse_free["median_months"] is None
    assert relapse_free["median_ci"] == [None, None]


# 4 responders (baseline 250, response d28 CDAI 100); one relapses 100 days later, the
# others are censored at 400, 500 and 600 days → S = 3/4 = 0.75 from day 100 on.
# 12 mo (365.25 d ≤ 600) → 0.75; 24 mo = 730.5 d > 600 → null. S never ≤ 0.5 → median
# not reached → null, and so is the CI's upper bound.
def test_R8_km_four_patients_one_event_and_median_not_reached():
    base = {"recorded_baseline_cdai": D(250)}
    patients = [
        patient("K1", visits=(clinic(28, 100), clinic(128, 260)), **base),
        patient("K2", visits=(clinic(28, 100), clinic(428, 100)), **base),
        patient("K3", visits=(clinic(28, 100), clinic(528, 100)), **base),
        patient("K4", visits=(clinic(28, 100), clinic(628, 100)), **base),
    ]
    relapse_free = report(patients, day(1000))["relapse_free"]
    assert (relapse_free["n"], relapse_free["events"]) == (4, 1)
    assert relapse_free["km"] == {"12": 0.75, "24": None, "36": None, "48": None, "60": None}
    assert relapse_free["median_months"] is None
    assert relapse_free["median_ci"][1] is None


def test_R8_km_median_reached_exactly_at_one_half():
    # 6 patients, events at 100, 200, 300 days, censored at 400, 500, 600:
    # S = 5/6 × 4/5 × 3/4 = 0.5 exactly at 300 days → median 300/30.4375 = 9.856 → 9.86.
    # (lifelines' log-space product gives 0.5000000000000001 there; the true value is 0.5.)
    summary = kaplan_meier([100, 200, 300, 400, 500, 600], [True, True, True, False, False, False])
    assert summary["median_months"] == 9.86
    assert summary["km"]["12"] == 0.5  # 365.25 d ≤ 600
    assert summary["events"] == 3


# Response day → included in the relapse-free analysis?
RESPONSE_BY_DAY_182 = [
    pytest.param(182, 1, id="R8-response-on-day182-included"),
    pytest.param(183, 0, id="R8-response-on-day183-excluded"),
]


@pytest.mark.parametrize(("response_day", "n"), RESPONSE_BY_DAY_182)
def test_R8_relapse_free_needs_response_by_day_182(response_day, n):
    one = patient("P", recorded_baseline_cdai=D(250), visits=(clinic(response_day, 150),))
    assert report([one], day(400))["relapse_free"]["n"] == n


# ---------------------------------------------------------------------------
# R8 adverse events (Li 2020 Table 4) and AE-free survival
# ---------------------------------------------------------------------------
#
# as_of day 500; n = 4.
# P1: peripheral neuropathy d30 (thalidomide withdrawn), again d60 (no action),
#     somnolence d90 (BOTH withdrawn, hospitalised).
# P2: leukopenia d10 (azathioprine withdrawn), vertigo d20.
# P3: constipation d40 (thalidomide reduced); a rash on day −5 (before therapy) and
#     nausea on d600 (after as_of) are ignored.
# P4: none; last clinic visit d400 (a phone contact d450 does not count).
# Patients with ≥ 1 event: 3/4 = 75.0 %; events 3 + 2 + 1 = 6.
# by_term counts PATIENTS: peripheral_neuropathy 1 (2 events), somnolence 1,
# leukopenia 1, vertigo 1, constipation 1, rash 0.
# nervous_system: P1 (neuropathy, somnolence), P2 (vertigo) → 2 patients.
# Withdrawals (events): thalidomide only 1 (P1 d30); azathioprine only 1 (P2 d10);
# both 1 (P1 d90, left out of the two per-drug counts); hospitalised 1.
# AE-free: events at 10 (P2), 30 (P1), 40 (P3); P4 censored at 400.
# S: 3/4 → × 2/3 = 0.5 at day 30 → × 1/2 = 0.25 at day 40.
# 12 mo = 365.25 ≤ 400 → 0.25; 24 mo → null. Median = 30 d = 0.986 → 0.99 months.


def _ae_cohort():
    return day(500), [
        patient(
            "P1",
            adverse_events=(
                ae(30, "peripheral_neuropathy", thal="withdrawn"),
                ae(60, "peripheral_neuropathy"),
                ae(90, "somnolence", thal="withdrawn", aza="withdrawn", hospitalised=True),
            ),
        ),
        patient(
            "P2",
            adverse_events=(
                ae(10, "leukopenia", aza="withdrawn", drug="azathioprine"),
                ae(20, "vertigo"),
            ),
        ),
        patient(
            "P3",
            adverse_events=(
                ae(-5, "rash"),
                ae(40, "constipation", thal="reduced"),
                ae(600, "nausea"),
            ),
        ),
        patient("P4", visits=(clinic(400, 100), phone(450))),
    ]


def test_R8_adverse_event_counts():
    as_of, patients = _ae_cohort()
    events = report(patients, as_of)["adverse_events"]
    assert (events["patients"], events["pct"], events["events"]) == (3, 75.0, 6)
    expected_terms = {term: 0 for term in AE_TERMS}
    expected_terms.update(
        peripheral_neuropathy=1, somnolence=1, leukopenia=1, vertigo=1, constipation=1
    )
    assert events["by_term"] == expected_terms
    assert events["by_term_events"]["peripheral_neuropathy"] == 2
    assert events["nervous_system_patients"] == 2
    assert events["thalidomide_withdrawn"] == 1
    assert events["azathioprine_withdrawn"] == 1
    assert events["both_withdrawn"] == 1
    assert events["hospitalised"] == 1


def test_R8_ae_free_survival():
    as_of, patients = _ae_cohort()
    events = report(patients, as_of)["adverse_events"]
    assert events["ae_free_km"] == {"12": 0.25, "24": None, "36": None, "48": None, "60": None}
    assert events["ae_free"]["n"] == 4
    assert events["ae_free"]["events"] == 3
    assert events["ae_free"]["median_months"] == 0.99


def test_R8_nervous_system_group_counts_each_patient_once():
    # One patient with all five nervous-system codes, one with leukopenia only:
    # nervous_system 1 patient; by_term 1 for each of the five codes.
    terms = ("peripheral_neuropathy", "somnolence", "vertigo", "fatigue", "insomnia")
    patients = [
        patient("N1", adverse_events=tuple(ae(10 + i, t) for i, t in enumerate(terms))),
        patient("N2", adverse_events=(ae(10, "leukopenia"),)),
    ]
    events = report(patients, day(100))["adverse_events"]
    assert events["nervous_system_patients"] == 1
    assert all(events["by_term"][term] == 1 for term in terms)
    assert events["events"] == 6


# ---------------------------------------------------------------------------
# Rounding in the report: 1/8, 1/16 and a mean on a half
# ---------------------------------------------------------------------------


def test_R8_percentage_one_in_eight_is_12_5():
    patients = [patient(f"Q{i}") for i in range(8)]
    patients[0] = patient("Q0", adverse_events=(ae(5, "nausea"),))
    # 1/8 × 100 = 12.5 %
    assert report(patients, day(30))["adverse_events"]["pct"] == 12.5


def test_R8_half_up_in_report_figures():
    # 16 patients: one adverse event → 1/16 = 6.25 % → 6.3 (round() would give 6.2).
    # Baselines 15 × 200 and 1 × 202 → mean 3202/16 = 200.125 → 200.13 (round(): 200.12);
    # SD: 15 × 0.125² + 1.875² = 0.234375 + 3.515625 = 3.75; /15 = 0.25; √ = 0.5.
    patients = [patient(f"H{i}", recorded_baseline_cdai=D(200)) for i in range(15)]
    patients.append(
        patient("H15", recorded_baseline_cdai=D(202), adverse_events=(ae(5, "nausea"),))
    )
    result = report(patients, day(30))
    assert result["adverse_events"]["pct"] == 6.3
    assert result["induction"]["cdai_mean_sd"]["0"] == [200.13, 0.5]


# ---------------------------------------------------------------------------
# R8 endoscopy (R2.1 baseline window, R2.4 outcomes)
# ---------------------------------------------------------------------------
#
# as_of day 500.
# E1: baseline d−30 CDEIS 14 (ulcers); d200 CDEIS 6 (< 7 remission; no ulcers = MH);
#     d400 CDEIS 8, ulcers (last). → remission yes, MH (any) yes, MH at last no;
#     CDEIS pair (14, 8).
# E2: baseline d10 CDEIS 12, Rutgeerts 3; d300 CDEIS 7 (not < 7) but Rutgeerts 1 (≤ 1 from
#     ≥ 2) → remission; no ulcers → MH (also at last). Pairs CDEIS (12, 7), Rutgeerts (3, 1).
# E3: only endoscopy before day −90 (d−100) → no baseline → not included.
# E4: baseline d0, the follow-up is after as_of → no later endoscopy → not included.
# E5: baseline d−10 CDEIS 9; d100 no scores, ulcers → included, not in remission, no MH.
# n = 3 (E1, E2, E5). Remission 2/3 = 66.67 → 66.7 %; MH (any) 2/3 → 66.7 %;
# MH at last 1/3 = 33.33 → 33.3 %.
# CDEIS baseline 14, 12 → mean 13, SD √((1 + 1)/1) = 1.414 → 1.41;
# follow-up 8, 7 → mean 7.5, SD √((0.25 + 0.25)/1) = 0.707 → 0.71.
# Rutgeerts: one pair → baseline [3, null], follow-up [1, null] (SD of one value).


def endo(key, n, cdeis=None, rutgeerts=None, ulceration=None):
    return EndoObs(
        key=key,
        date=day(n),
        cdeis=None if cdeis is None else D(str(cdeis)),
        rutgeerts=rutgeerts,
        ulceration=ulceration,
    )


def test_R8_endoscopy():
    patients = [
        patient(
            "E1",
            endoscopies=(
                endo("a", -30, 14, ulceration=True),
                endo("b", 200, 6, ulceration=False),
                endo("c", 400, 8, ulceration=True),
            ),
        ),
        patient(
            "E2",
            endoscopies=(
                endo("a", 10, 12, rutgeerts=3, ulceration=True),
                endo("b", 300, 7, rutgeerts=1, ulceration=False),
            ),
        ),
        patient("E3", endoscopies=(endo("a", -100, 10), endo("b", 200, 2))),
        patient("E4", endoscopies=(endo("a", 0, 16, rutgeerts=4), endo("b", 600, 1))),
        patient("E5", endoscopies=(endo("a", -10, 9), endo("b", 100, ulceration=True))),
    ]
    endoscopy = report(patients, day(500))["endoscopy"]
    assert endoscopy["n"] == 3
    assert endoscopy["remission"] == {"n": 2, "pct": 66.7}
    assert endoscopy["mucosal_healing"] == {"n": 2, "pct": 66.7}
    assert endoscopy["mucosal_healing_at_last"] == {"n": 1, "pct": 33.3}
    assert endoscopy["cdeis_mean_sd"] == {
        "baseline": [13.0, 1.41],
        "follow_up": [7.5, 0.71],
        "n": 2,
    }
    assert endoscopy["rutgeerts_mean_sd"] == {
        "baseline": [3.0, None],
        "follow_up": [1.0, None],
        "n": 1,
    }


# ---------------------------------------------------------------------------
# R8 titration (R3.5 codes) and exposure
# ---------------------------------------------------------------------------


def test_R8_titration_counts_every_code():
    patients = [
        patient(
            "T1",
            thalidomide_doses=(
                CohortDose(day(0), D(25)),
                CohortDose(day(10), D(50), ("step_too_soon",), overridden=True),
                CohortDose(day(30), D(150), ("step_too_large", "above_max_dose")),
                CohortDose(day(50), D(0)),
            ),
        ),
        patient(
            "T2",
            thalidomide_doses=(
                CohortDose(day(0), D(50), ("start_dose_not_25",)),
                CohortDose(day(90), D(75), ("step_too_soon",), overridden=True),  # after as_of
            ),
        ),
    ]
    titration = report(patients, day(60))["titration"]
    # rows on or before as_of: 4 + 1 = 5; one override (T2's is after as_of)
    expected = {code: 0 for code in DEVIATION_CODES}
    expected.update(step_too_soon=1, step_too_large=1, above_max_dose=1, start_dose_not_25=1)
    assert titration == {"dose_changes": 5, "deviations": expected, "overrides": 1}


# R9.5 prescriptions, as_of = day 60, start day 0 for all; P3 is UC (left out of the CD report).
# P1: d0 no code, dispensed d0 (no dispense-by: in time);
#     d14 supply_too_long + early_repeat, dispensed d20 ≤ dispense-by d21 → in time;
#     d42 dispensed_too_late, dispensed d55 > d49 → late (dispensed ≤ as_of, so the code counts);
#     d70 issued after as_of → not counted at all.
# P2: d5 contraception_not_confirmed, overridden, never dispensed (not in the dispensed denominator);
#     d50 dispensed_too_late but dispensed d65 > as_of → as of d60 not dispensed: the code is
#         dropped (no code left → counts as without a code) and it is not in the denominator.
# Issued: P1 3 + P2 2 = 5. Codes: supply_too_long 1, early_repeat 1, dispensed_too_late 1
# (d42 only), contraception_not_confirmed 1, every other code 0.
# Without a code: P1 d0, P2 d50 → 2 / 5 = 40.0 %.
# Dispensed by d60: P1 d0, d14, d42 → 3; in time: d0 (no dispense-by), d14 (d20 ≤ d21) → 2 / 3
# = 66.666… → 66.7 %. Overrides: P2 d5 → 1.
def _prescription_cohort():
    return day(60), [
        patient("P1", prescriptions=(
            CohortPrescription(day(0), (), dispensed_date=day(0)),
            CohortPrescription(day(14), ("supply_too_long", "early_repeat"), dispensed_date=day(20),
                               dispense_by=day(21)),
            CohortPrescription(day(42), ("dispensed_too_late",), dispensed_date=day(55), dispense_by=day(49)),
            CohortPrescription(day(70), ("no_recent_negative_test",), dispensed_date=day(70)),
        )),
        patient("P2", prescriptions=(
            CohortPrescription(day(5), ("contraception_not_confirmed",), overridden=True, dispense_by=day(12)),
            CohortPrescription(day(50), ("dispensed_too_late",), dispensed_date=day(65), dispense_by=day(57)),
        )),
        patient("P3", diagnosis="UC", prescriptions=(CohortPrescription(day(1), ("supply_too_long",)),)),
    ]


def test_R9_5_prescriptions_as_of_the_report_date():
    as_of, patients = _prescription_cohort()
    expected_codes = {code: 0 for code in PRESCRIPTION_CODES}
    expected_codes.update(supply_too_long=1, early_repeat=1, dispensed_too_late=1, contraception_not_confirmed=1)
    assert report(patients, as_of)["prescriptions"] == {
        "issued": 5, "deviations": expected_codes, "no_deviation_pct": 40.0, "dispensed_in_time_pct": 66.7,
        "no_deviation": 2, "dispensed": 3, "dispensed_in_time": 2, "overrides": 1,
    }
    assert list(report(patients, as_of)["prescriptions"]["deviations"]) == list(PRESCRIPTION_CODES)  # R9.3 order
    # All diagnoses: P3's d1 prescription joins (supply_too_long 2; 6 issued, 2 without a code → 33.3 %).
    everyone = report(patients, as_of, diagnosis="all")["prescriptions"]
    assert (everyone["issued"], everyone["deviations"]["supply_too_long"], everyone["no_deviation_pct"]) == (6, 2, 33.3)
    # As of day 65 P2's d50 dispensing is known: late (d65 > d57); d70 not yet issued.
    later = report(patients, day(65))["prescriptions"]
    assert (later["deviations"]["dispensed_too_late"], later["dispensed"], later["dispensed_in_time"]) == (2, 4, 2)
    assert later["dispensed_in_time_pct"] == 50.0 and later["no_deviation_pct"] == 20.0  # 2/4; 1/5


def test_R9_5_no_prescription_gives_nulls():
    result = report([patient("N1")], day(30))["prescriptions"]
    assert result == {
        "issued": 0, "deviations": {code: 0 for code in PRESCRIPTION_CODES}, "no_deviation_pct": None,
        "dispensed_in_time_pct": None, "no_deviation": 0, "dispensed": 0, "dispensed_in_time": 0, "overrides": 0,
    }


# as_of = day 29.
# X1: 25 mg d0, 50 mg d14, stopped d28 → active d0–d27 = 28 days;
#     25 × 14 + 50 × 14 = 1050 mg = 1.05 g.
# X2: 100 mg from d0, ongoing → active d0–d29 = 30 days; 100 × 30 = 3000 mg = 3.0 g.
# X3: no dose rows, start d0, ongoing → 30 days from start/stop; dose unknown.
# X4: no dose rows, stop d10 → days 0–9 = 10 days.
# Days 28 + 30 + 30 + 10 = 98 → 98/30.4375 = 3.2197 → 3.22 patient-months.
# One adverse event (X1, d5) → 1 × 100 / 3.2197 = 3043.75/98 = 31.0587 → 31.06.
# Cumulative dose over X1, X2: [1.05, 3.0]: median 2.025 → 2.03 (half up);
# q1 = 1.05 + 0.25 × 1.95 = 1.5375 → 1.54; q3 = 1.05 + 0.75 × 1.95 = 2.5125 → 2.51.
def _exposure_cohort():
    return day(29), [
        patient(
            "X1",
            stop=day(28),
            thalidomide_doses=(
                CohortDose(day(0), D(25)),
                CohortDose(day(14), D(50)),
                CohortDose(day(28), D(0)),
            ),
            adverse_events=(ae(5, "somnolence"),),
        ),
        patient("X2", thalidomide_doses=(CohortDose(day(0), D(100)),)),
        patient("X3"),
        patient("X4", stop=day(10)),
    ]


def test_R8_exposure():
    as_of, patients = _exposure_cohort()
    exposure = report(patients, as_of)["exposure"]
    assert exposure["patient_months"] == 3.22
    assert exposure["ae_per_100_patient_months"] == 31.06
    assert exposure["cumulative_dose_g_median_iqr"] == [2.03, 1.54, 2.51]
    assert exposure["cumulative_dose_n"] == 2


def test_R8_days_active_agrees_with_titration_thalidomide_active():
    rows = [
        DoseRow(day(0), D(25)),
        DoseRow(day(14), D(50)),
        DoseRow(day(28), D(0)),
        DoseRow(day(40), D(25)),  # restart
    ]
    as_of = day(60)
    by_day = sum(thalidomide_active(rows, day(n)) for n in range(-5, 61))
    # d0–d27 (28) + d40–d60 (21) = 49
    assert by_day == 49
    assert days_active(rows, as_of) == 49


# ---------------------------------------------------------------------------
# interfaces.md §3: the JSON keys, and the empty cohort
# ---------------------------------------------------------------------------

WEEKS = ("4", "8", "12", "24")
WEEKS0 = ("0", *WEEKS)
KM_KEYS = ("12", "24", "36", "48", "60")
# Transcribed from interfaces.md §3. A dict lists required keys (more may be added);
# an int is the length of a list; None is any value.
RATE = {"n": None, "pct": None}
SCHEMA = {
    "as_of": None,
    "rules_version": None,
    "n_patients": None,
    "induction": {
        "response": {week: RATE for week in WEEKS},
        "remission": {week: RATE for week in WEEKS},
        "cdai_mean_sd": {week: 2 for week in WEEKS0},
        "crp_median_iqr": {week: 3 for week in WEEKS0},
        "esr_median_iqr": {week: 3 for week in WEEKS0},
    },
    "relapse_free": {
        "n": None,
        "events": None,
        "km": {month: None for month in KM_KEYS},
        "median_months": None,
        "median_ci": 2,
    },
    "adverse_events": {
        "patients": None,
        "pct": None,
        "events": None,
        "by_term": {"peripheral_neuropathy": None},
        "nervous_system_patients": None,
        "thalidomide_withdrawn": None,
        "azathioprine_withdrawn": None,
        "both_withdrawn": None,
        "hospitalised": None,
        "ae_free_km": {month: None for month in KM_KEYS},
    },
    "endoscopy": {
        "n": None,
        "remission": RATE,
        "mucosal_healing": RATE,
        "cdeis_mean_sd": {"baseline": 2, "follow_up": 2},
        "rutgeerts_mean_sd": {"baseline": 2, "follow_up": 2},
    },
    "titration": {"dose_changes": None, "deviations": {"step_too_soon": None}, "overrides": None},
    "exposure": {
        "patient_months": None,
        "ae_per_100_patient_months": None,
        "cumulative_dose_g_median_iqr": 3,
    },
    "prescriptions": {
        "issued": None,
        "deviations": {code: None for code in PRESCRIPTION_CODES},
        "no_deviation_pct": None,
        "dispensed_in_time_pct": None,
    },
}


def _check_schema(value, schema, path="report"):
    if isinstance(schema, dict):
        assert isinstance(value, dict), path
        missing = set(schema) - set(value)
        assert not missing, f"{path} lacks {sorted(missing)}"
        for key, sub in schema.items():
            _check_schema(value[key], sub, f"{path}.{key}")
    elif isinstance(schema, int):
        assert isinstance(value, list) and len(value) == schema, path


def _numbers_are_json_ready(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _numbers_are_json_ready(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_numbers_are_json_ready(v) for v in value)
    return value is None or isinstance(value, (str, int, float))  # never Decimal or numpy


@pytest.mark.parametrize(
    "build",
    [_induction_cohort, _relapse_cohort, _ae_cohort, _exposure_cohort, _prescription_cohort],
    ids=["R8-keys-induction", "R8-keys-relapse", "R8-keys-ae", "R8-keys-exposure", "R9-keys-prescriptions"],
)
def test_R8_json_keys_match_interfaces_section_3(build):
    as_of, patients = build()
    result = report(patients, as_of)
    _check_schema(result, SCHEMA)
    # week and month keys are exactly those of §3
    assert set(result["induction"]["response"]) == set(WEEKS)
    assert set(result["induction"]["cdai_mean_sd"]) == set(WEEKS0)
    assert set(result["relapse_free"]["km"]) == set(KM_KEYS)
    assert set(result["adverse_events"]["ae_free_km"]) == set(KM_KEYS)
    assert set(DEVIATION_CODES) <= set(result["titration"]["deviations"])
    assert result["as_of"] == as_of.isoformat() and result["rules_version"] == "test-1"
    assert _numbers_are_json_ready(result)
    json.dumps(result, allow_nan=False)


def test_R8_empty_cohort_gives_nulls_and_zeros():
    result = report([patient("uc", diagnosis="UC")], day(100))
    _check_schema(result, SCHEMA)
    json.dumps(result, allow_nan=False)
    assert result["n_patients"] == 0
    assert result["induction"]["response"]["4"] == {"n": 0, "pct": None, "of": 0}
    assert result["induction"]["cdai_mean_sd"]["0"] == [None, None]
    assert result["induction"]["crp_median_iqr"]["24"] == [None, None, None]
    assert result["relapse_free"]["n"] == 0 and result["relapse_free"]["events"] == 0
    assert result["relapse_free"]["km"] == {month: None for month in KM_KEYS}
    assert result["relapse_free"]["median_months"] is None
    assert result["relapse_free"]["median_ci"] == [None, None]
    assert result["adverse_events"]["patients"] == 0
    assert result["adverse_events"]["pct"] is None
    assert result["adverse_events"]["ae_free_km"] == {month: None for month in KM_KEYS}
    assert result["endoscopy"]["remission"] == {"n": 0, "pct": None}
    assert result["endoscopy"]["cdeis_mean_sd"]["baseline"] == [None, None]
    assert result["titration"]["dose_changes"] == 0
    assert result["exposure"]["patient_months"] == 0.0
    assert result["exposure"]["ae_per_100_patient_months"] is None
    assert result["exposure"]["cumulative_dose_g_median_iqr"] == [None, None, None]
