"""The network report (reports/network.py; issue 18) from cases worked by hand, no database.

Day 0 = 2021-01-01; the report is as of day 600. Every Crohn's disease patient has a
recorded baseline CDAI of 250, so (R2.2, thresholds 150 / 70) a week-12 CDAI of 100–140 is
remission, 170 response only, 240 no response. The week-12 window (days 77–91) has closed
for a course started on day 0, not for one started on day 550.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from reports.cohort import (
    CohortAdverseEvent,
    CohortDose,
    CohortPatient,
    CohortVisit,
    patient_figures,
)
from reports.cohort_blocks import comparison_blocks, report_from_figures
from reports.network import (
    ABOVE,
    ADDS_UP,
    BELOW,
    INSIDE,
    comparison_row,
    control_limits,
    curve_points,
    funnel,
    network_report,
)
from thalimon.rules_config import RuleSettings

START = date(2021, 1, 1)
D = Decimal
RULES = RuleSettings()


def day(n):
    return START + timedelta(days=n)


def clinic(n, cdai):
    return CohortVisit(date=day(n), contact="clinic", cdai=cdai)


def dose(n, mg, *deviations, overridden=False):
    return CohortDose(date=day(n), dose_mg=D(mg), deviations=deviations, overridden=overridden)


def ae(n, term="rash"):
    return CohortAdverseEvent(onset=day(n), term=term, drug="thalidomide", action_thalidomide="none",
                              action_azathioprine="none", hospitalised=False)


def patient(code, *visits, start=0, diagnosis="CD", **fields):
    return CohortPatient(code=code, diagnosis=diagnosis, start=day(start), stop=None,
                         recorded_baseline_cdai=D(250), visits=visits, **fields)


def network_cohort():
    """Site A: 4 patients (remission, response, no response, no visit); site B: 4 (three in
    remission, one started on day 550 whose week 12 is not due); site C: one UC patient
    only (outside a CD report)."""
    return {
        "A": [
            patient("A1", clinic(84, 100), clinic(500, 110), adverse_events=(ae(100),),
                    thalidomide_doses=(dose(0, 25), dose(10, 75, "step_too_large", "step_too_soon"), dose(30, 100))),
            patient("A2", clinic(84, 170), clinic(300, 260),
                    thalidomide_doses=(dose(0, 50, "start_dose_not_25", overridden=True),
                                       dose(700, 0, "dose_not_in_steps"))),  # after as_of: not counted
            patient("A3", clinic(84, 240)),
            patient("A4"),
        ],
        "B": [
            patient("B1", clinic(84, 100), clinic(500, 120), thalidomide_doses=(dose(0, 25), dose(14, 50))),
            patient("B2", clinic(84, 120), clinic(450, 130), adverse_events=(ae(30, "somnolence"), ae(40))),
            patient("B3", clinic(84, 140), clinic(200, 240)),
            patient("B4", start=550, thalidomide_doses=(dose(550, 25),)),
        ],
        "C": [patient("C1", diagnosis="UC", thalidomide_doses=(dose(0, 75, "start_dose_not_25"),))],
    }


def report(groups, **options):
    return network_report(
        groups, as_of=day(600), diagnosis=options.pop("diagnosis", "CD"), rules_version="test-1",
        remission_below=RULES.remission_cdai_below, response_drop=RULES.response_cdai_drop,
        cdeis_remission_below=RULES.cdeis_remission_below, **options,
    )


# Worked by hand (module docstring):
# * response / remission at week 12: A 2/4 (50.0 %) / 1/4 (25.0 %); B 3/3 / 3/3 (B4 not due);
#   network 5/7 (71.4 %) / 4/7 (57.1 %).
# * relapse-free: origins at day 84. A1 censored day 500 (416 d), A2 relapses day 300 (216 d:
#   260 > 150 and > 170 + 70); B1 censored 416 d, B2 366 d, B3 relapses day 200 (116 d: 240 > 140 + 70).
#   KM at 12 months (365.25 d): A 1/2 = 0.5; B 2/3 = 0.667; network 4/5 · 3/4 = 0.6 (not the
#   sites' average, 0.583).
# * exposure: every course active from its start to day 600 (601 days; B4 51 days): A 2404 days =
#   78.98 patient-months, 1 AE → 100 · 30.4375 / 2404 = 1.27; B 1854 days = 60.91, 2 AEs → 3.28;
#   network 4258 days = 139.89, 3 AEs → 2.14.
# * titration: A 4 rows up to day 600 (A2's day-700 row left out), 3 codes, 2 rows with a code
#   (the overridden one counts) → 50.0 %; B 3 rows, none → 0.0 %; network 7 rows, 2 → 28.6 %.
EXPECTED = {
    "A": dict(patients=4, response_n=2, response_of=4, response_pct=50.0, remission_n=1, remission_of=4,
              remission_pct=25.0, relapse_free_n=2, relapse_free_events=1, relapse_free_12m=0.5, ae_events=1,
              patient_months=78.98, ae_per_100_patient_months=1.27, dose_changes=4, deviation_findings=3,
              dose_changes_with_deviation=2, deviation_rate_pct=50.0),
    "B": dict(patients=4, response_n=3, response_of=3, response_pct=100.0, remission_n=3, remission_of=3,
              remission_pct=100.0, relapse_free_n=3, relapse_free_events=1, relapse_free_12m=0.667, ae_events=2,
              patient_months=60.91, ae_per_100_patient_months=3.28, dose_changes=3, deviation_findings=0,
              dose_changes_with_deviation=0, deviation_rate_pct=0.0),
    "C": dict(patients=0, response_n=0, response_of=0, response_pct=None, remission_n=0, remission_of=0,
              remission_pct=None, relapse_free_n=0, relapse_free_events=0, relapse_free_12m=None, ae_events=0,
              patient_months=0.0, ae_per_100_patient_months=None, dose_changes=0, deviation_findings=0,
              dose_changes_with_deviation=0, deviation_rate_pct=None),
    "network": dict(patients=8, response_n=5, response_of=7, response_pct=71.4, remission_n=4, remission_of=7,
                    remission_pct=57.1, relapse_free_n=5, relapse_free_events=2, relapse_free_12m=0.6, ae_events=3,
                    patient_months=139.89, ae_per_100_patient_months=2.14, dose_changes=7, deviation_findings=3,
                    dose_changes_with_deviation=2, deviation_rate_pct=28.6),
}


@pytest.mark.parametrize("site", ["A", "B", "C", "network"])
def test_comparison_rows_worked_by_hand(site):
    result = report(network_cohort(), names={"A": "Alpha hospital"})
    rows = {row["site"]: row for row in result["sites"]}
    row = result["network"] if site == "network" else rows[site]
    assert {key: row[key] for key in EXPECTED[site]} == EXPECTED[site]


def test_sites_in_code_order_with_names_and_the_report_header():
    result = report(network_cohort(), names={"A": "Alpha hospital"})
    assert [(row["site"], row["name"]) for row in result["sites"]] == [("A", "Alpha hospital"), ("B", ""), ("C", "")]
    assert (result["as_of"], result["diagnosis"], result["week"], result["relapse_free_month"]) == (
        "2022-08-24", "CD", 12, 12)


def test_counts_add_up_from_the_sites_to_the_network():
    result = report(network_cohort())
    for key in ADDS_UP:
        assert sum(row[key] for row in result["sites"]) == result["network"][key], key


def test_all_diagnoses_counts_the_uc_patient_but_not_in_the_crohns_blocks():
    result = report(network_cohort(), diagnosis="all")
    rows = {row["site"]: row for row in result["sites"]}
    # C1 (UC) is in the cohort: 601 days, 1 row with a deviation; no CDAI, so not in week 12.
    assert (rows["C"]["patients"], rows["C"]["remission_of"], rows["C"]["dose_changes_with_deviation"]) == (1, 0, 1)
    assert (result["network"]["patients"], result["network"]["dose_changes"],
            result["network"]["deviation_rate_pct"]) == (9, 8, 37.5)  # 3 of 8
    assert result["funnel"]["not_placed"] == ["C"]


def test_funnel_of_the_network_cohort():
    """p = 4/7. A (n 4, 0.25): √(p(1−p)/4) = √3/7 = 0.247436; 95 %: 4/7 − 0.484965 = 0.0865, upper
    clipped to 1; 99.8 %: 4/7 − 0.764634 < 0 → 0. B (n 3, 1.0): √(p(1−p)/3) = 2/7; 95 %: 4/7 −
    0.559990 = 0.0114, upper clipped to 1: B sits on the upper limit, inside. C: no denominator."""
    plot = report(network_cohort())["funnel"]
    assert plot["pooled"] == {"n": 4, "of": 7, "proportion": 0.5714}
    assert plot["levels"] == [{"level": "95", "z": 1.959964}, {"level": "99.8", "z": 3.090232}]
    assert plot["not_placed"] == ["C"]
    assert plot["sites"] == [
        {"site": "A", "name": "", "n": 4, "remitted": 1, "proportion": 0.25,
         "limits": {"95": [0.0865, 1.0], "99.8": [0.0, 1.0]}, "position": {"95": INSIDE, "99.8": INSIDE}},
        {"site": "B", "name": "", "n": 3, "remitted": 3, "proportion": 1.0,
         "limits": {"95": [0.0114, 1.0], "99.8": [0.0, 1.0]}, "position": {"95": INSIDE, "99.8": INSIDE}},
    ]
    assert plot["curves"]["n"] == [1, 2, 3, 4]
    # n = 1: √(12/49) = 0.494872; 95 %: 4/7 − 0.969932 < 0 → 0, upper 1; n = 4 as site A.
    assert plot["curves"]["95"]["lower"] == [0.0, 0.0, 0.0114, 0.0865]
    assert plot["curves"]["95"]["upper"] == [1.0, 1.0, 1.0, 1.0]


def _row(site, remitted, of):
    return {"site": site, "remission_n": remitted, "remission_of": of}


# p = 1/2, n = 20: √(0.25/20) = 0.111803; 95 % half-width 0.219131 → [0.2809, 0.7191];
# 99.8 % half-width 0.345498 → [0.1545, 0.8455]. n = 4: √(0.25/4) = 0.25; 95 % → [0.0100, 0.9900]
# (0.5 ∓ 0.489991); 99.8 % half-width 0.772558 → clipped to [0, 1].
FUNNEL_CASES = [
    pytest.param(0, 20, 0.0, (BELOW, BELOW), id="0/20-below-both"),
    pytest.param(5, 20, 0.25, (BELOW, INSIDE), id="5/20-below-95-inside-99.8"),
    pytest.param(10, 20, 0.5, (INSIDE, INSIDE), id="10/20-at-p-inside"),
    pytest.param(15, 20, 0.75, (ABOVE, INSIDE), id="15/20-above-95-inside-99.8"),
    pytest.param(18, 20, 0.9, (ABOVE, ABOVE), id="18/20-above-both"),
    pytest.param(0, 4, 0.0, (BELOW, INSIDE), id="0/4-below-95-on-the-clipped-99.8-limit"),
    pytest.param(4, 4, 1.0, (ABOVE, INSIDE), id="4/4-above-95-on-the-clipped-99.8-limit"),
]


@pytest.mark.parametrize("remitted, n, proportion, positions", FUNNEL_CASES)
def test_funnel_positions_worked_by_hand(remitted, n, proportion, positions):
    plot = funnel([_row("S", remitted, n)], _row(None, 1, 2))
    (site,) = plot["sites"]
    assert site["proportion"] == proportion
    assert (site["position"]["95"], site["position"]["99.8"]) == positions
    expected_limits = {20: {"95": [0.2809, 0.7191], "99.8": [0.1545, 0.8455]},
                       4: {"95": [0.01, 0.99], "99.8": [0.0, 1.0]}}[n]
    assert site["limits"] == expected_limits


def test_control_limits_are_exact_and_clipped():
    low, high = control_limits(D(1) / 2, 4, D("1.959964"))
    assert (low, high) == (D("0.5") - D("0.489991"), D("0.5") + D("0.489991"))
    assert control_limits(D(0), 10, D("3.090232")) == (D(0), D(0))  # p = 0: no spread
    assert control_limits(D(1), 10, D("3.090232")) == (D(1), D(1))


def test_funnel_with_no_denominator_places_nothing():
    plot = funnel([_row("A", 0, 0), _row("B", 0, 0)], _row(None, 0, 0))
    assert plot["pooled"] == {"n": 0, "of": 0, "proportion": None}
    assert plot["sites"] == [] and plot["not_placed"] == ["A", "B"]
    assert plot["curves"] == {"n": [], "95": {"lower": [], "upper": []}, "99.8": {"lower": [], "upper": []}}


def test_funnel_when_nobody_is_in_remission_every_site_is_inside_a_zero_width_funnel():
    plot = funnel([_row("A", 0, 5), _row("B", 0, 9)], _row(None, 0, 14))
    assert [s["position"] for s in plot["sites"]] == [{"95": INSIDE, "99.8": INSIDE}] * 2
    assert plot["curves"]["95"]["upper"] == [0.0] * 9


@pytest.mark.parametrize("max_n, expected", [
    (1, [1]), (3, [1, 2, 3]), (200, list(range(1, 201))), (203, [*range(1, 201), 202, 203]),
])
def test_curve_points(max_n, expected):
    assert curve_points(max_n) == expected


def test_curve_points_for_a_large_site_stay_few_and_end_at_it():
    points = curve_points(40_000)
    assert points[-1] == 40_000 and points == sorted(set(points)) and len(points) < 800


def test_a_patient_in_two_sites_is_refused():
    groups = {"A": [patient("X1")], "B": [patient("X1")]}
    with pytest.raises(ValueError, match="X1"):
        report(groups)


def test_an_empty_network():
    result = report({})
    assert result["sites"] == [] and result["network"]["patients"] == 0
    assert result["funnel"]["sites"] == [] and result["funnel"]["pooled"]["proportion"] is None


def test_the_funnel_figure_is_a_valid_plotly_figure_with_sites_coloured_by_position():
    import plotly.graph_objects as go

    from reports.network_charts import empty_message, funnel_figure, position_words

    plot = funnel([_row("X", 0, 20), _row("Y", 10, 20), _row("Z", 15, 20), _row("E", 0, 0)], _row(None, 1, 2))
    figure = funnel_figure(plot)
    go.Figure(figure)  # validates every property
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["99.8 % limits", "99.8 % limits", "95 % limits", "95 % limits", "Network: 50.0 %",
                     "Sites inside the 95 % limits", "Sites outside the 95 % limits",
                     "Sites outside the 99.8 % limits"]
    points = {trace["name"]: (trace["text"], trace["y"]) for trace in figure["data"] if "text" in trace}
    assert points == {"Sites inside the 95 % limits": (["Y"], [50.0]), "Sites outside the 95 % limits": (["Z"], [75.0]),
                      "Sites outside the 99.8 % limits": (["X"], [0.0])}
    assert empty_message(plot) is None
    assert position_words(plot) == {"E": "Not placed: nobody assessed at week 12 yet", "X": "Below the 99.8 % limit",
                                    "Y": "Inside the limits", "Z": "Above the 95 % limit"}


def test_no_funnel_figure_without_a_placed_site():
    from reports.network_charts import empty_message, funnel_figure

    plot = funnel([_row("A", 0, 0)], _row(None, 0, 0))
    assert funnel_figure(plot) is None
    assert empty_message(plot).startswith("No site has patients assessed at week 12 yet")


@pytest.mark.parametrize("diagnosis", ["CD", "all"])
def test_a_sites_row_reads_the_same_blocks_as_its_whole_cohort_report(diagnosis):
    """Each row is computed from ``comparison_blocks`` (only the blocks it reads); every such
    block is the whole report's, figure for figure, for each site and for the pool."""
    options = {"as_of": day(600), "diagnosis": diagnosis, "remission_below": RULES.remission_cdai_below,
               "response_drop": RULES.response_cdai_drop, "cdeis_remission_below": RULES.cdeis_remission_below}
    groups = network_cohort()
    groups["all"] = [p for patients in list(groups.values()) for p in patients]
    for code, patients in groups.items():
        figures = [f for f in (patient_figures(p, **options) for p in patients) if f is not None]
        whole = report_from_figures(figures, as_of=day(600), diagnosis=diagnosis, rules_version="test-1")
        blocks = comparison_blocks(figures)
        assert blocks["n_patients"] == whole["n_patients"], code
        for key in ("relapse_free", "titration", "exposure"):
            assert blocks[key] == whole[key], (code, key)
        for key in ("response", "remission"):
            assert blocks["induction"][key] == whole["induction"][key], (code, key)
        assert blocks["adverse_events"]["events"] == whole["adverse_events"]["events"], code
        assert comparison_row(blocks, 0) == comparison_row(whole, 0), code
