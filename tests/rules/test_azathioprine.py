"""R4.1–R4.3 and R4.5 azathioprine rules (therapy/rules/azathioprine.py), tables worked
by hand from clinical-rules.md.

Every expected value is written as a literal worked out on paper from the spec,
never computed by the code under test. Inputs are dated from day 0 = 2024-01-01
(see tests/rules/helpers.py for the calendar of the days used).

No database: the rules are pure functions.
"""

from datetime import date

import pytest

from tests.rules.helpers import START, D, day, rows
from therapy.rules.azathioprine import (
    aza_start_gate,
    blood_checkpoints,
    check_aza_dose,
    interpret_metabolites,
    next_blood_test_due,
    normalise_genotype,
)

# ---------------------------------------------------------------------------
# R4.1 / R4.2 azathioprine dose and genotype
# ---------------------------------------------------------------------------

W60 = ((0, "60"),)

# (dose, weights (day, kg), tpmt, nudt15, xanthine oxidase inhibitor,
#  mg/kg, allowed range, warning codes, contraindicated)
AZA_CASES = [
    # 60 kg: 2.0–2.5 mg/kg = 120–150 mg → nearest 25: 125–150
    pytest.param(125, W60, "normal", "normal", False, D("2.08"), (D("125"), D("150")), (), False,
                 id="R4.1-60kg-125-in-range"),
    pytest.param(150, W60, "normal", "normal", False, D("2.5"), (D("125"), D("150")), (), False,
                 id="R4.1-60kg-150-in-range"),
    pytest.param(100, W60, "normal", "normal", False, D("1.67"), (D("125"), D("150")),
                 ("aza_dose_outside_range",), False, id="R4.1-60kg-100-below"),
    pytest.param(175, W60, "normal", "normal", False, D("2.92"), (D("125"), D("150")),
                 ("aza_dose_outside_range",), False, id="R4.1-60kg-175-above"),
    # 45 kg: 90 → 100; 112.5 = 4.5 × 25 → half up 125 (half-even would give 100)
    pytest.param(125, ((0, "45"),), "normal", "normal", False, D("2.78"), (D("100"), D("125")),
                 (), False, id="R4.1-45kg-112.5-rounds-half-up-to-125"),
    pytest.param(125, ((-91, "60"),), "normal", "normal", False, None, None, ("weight_missing",),
                 False, id="R4.1-weight-91-days-old"),
    pytest.param(125, ((-90, "60"),), "normal", "normal", False, D("2.08"), (D("125"), D("150")),
                 (), False, id="R4.1-weight-90-days-old-counts"),
    pytest.param(125, ((-100, "80"), (-10, "60")), "normal", "normal", False, D("2.08"),
                 (D("125"), D("150")), (), False, id="R4.1-latest-weight"),
    # xanthine oxidase inhibitor: 0.33 × 2.5 × 60 = 49.5 mg
    pytest.param(50, W60, "normal", "normal", True, D("0.83"), (D("0"), D("49.5")),
                 ("aza_with_xanthine_oxidase_inhibitor",), False, id="R4.1-allopurinol-50-above-49.5"),
    pytest.param(25, W60, "normal", "normal", True, D("0.42"), (D("0"), D("49.5")), (), False,
                 id="R4.1-allopurinol-25-ok"),
    pytest.param(25, (), "normal", "normal", True, None, None,
                 ("weight_missing", "aza_with_xanthine_oxidase_inhibitor"), False,
                 id="R4.1-allopurinol-without-weight"),
    # one intermediate: 30–80 % of 150 = 45–120 → 50 (nearest 25) – 120 (never rounded up)
    pytest.param(100, W60, "intermediate", "normal", False, D("1.67"), (D("50"), D("120")), (),
                 False, id="R4.2-one-intermediate-100"),
    pytest.param(125, W60, "intermediate", "normal", False, D("2.08"), (D("50"), D("120")),
                 ("aza_dose_above_genotype_limit",), False, id="R4.2-one-intermediate-125"),
    pytest.param(25, W60, "intermediate", "normal", False, D("0.42"), (D("50"), D("120")),
                 ("aza_dose_outside_range",), False, id="R4.2-one-intermediate-25-below"),
    pytest.param(125, W60, "normal", "Possible intermediate", False, D("2.08"),
                 (D("50"), D("120")), ("aza_dose_above_genotype_limit",), False,
                 id="R4.2-possible-intermediate-counts"),
    # both intermediate: 20–50 % of 150 = 30–75 → 25–75
    pytest.param(75, W60, "intermediate", "intermediate", False, D("1.25"), (D("25"), D("75")),
                 (), False, id="R4.2-both-intermediate-75"),
    pytest.param(100, W60, "intermediate", "intermediate", False, D("1.67"), (D("25"), D("75")),
                 ("aza_dose_above_genotype_limit",), False, id="R4.2-both-intermediate-100"),
    pytest.param(125, W60, "poor", "normal", False, D("2.08"), None,
                 ("aza_contraindicated_poor_metaboliser",), True, id="R4.2-tpmt-poor"),
    pytest.param(125, W60, "normal", "poor", False, D("2.08"), None,
                 ("aza_contraindicated_poor_metaboliser",), True, id="R4.2-nudt15-poor"),
    pytest.param(125, W60, "unknown", "normal", False, D("2.08"), (D("125"), D("150")),
                 ("aza_genotype_unknown",), False, id="R4.2-unknown"),
    pytest.param(125, W60, "normal", "indeterminate", False, D("2.08"), (D("125"), D("150")),
                 ("aza_genotype_unknown",), False, id="R4.2-indeterminate-is-unknown"),
    pytest.param(125, W60, "intermediate", "unknown", False, D("2.08"), (D("50"), D("120")),
                 ("aza_genotype_unknown", "aza_dose_above_genotype_limit"), False,
                 id="R4.2-intermediate-and-unknown"),
    pytest.param(125, W60, "intermediate", "normal", True, D("2.08"), (D("0"), D("49.5")),
                 ("aza_with_xanthine_oxidase_inhibitor", "aza_dose_above_genotype_limit"), False,
                 id="R4.2-intermediate-with-allopurinol"),
    pytest.param(0, W60, "normal", "normal", False, D("0"), (D("125"), D("150")), (), False,
                 id="R4.1-stopped-no-range-warning"),
]


@pytest.mark.parametrize(
    "dose, weights, tpmt, nudt15, xoi, mg_per_kg, allowed, warnings, contraindicated", AZA_CASES
)
def test_r4_azathioprine_dose(
    dose, weights, tpmt, nudt15, xoi, mg_per_kg, allowed, warnings, contraindicated
):
    check = check_aza_dose(
        dose_mg=D(str(dose)),
        on=START,
        weights=tuple((day(n), D(kg)) for n, kg in weights),
        tpmt=tpmt,
        nudt15=nudt15,
        xanthine_oxidase_inhibitor=xoi,
    )
    assert check.mg_per_kg == mg_per_kg
    assert check.allowed_range_mg == allowed
    assert tuple(finding.code for finding in check.warnings) == warnings
    assert check.contraindicated is contraindicated
    for finding in check.warnings:
        assert finding.rule in ("R4.1", "R4.2")
        assert finding.reason.endswith(f"({finding.rule}).")


def test_r4_1_ex02_intermediate_50_kg():
    # EX02: 100 mg, 50.2 kg, NUDT15 intermediate: 2.5 × 50.2 = 125.5; 30 % = 37.65 → 50;
    # 80 % = 100.4 → nearest 25 is 100 (≤ 100.4); 100 / 50.2 = 1.992… → 1.99
    check = check_aza_dose(
        dose_mg=D("100"),
        on=date(2021, 5, 10),
        weights=((date(2021, 5, 10), D("50.2")),),
        tpmt="normal",
        nudt15="intermediate",
        xanthine_oxidase_inhibitor=False,
    )
    assert check.mg_per_kg == D("1.99")
    assert check.allowed_range_mg == (D("50"), D("100"))
    assert check.warnings == ()


def test_r4_1_outside_range_reason_names_the_numbers():
    check = check_aza_dose(
        dose_mg=D("100"), on=START, weights=((START, D("60")),), tpmt="normal", nudt15="normal",
        xanthine_oxidase_inhibitor=False,
    )
    (finding,) = check.warnings
    assert "100 mg" in finding.reason
    assert "120–150 mg" in finding.reason
    assert "125–150 mg" in finding.reason


# (tpmt, nudt15, code or None)
GATE_CASES = [
    pytest.param("normal", "normal", None, id="R4.2-normal-normal"),
    pytest.param("intermediate", "normal", None, id="R4.2-intermediate-dose-adjusted-not-refused"),
    pytest.param("poor", "normal", "aza_contraindicated_poor_metaboliser", id="R4.2-tpmt-poor"),
    pytest.param("normal", "poor", "aza_contraindicated_poor_metaboliser", id="R4.2-nudt15-poor"),
    pytest.param("poor", "unknown", "aza_contraindicated_poor_metaboliser", id="R4.2-poor-wins"),
    pytest.param("unknown", "normal", "aza_genotype_unknown", id="R4.2-unknown"),
    pytest.param("Indeterminate", "normal", "aza_genotype_unknown", id="R4.2-indeterminate"),
    pytest.param(None, "normal", "aza_genotype_unknown", id="R4.2-not-recorded"),
    pytest.param("possible intermediate", "normal", None, id="R4.2-possible-intermediate"),
]


@pytest.mark.parametrize("tpmt, nudt15, code", GATE_CASES)
def test_r4_2_start_gate(tpmt, nudt15, code):
    finding = aza_start_gate(tpmt=tpmt, nudt15=nudt15)
    assert (finding.code if finding else None) == code
    if finding:
        assert finding.rule == "R4.2"


@pytest.mark.parametrize(
    "raw, value",
    [
        pytest.param("normal", "normal", id="normal"),
        pytest.param("Possible intermediate", "intermediate", id="possible-intermediate"),
        pytest.param("possible_intermediate", "intermediate", id="possible_intermediate"),
        pytest.param("INDETERMINATE", "unknown", id="indeterminate"),
        pytest.param("", "unknown", id="empty"),
        pytest.param(" Poor ", "poor", id="poor-with-spaces"),
    ],
)
def test_r4_2_genotype_normalised(raw, value):
    assert normalise_genotype(raw) == value


def test_r4_2_unrecognised_genotype_is_an_error():
    # a misspelt "poor" must never pass silently as "unknown"
    with pytest.raises(ValueError):
        normalise_genotype("poor metabolizer")


# ---------------------------------------------------------------------------
# R4.3 blood monitoring
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "until, checkpoints",
    [
        pytest.param(13, [], id="R4.3-none-before-day-14"),
        pytest.param(14, [date(2024, 1, 15)], id="R4.3-day-14"),
        pytest.param(
            260,
            [
                date(2024, 1, 15),  # 14
                date(2024, 1, 29),  # 28
                date(2024, 2, 26),  # 56
                date(2024, 3, 25),  # 84
                date(2024, 6, 17),  # 168
                date(2024, 9, 9),  # 252
            ],
            id="R4.3-14-28-56-84-then-every-84",
        ),
    ],
)
def test_r4_3_blood_checkpoints(until, checkpoints):
    assert blood_checkpoints(START, day(until)) == checkpoints


# (AZA rows, blood-count days, as of, due)
AZA_START = rows((0, 100))
BLOOD_CASES = [
    pytest.param(AZA_START, (), 5, date(2024, 1, 15), id="R4.3-first-checkpoint-day-14"),
    pytest.param(AZA_START, (7,), 8, date(2024, 1, 29), id="R4.3-day-7-covers-day-14"),
    pytest.param(AZA_START, (6,), 8, date(2024, 1, 15), id="R4.3-day-6-does-not-cover-14"),
    pytest.param(AZA_START, (21,), 22, date(2024, 2, 26), id="R4.3-day-21-covers-28"),
    pytest.param(AZA_START, (20,), 22, date(2024, 1, 29), id="R4.3-day-20-does-not-cover-28"),
    pytest.param(AZA_START, (7, 21), 25, date(2024, 2, 26), id="R4.3-most-recent-count"),
    pytest.param(AZA_START, (80,), 90, date(2024, 6, 17), id="R4.3-day-80-covers-84-next-168"),
    pytest.param(AZA_START, (250,), 255, date(2024, 12, 2), id="R4.3-every-84-days"),
    pytest.param(AZA_START, (10,), 8, date(2024, 1, 15), id="R4.3-count-after-as-of-ignored"),
    pytest.param(
        # dose change on day 100 (= 2024-04-10) is the anchor; the day-98 count is before it
        rows((0, 100), (100, 150)), (98,), 105, date(2024, 4, 24), id="R4.3-anchor-dose-change",
    ),
    pytest.param(
        rows((0, 100), (100, 100)), (98,), 105, date(2024, 6, 17),
        id="R4.3-continuation-is-not-an-anchor",
    ),
    pytest.param(
        rows((0, 100), (50, 0), (70, 100)), (), 75, date(2024, 3, 25), id="R4.3-restart-anchor"
    ),
    pytest.param(rows((0, 100), (50, 0)), (), 60, None, id="R4.3-aza-stopped"),
    pytest.param([], (), 60, None, id="R4.3-no-aza"),
]


@pytest.mark.parametrize("aza, counts, as_of, due", BLOOD_CASES)
def test_r4_3_next_blood_test_due(aza, counts, as_of, due):
    assert (
        next_blood_test_due(
            aza_history=aza, blood_count_dates=[day(n) for n in counts], as_of=day(as_of)
        )
        == due
    )


# ---------------------------------------------------------------------------
# R4.5 thiopurine metabolites
# ---------------------------------------------------------------------------

# (6-TGN, 6-MMP, days since the last AZA change, code, hepatotoxicity flag)
METABOLITE_CASES = [
    pytest.param(80, 500, 100, "possible_non_adherence", False, id="R4.5-row-1-non-adherence"),
    pytest.param(99, 999, 100, "possible_non_adherence", False, id="R4.5-row-1-edges"),
    pytest.param(80, 1000, 100, "shunter", False, id="R4.5-mmp-1000-falls-to-row-2-ratio-12.5"),
    pytest.param(200, 6000, 100, "shunter", True, id="R4.5-row-2-mmp-above-5700"),
    pytest.param(200, 2300, 100, "shunter", False, id="R4.5-row-2-ratio-11.5"),
    pytest.param(200, 2200, 100, "subtherapeutic", False, id="R4.5-ratio-exactly-11-not-shunter"),
    pytest.param(200, 5700, 100, "shunter", False, id="R4.5-mmp-5700-ratio-28.5"),
    pytest.param(234, 2000, 100, "subtherapeutic", False, id="R4.5-row-3-subtherapeutic"),
    pytest.param(235, 5800, 100, "therapeutic", True, id="R4.5-row-4-235-with-hepatotoxicity"),
    pytest.param(450, 3000, 100, "therapeutic", False, id="R4.5-row-4-450"),
    pytest.param(451, 3000, 100, "supratherapeutic", False, id="R4.5-row-5-above-450"),
    pytest.param(300, 2000, 27, "not_steady_state", False, id="R4.5-27-days-not-steady"),
    pytest.param(300, 2000, 28, "therapeutic", False, id="R4.5-28-days-steady"),
    pytest.param(300, 6000, 20, "not_steady_state", True, id="R4.5-not-steady-still-flags-mmp"),
]

TEXTS = {
    "not_steady_state": "not at steady state",
    "possible_non_adherence": "possible non-adherence",
    "shunter": "preferential methylation (shunter)",
    "subtherapeutic": "subtherapeutic",
    "therapeutic": "therapeutic",
    "supratherapeutic": "supratherapeutic: myelotoxicity risk",
}


@pytest.mark.parametrize("tgn, mmp, days, code, hepatotoxic", METABOLITE_CASES)
def test_r4_5_metabolites(tgn, mmp, days, code, hepatotoxic):
    result = interpret_metabolites(
        tgn=D(str(tgn)), mmp=D(str(mmp)), sample_date=day(days), last_aza_change=START
    )
    assert result.code == code
    assert result.text == TEXTS[code]
    assert result.hepatotoxicity_risk is hepatotoxic
    assert result.rule == "R4.5"
    assert "(R4.5)" in result.reason


def test_r4_5_ex01_therapeutic():
    # EX01 on 2021-07-19: 6-TGN 250, 6-MMP 2100; AZA unchanged since 2019-06-01
    result = interpret_metabolites(
        tgn=D("250"), mmp=D("2100"), sample_date=date(2021, 7, 19),
        last_aza_change=date(2019, 6, 1),
    )
    assert result.code == "therapeutic"
    assert result.hepatotoxicity_risk is False
