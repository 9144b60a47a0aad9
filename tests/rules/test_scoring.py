"""R1 disease-activity scores (visits/scoring.py, endoscopy_scores.py, other_scores.py): tables of hand-worked cases.

Every expected figure below was worked out by hand from clinical-rules.md R1
and is written as a literal, with the arithmetic in a comment. No database.
"""

import re
from decimal import Decimal

import pytest

from thalimon.rules_config import RuleSettings
from visits.endoscopy_scores import (
    CDEIS_SEGMENTS,
    RUTGEERTS_GRADES,
    CdeisSegment,
    SesCdSegment,
    cdeis,
    rutgeerts,
    ses_cd,
    validate_cdeis_segment,
    validate_cdeis_total,
)
from visits.other_scores import (
    aidai,
    hbi,
    mayo,
    partial_mayo,
    validate_hbi_items,
    validate_mayo_subscores,
)
from visits.scoring import (
    GLOBAL_ASSESSMENTS,
    ScoreResult,
    cdai,
    cdai_band,
    standard_weight_kg,
    validate_cdai_items,
)

D = Decimal
# R1.1 Wt floor: configurable, so cdai() requires it; the cases use the configured
# default (−10) unless they give their own.
WEIGHT_FLOOR = RuleSettings().cdai_weight_floor


def score_cdai(**kwargs):
    return cdai(**{"weight_floor": WEIGHT_FLOOR, **kwargs})


# ---------------------------------------------------------------------------- R1.1 CDAI

# The male worked example; other cases override some items.
MALE = dict(
    stools=30,
    pain=10,
    wellbeing=12,
    complications=2,
    antidiarrheal=True,
    mass=2,
    hematocrit=40,
    sex="M",
    weight_kg=64,
    standard_weight=80,
)
# 2×30 + 5×10 + 7×12 + 20×2 + 30×1 + 10×2 + 6×(47−40) + 100×(1−64/80)
# = 60 + 50 + 84 + 40 + 30 + 20 + 42 + 20 = 346

# Items that sum to 114 before H and Wt: 2×10 + 5×5 + 7×7 + 20×1 = 20 + 25 + 49 + 20
BASE_114 = dict(stools=10, pain=5, wellbeing=7, complications=1, antidiarrheal=0, mass=0)
# Items that sum to 94 before H and Wt: 2×10 + 5×5 + 7×7 = 20 + 25 + 49
BASE_94 = dict(stools=10, pain=5, wellbeing=7, complications=0, antidiarrheal=0, mass=0)
ZERO_ITEMS = dict(stools=0, pain=0, wellbeing=0, complications=0, antidiarrheal=0, mass=0)


def cdai_kwargs(**changes):
    kwargs = dict(MALE)
    kwargs.update(changes)
    return kwargs


@pytest.mark.parametrize(
    "kwargs, expected, band",
    [
        pytest.param(cdai_kwargs(), D("346"), "moderate", id="male-worked-example"),
        pytest.param(
            # 2×14 + 5×7 + 7×10 + 20×1 + 30×0 + 10×0 + 6×(42−36) + 100×(1−57/60)
            # = 28 + 35 + 70 + 20 + 0 + 0 + 36 + 5 = 194
            dict(stools=14, pain=7, wellbeing=10, complications=1, antidiarrheal=False, mass=0,
                 hematocrit=36, sex="F", weight_kg=57, standard_weight=60),
            D("194"), "mild", id="female-worked-example",
        ),
        pytest.param(
            # same items as the female example but male: 6×(47−36) = 66 instead of 36
            # 28 + 35 + 70 + 20 + 66 + 5 = 224
            dict(stools=14, pain=7, wellbeing=10, complications=1, antidiarrheal=False, mass=0,
                 hematocrit=36, sex="M", weight_kg=57, standard_weight=60),
            D("224"), "moderate", id="same-items-male-uses-47",
        ),
        pytest.param(
            # 2×5 + 5×2 + 7×3 + 6×(47−50) + 100×(1−70/70) = 10 + 10 + 21 − 18 + 0 = 23
            dict(stools=5, pain=2, wellbeing=3, complications=0, antidiarrheal=0, mass=0,
                 hematocrit=50, sex="M", weight_kg=70, standard_weight=70),
            D("23"), "remission-range", id="male-haematocrit-above-47-negative-H",
        ),
        pytest.param(
            # 2×20 + 5×5 + 7×7 + 20×1 + 6×(42−42) = 134; Wt 100×(1−90/60) = −50 → floor −10
            # 134 − 10 = 124
            dict(stools=20, pain=5, wellbeing=7, complications=1, antidiarrheal=0, mass=0,
                 hematocrit=42, sex="F", weight_kg=90, standard_weight=60),
            D("124"), "remission-range", id="weight-term-floored-at-minus-10",
        ),
        pytest.param(
            # as above with weight_floor −20: 134 − 20 = 114
            dict(stools=20, pain=5, wellbeing=7, complications=1, antidiarrheal=0, mass=0,
                 hematocrit=42, sex="F", weight_kg=90, standard_weight=60,
                 weight_floor=D("-20")),
            D("114"), "remission-range", id="weight-floor-configured-minus-20",
        ),
        pytest.param(
            # as above with weight_floor −100: the raw −50 is kept, 134 − 50 = 84
            dict(stools=20, pain=5, wellbeing=7, complications=1, antidiarrheal=0, mass=0,
                 hematocrit=42, sex="F", weight_kg=90, standard_weight=60,
                 weight_floor=D("-100")),
            D("84"), "remission-range", id="weight-floor-configured-minus-100",
        ),
        pytest.param(
            # standard weight 22.1 × 1.8² = 71.604 (unrounded); 74.82618 = 1.045 × 71.604
            # Wt = 100 × (1 − 1.045) = −4.5; 94 + 6×(47−47) − 4.5 = 89.5 → 90 (half up).
            # With the standard weight rounded to 71.6, Wt would be −4.506 → 89.49 → 89.
            dict(**BASE_94, hematocrit=D("47.0"), sex="M", weight_kg=D("74.82618"),
                 height_cm=180),
            D("90"), "remission-range", id="male-standard-weight-from-height-unrounded",
        ),
        pytest.param(
            # standard weight 20.8 × 1.65² = 20.8 × 2.7225 = 56.628; 50.68206 = 0.895 × 56.628
            # Wt = 100 × (1 − 0.895) = 10.5
            # 2×20 + 5×7 + 7×7 + 20×1 + 6×(42−40) + 10.5 = 40 + 35 + 49 + 20 + 12 + 10.5 = 166.5
            # → 167. With 56.6 (rounded) Wt would be 10.456 → 166.46 → 166.
            dict(stools=20, pain=7, wellbeing=7, complications=1, antidiarrheal=0, mass=0,
                 hematocrit=40, sex="F", weight_kg=D("50.68206"), height_cm=165),
            D("167"), "mild", id="female-standard-weight-from-height-unrounded",
        ),
        pytest.param(
            # entered standard weight 60 wins over height 180 (which would give 71.604):
            # Wt = 100 × (1 − 57/60) = 5; 94 + 0 + 5 = 99 (from height it would be 114)
            dict(**BASE_94, hematocrit=47, sex="M", weight_kg=57, standard_weight=60,
                 height_cm=180),
            D("99"), "remission-range", id="entered-standard-weight-overrides-height",
        ),
        pytest.param(
            # 114 + 6×(47−41) + 0 = 114 + 36 = 150
            dict(**BASE_114, hematocrit=41, sex="M", weight_kg=60, standard_weight=60),
            D("150"), "mild", id="exactly-150-is-mild",
        ),
        pytest.param(
            # 150 + 100×(1 − 60.6/60) = 150 − 1 = 149
            dict(**BASE_114, hematocrit=41, sex="M", weight_kg=D("60.6"), standard_weight=60),
            D("149"), "remission-range", id="149-is-remission-range",
        ),
        pytest.param(
            # 150 + 100×(1 − 60.3/60) = 150 − 0.5 = 149.5 → 150, classified on the whole number
            dict(**BASE_114, hematocrit=41, sex="M", weight_kg=D("60.3"), standard_weight=60),
            D("150"), "mild", id="raw-149.5-rounds-half-up-to-150-mild",
        ),
        pytest.param(
            # 150 + 100×(1 − 60.9/60) = 150 − 1.5 = 148.5 → 149 half up (round() gives 148)
            dict(**BASE_114, hematocrit=41, sex="M", weight_kg=D("60.9"), standard_weight=60),
            D("149"), "remission-range", id="raw-148.5-rounds-half-up-to-149",
        ),
        pytest.param(
            # 2×10 + 5×5 + 7×7 + 20×2 + 30×1 + 10×2 + 6×(47−41) + 0
            # = 20 + 25 + 49 + 40 + 30 + 20 + 36 = 220
            dict(stools=10, pain=5, wellbeing=7, complications=2, antidiarrheal=1, mass=2,
                 hematocrit=41, sex="M", weight_kg=60, standard_weight=60),
            D("220"), "mild", id="220-is-mild",
        ),
        pytest.param(
            # 220 + 100×(1 − 59.4/60) = 220 + 1 = 221
            dict(stools=10, pain=5, wellbeing=7, complications=2, antidiarrheal=1, mass=2,
                 hematocrit=41, sex="M", weight_kg=D("59.4"), standard_weight=60),
            D("221"), "moderate", id="221-is-moderate",
        ),
        pytest.param(
            # 2×100 + 5×21 + 7×20 + 6×(47−47) + 100×(1−57/60) = 200 + 105 + 140 + 0 + 5 = 450
            dict(stools=100, pain=21, wellbeing=20, complications=0, antidiarrheal=0, mass=0,
                 hematocrit=47, sex="M", weight_kg=57, standard_weight=60),
            D("450"), "moderate", id="450-is-moderate",
        ),
        pytest.param(
            # 200 + 105 + 140 + 6×(47−46) + 0 = 451
            dict(stools=100, pain=21, wellbeing=20, complications=0, antidiarrheal=0, mass=0,
                 hematocrit=46, sex="M", weight_kg=60, standard_weight=60),
            D("451"), "severe", id="451-is-severe",
        ),
        pytest.param(
            # 0 + 6×(47−52) + 100×(1−54/60) = −30 + 10 = −20 → floored at 0
            dict(**ZERO_ITEMS, hematocrit=52, sex="M", weight_kg=54, standard_weight=60),
            D("0"), "remission-range", id="sum-floored-at-0",
        ),
        pytest.param(
            # 2×140 + 6×(47−47) + 0 = 280 (140 is allowed without a warning)
            dict(**{**ZERO_ITEMS, "stools": 140}, hematocrit=47, sex="M", weight_kg=60,
                 standard_weight=60),
            D("280"), "moderate", id="stools-140",
        ),
    ],
)
def test_r1_1_cdai(kwargs, expected, band):
    result = score_cdai(**kwargs)
    assert result.value == expected
    assert str(result.value) == str(expected)  # whole number, no decimals
    assert result.band == band
    assert (result.name, result.rule, result.source, result.missing) == ("CDAI", "R1.1",
                                                                          "computed", ())
    assert result.computable
    assert result.warnings == ()
    assert result.reason.startswith(f"CDAI {expected} (computed): ")
    assert result.reason.endswith("(R1.1)")


def test_r1_1_cdai_reason_shows_each_term():
    result = score_cdai(**cdai_kwargs())
    assert result.reason == (
        "CDAI 346 (computed): 2×30 stools + 5×10 pain + 7×12 well-being + 20×2 complications"
        " + 30×1 antidiarrhoeal + 10×2 mass + 6×(47−40) haematocrit + weight term 20.0"
        " (64 kg vs standard weight 80 kg) (R1.1)"
    )


def test_r1_1_cdai_reason_shows_weight_floor_and_sum_floor():
    floored = score_cdai(stools=20, pain=5, wellbeing=7, complications=1, antidiarrheal=0, mass=0,
                   hematocrit=42, sex="F", weight_kg=90, standard_weight=60)
    assert "weight term −10 (floored; unfloored −50.0" in floored.reason
    at_zero = score_cdai(**ZERO_ITEMS, hematocrit=52, sex="M", weight_kg=54, standard_weight=60)
    assert "= −20.00, floored at 0" in at_zero.reason


def test_r1_1_cdai_half_up_not_round_half_even():
    # raw 148.5 (see the table): ROUND_HALF_UP gives 149, Python's round() would give 148
    result = score_cdai(**BASE_114, hematocrit=41, sex="M", weight_kg=D("60.9"), standard_weight=60)
    assert result.value == D("149")
    assert round(148.5) == 148  # why round() is not used
    assert "= 148.50, rounded half up" in result.reason


@pytest.mark.parametrize(
    "sex, height_cm, entered, expected",
    [
        pytest.param("M", 180, None, D("71.604"), id="male-22.1x1.8^2"),  # 22.1 × 3.24
        pytest.param("M", 175, None, D("67.68125"), id="male-unrounded"),  # 22.1 × 3.0625
        pytest.param("F", 165, None, D("56.628"), id="female-20.8x1.65^2"),  # 20.8 × 2.7225
        pytest.param("F", 160, None, D("53.248"), id="female-unrounded"),  # 20.8 × 2.56
        pytest.param("M", 180, 60, D("60"), id="entered-overrides-height"),
        pytest.param(None, None, D("65.5"), D("65.5"), id="entered-needs-no-sex-or-height"),
        pytest.param(None, 180, None, None, id="no-sex-cannot-derive"),
        pytest.param("F", None, None, None, id="no-height-cannot-derive"),
    ],
)
def test_r1_1_standard_weight(sex, height_cm, entered, expected):
    assert standard_weight_kg(sex=sex, height_cm=height_cm, entered=entered) == expected


@pytest.mark.parametrize(
    "changes, missing",
    [
        pytest.param({"stools": None}, ("stools",), id="stools"),
        pytest.param({"pain": None}, ("pain",), id="pain"),
        pytest.param({"wellbeing": None}, ("well-being",), id="wellbeing"),
        pytest.param({"complications": None}, ("complications",), id="complications"),
        pytest.param({"antidiarrheal": None}, ("antidiarrhoeal use",), id="antidiarrheal"),
        pytest.param({"mass": None}, ("abdominal mass",), id="mass"),
        pytest.param({"hematocrit": None}, ("haematocrit",), id="haematocrit"),
        pytest.param({"sex": None}, ("sex",), id="sex-needed-for-H"),
        pytest.param({"sex": ""}, ("sex",), id="sex-blank"),
        pytest.param({"weight_kg": None}, ("weight",), id="weight"),
        pytest.param({"standard_weight": None}, ("standard weight/height",),
                     id="no-standard-weight-no-height"),
        pytest.param({"hematocrit": None, "weight_kg": None}, ("haematocrit", "weight"),
                     id="haematocrit-and-weight"),
        pytest.param({"sex": None, "standard_weight": None, "height_cm": 180}, ("sex",),
                     id="sex-missing-height-present"),
        pytest.param({"sex": None, "standard_weight": None}, ("sex", "standard weight/height"),
                     id="sex-and-height-missing"),
    ],
)
def test_r1_1_cdai_missing_items_named(changes, missing):
    result = score_cdai(**cdai_kwargs(**changes))
    assert result.value is None
    assert not result.computable
    assert result.missing == missing
    assert result.source == ""
    assert result.band == ""
    assert result.reason.startswith("CDAI not computable; missing: ")
    assert all(name in result.reason for name in missing)


@pytest.mark.parametrize(
    "entered, expected, band",
    [
        pytest.param(D("212.5"), D("213"), "mild", id="212.5-half-up-213"),
        pytest.param(D("220.5"), D("221"), "moderate", id="220.5-half-up-221-moderate"),
        pytest.param(D("149.5"), D("150"), "mild", id="149.5-half-up-150-mild"),
        pytest.param(180, D("180"), "mild", id="whole"),
        pytest.param(0, D("0"), "remission-range", id="zero"),
    ],
)
def test_r1_1_cdai_entered_total_when_items_missing(entered, expected, band):
    result = score_cdai(**cdai_kwargs(hematocrit=None, entered_total=entered))
    assert result.value == expected
    assert str(result.value) == str(expected)
    assert result.source == "entered"
    assert result.band == band
    assert result.missing == ()
    assert result.reason.startswith(f"CDAI {expected} (entered)")
    assert "haematocrit" in result.reason


def test_r1_1_cdai_computed_wins_over_a_different_entered_total():
    result = score_cdai(**cdai_kwargs(entered_total=300))
    assert result.value == D("346")  # the male worked example
    assert result.source == "computed"
    assert len(result.warnings) == 1
    assert "300" in result.warnings[0] and "346" in result.warnings[0]


def test_r1_1_cdai_equal_entered_total_gives_no_warning():
    result = score_cdai(**cdai_kwargs(entered_total=346))
    assert (result.value, result.source, result.warnings) == (D("346"), "computed", ())


def test_r1_1_cdai_stools_above_140_warn():
    # 2×141 + 6×(47−47) + 0 = 282
    result = score_cdai(**{**ZERO_ITEMS, "stools": 141}, hematocrit=47, sex="M", weight_kg=60,
                  standard_weight=60)
    assert result.value == D("282")
    assert len(result.warnings) == 1
    assert "141" in result.warnings[0] and "140" in result.warnings[0]


@pytest.mark.parametrize(
    "changes, fragment",
    [
        pytest.param({"pain": 22}, "Abdominal pain", id="pain-22"),
        pytest.param({"hematocrit": D("0.42")}, "not as a fraction", id="haematocrit-fraction"),
        pytest.param({"mass": 3}, "Abdominal mass", id="mass-3"),
        pytest.param({"stools": -1}, "stools", id="negative-stools"),
        pytest.param({"sex": "X"}, "Sex", id="unknown-sex"),
        pytest.param({"hematocrit": None, "entered_total": 1200}, "1100", id="entered-1200"),
        pytest.param({"standard_weight": None, "height_cm": D("1.80")}, "cm",
                     id="height-in-metres"),
    ],
)
def test_r1_1_cdai_refuses_out_of_range_inputs(changes, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        score_cdai(**cdai_kwargs(**changes))


@pytest.mark.parametrize(
    "value, band",
    [
        (0, "remission-range"),
        (149, "remission-range"),
        (150, "mild"),
        (220, "mild"),
        (221, "moderate"),
        (450, "moderate"),
        (451, "severe"),
        (1100, "severe"),
        (D("149.5"), "mild"),  # classified on the whole number: 149.5 → 150
        (D("220.4"), "mild"),  # 220.4 → 220
        (None, ""),
    ],
    ids=lambda v: str(v),
)
def test_r1_1_cdai_band(value, band):
    assert cdai_band(value) == band


@pytest.mark.parametrize(
    "kwargs, key, expected",
    [
        pytest.param({"hematocrit": D("0.42")}, "hematocrit",
                     "Haematocrit must be given in % (e.g. 42), not as a fraction (got 0.42).",
                     id="haematocrit-0.42-fraction"),
        pytest.param({"hematocrit": 1}, "hematocrit",
                     "Haematocrit must be given in % (e.g. 42), not as a fraction (got 1).",
                     id="haematocrit-1-fraction"),
        pytest.param({"pain": 22}, "pain",
                     "Abdominal pain must be a 7-day sum of daily ratings 0–3, so 0–21 (got 22).",
                     id="pain-22"),
        pytest.param({"wellbeing": 29}, "wellbeing",
                     "General well-being must be a 7-day sum of daily ratings 0–4, so 0–28 "
                     "(got 29).", id="wellbeing-29"),
        pytest.param({"mass": 3}, "mass",
                     "Abdominal mass must be 0 (none), 2 (questionable) or 5 (definite) (got 3).",
                     id="mass-3"),
        pytest.param({"complications": 7}, "complications",
                     "Complications must be a count of complication categories, 0–6 (got 7).",
                     id="complications-7"),
        pytest.param({"stools": -1}, "stools",
                     "Liquid or very soft stools must be a whole number ≥ 0, summed over 7 days "
                     "(got −1).", id="stools-negative"),
    ],
)
def test_r1_1_validate_cdai_items_exact_messages(kwargs, key, expected):
    assert validate_cdai_items(**kwargs) == {key: expected}


@pytest.mark.parametrize(
    "kwargs, key, fragments",
    [
        pytest.param({"hematocrit": 75}, "hematocrit", ["Haematocrit", "%", "10–70"],
                     id="haematocrit-75"),
        pytest.param({"hematocrit": 5}, "hematocrit", ["Haematocrit", "%", "10–70"],
                     id="haematocrit-5"),
        pytest.param({"hematocrit": -4}, "hematocrit", ["Haematocrit", "%", "10–70"],
                     id="haematocrit-negative"),
        pytest.param({"stools": D("3.5")}, "stools", ["stools", "whole number", "3.5"],
                     id="stools-not-whole"),
        pytest.param({"pain": -1}, "pain", ["Abdominal pain", "0–21", "−1"], id="pain-negative"),
        pytest.param({"wellbeing": -2}, "wellbeing", ["well-being", "0–28"],
                     id="wellbeing-negative"),
        pytest.param({"complications": -1}, "complications", ["Complications", "0–6"],
                     id="complications-negative"),
        pytest.param({"mass": 1}, "mass", ["Abdominal mass", "0 (none)"], id="mass-1"),
        pytest.param({"antidiarrheal": 2}, "antidiarrheal", ["Antidiarrhoeal", "1 or 0"],
                     id="antidiarrheal-2"),
        pytest.param({"weight_kg": D("0.5")}, "weight_kg", ["Weight", "kg", "2–300"],
                     id="weight-0.5"),
        pytest.param({"weight_kg": 301}, "weight_kg", ["Weight", "kg", "2–300"],
                     id="weight-301"),
        pytest.param({"entered_total": 1101}, "entered_total", ["CDAI total", "0 and 1100"],
                     id="entered-1101"),
        pytest.param({"entered_total": -1}, "entered_total", ["CDAI total", "0 and 1100"],
                     id="entered-negative"),
        pytest.param({"pain": "a lot"}, "pain", ["Abdominal pain", "number"], id="not-a-number"),
        pytest.param({"height_cm": D("1.75")}, "height_cm", ["Height", "cm", "40–250"],
                     id="height-in-metres"),
        pytest.param({"standard_weight": 0}, "standard_weight", ["Standard weight", "kg"],
                     id="standard-weight-0"),
    ],
)
def test_r1_1_validate_cdai_items_names_field_and_range(kwargs, key, fragments):
    errors = validate_cdai_items(**kwargs)
    assert list(errors) == [key]
    for fragment in fragments:
        assert fragment in errors[key]


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="nothing-given"),
        pytest.param(dict(stools=0, pain=0, wellbeing=0, complications=0, antidiarrheal=False,
                          mass=0, hematocrit=10, weight_kg=2, entered_total=0), id="lower-limits"),
        pytest.param(dict(stools=140, pain=21, wellbeing=28, complications=6, antidiarrheal=True,
                          mass=5, hematocrit=70, weight_kg=300, entered_total=1100),
                     id="upper-limits"),
        pytest.param(dict(stools=200, mass=2, antidiarrheal=1), id="stools-200-warns-only"),
        pytest.param(dict(hematocrit=D("44.5"), weight_kg=D("71.3")), id="decimals"),
    ],
)
def test_r1_1_validate_cdai_items_accepts_valid_values(kwargs):
    assert validate_cdai_items(**kwargs) == {}


# ---------------------------------------------------------------------------- R1.2 HBI


@pytest.mark.parametrize(
    "wellbeing, pain, liquid_stools, mass, complications, expected, band",
    [
        pytest.param(0, 0, 0, 0, 0, D("0"), "remission", id="0-remission"),
        pytest.param(1, 1, 2, 0, 0, D("4"), "remission", id="4-remission"),  # 1+1+2+0+0
        pytest.param(1, 1, 2, 1, 0, D("5"), "mild", id="5-mild"),  # 1+1+2+1+0
        pytest.param(2, 1, 3, 0, 1, D("7"), "mild", id="7-mild"),  # 2+1+3+0+1
        pytest.param(2, 2, 3, 1, 0, D("8"), "moderate", id="8-moderate"),  # 2+2+3+1+0
        pytest.param(3, 2, 8, 2, 1, D("16"), "moderate", id="16-moderate"),  # 3+2+8+2+1
        pytest.param(4, 3, 7, 3, 0, D("17"), "severe", id="17-severe"),  # 4+3+7+3+0
        pytest.param(4, 3, 12, 3, 8, D("30"), "severe", id="30-severe"),  # 4+3+12+3+8
    ],
)
def test_r1_2_hbi(wellbeing, pain, liquid_stools, mass, complications, expected, band):
    result = hbi(wellbeing=wellbeing, pain=pain, liquid_stools=liquid_stools, mass=mass,
                 complications=complications)
    assert result.value == expected
    assert str(result.value) == str(expected)
    assert result.band == band
    assert (result.name, result.rule, result.source) == ("HBI", "R1.2", "computed")
    assert result.reason.startswith(f"HBI {expected} (computed)")
    assert result.reason.endswith("(R1.2)")


@pytest.mark.parametrize(
    "changes, missing",
    [
        pytest.param({"pain": None}, ("pain",), id="pain"),
        pytest.param({"wellbeing": None}, ("well-being",), id="wellbeing"),
        pytest.param({"liquid_stools": None, "mass": None}, ("liquid stools", "abdominal mass"),
                     id="stools-and-mass"),
        pytest.param({"complications": None}, ("complications",), id="complications"),
    ],
)
def test_r1_2_hbi_missing_items(changes, missing):
    kwargs = dict(wellbeing=1, pain=1, liquid_stools=2, mass=0, complications=0)
    kwargs.update(changes)
    result = hbi(**kwargs)
    assert (result.value, result.missing, result.source) == (None, missing, "")


def test_r1_2_hbi_entered_total_when_items_missing():
    result = hbi(wellbeing=None, pain=1, liquid_stools=2, mass=0, complications=0,
                 entered_total=6)
    assert (result.value, result.source, result.band) == (D("6"), "entered", "mild")


def test_r1_2_hbi_computed_wins_with_warning():
    # 1+1+2+0+0 = 4; entered 9 differs
    result = hbi(wellbeing=1, pain=1, liquid_stools=2, mass=0, complications=0, entered_total=9)
    assert (result.value, result.source) == (D("4"), "computed")
    assert "9" in result.warnings[0] and "4" in result.warnings[0]


@pytest.mark.parametrize(
    "kwargs, key, fragment",
    [
        pytest.param({"wellbeing": 5}, "wellbeing", "0–4", id="wellbeing-5"),
        pytest.param({"pain": 4}, "pain", "0–3", id="pain-4"),
        pytest.param({"liquid_stools": -1}, "liquid_stools", "≥ 0", id="stools-negative"),
        pytest.param({"mass": 4}, "mass", "0–3", id="mass-4"),
        pytest.param({"complications": 9}, "complications", "0–8", id="complications-9"),
        pytest.param({"entered_total": -1}, "entered_total", "≥ 0", id="entered-negative"),
    ],
)
def test_r1_2_validate_hbi_items(kwargs, key, fragment):
    errors = validate_hbi_items(**kwargs)
    assert list(errors) == [key]
    assert fragment in errors[key]


def test_r1_2_hbi_refuses_out_of_range():
    with pytest.raises(ValueError, match="Abdominal pain"):
        hbi(wellbeing=1, pain=4, liquid_stools=2, mass=0, complications=0)


# ---------------------------------------------------------------------------- R1.3 CDEIS


def seg(name, deep, superficial, involved, ulcerated):
    return CdeisSegment(name, deep, superficial, D(str(involved)), D(str(ulcerated)))


ILEUM_21 = seg("ileum", True, False, 6, 3)  # 12 + 0 + 6 + 3 = 21


@pytest.mark.parametrize(
    "segments, ulcerated_stenosis, nonulcerated_stenosis, expected",
    [
        pytest.param([ILEUM_21], False, False, "21.0", id="one-segment"),  # 21/1
        pytest.param(
            # ileum 12+6+10+8 = 36; right colon 0+6+4+2 = 12; rectum 0+0+2+0 = 2
            # A = 50, n = 3: 16.666… → 16.7
            [seg("ileum", True, True, 10, 8), seg("right_colon", False, True, 4, 2),
             seg("rectum", False, False, 2, 0)],
            False, False, "16.7", id="three-segments",
        ),
        pytest.param(
            # ileum 12+0+5+2.5 = 19.5; transverse 0+0+5+0 = 5; A = 24.5, n = 2: 12.25 → 12.3
            [seg("ileum", True, False, 5, "2.5"), seg("transverse", False, False, 5, 0)],
            False, False, "12.3", id="12.25-half-up-12.3",
        ),
        pytest.param([ILEUM_21], True, False, "24.0", id="ulcerated-stenosis-plus-3"),  # 21 + 3
        pytest.param([ILEUM_21], False, True, "24.0", id="nonulcerated-stenosis-plus-3"),
        pytest.param([ILEUM_21], True, True, "27.0", id="both-stenoses-plus-6"),  # 21 + 3 + 3
        pytest.param(
            # 12.25 + 3 + 3 = 18.25 → 18.3
            [seg("ileum", True, False, 5, "2.5"), seg("transverse", False, False, 5, 0)],
            True, True, "18.3", id="18.25-half-up-18.3",
        ),
        pytest.param(
            # each segment 12+6+10+10 = 38; A = 190, n = 5: 38 + 3 + 3 = 44 (the maximum)
            [seg(name, True, True, 10, 10) for name in CDEIS_SEGMENTS], True, True, "44.0",
            id="maximum-44",
        ),
        pytest.param([seg(name, False, False, 0, 0) for name in CDEIS_SEGMENTS], False, False,
                     "0.0", id="all-normal-0"),
    ],
)
def test_r1_3_cdeis(segments, ulcerated_stenosis, nonulcerated_stenosis, expected):
    result = cdeis(segments=segments, ulcerated_stenosis=ulcerated_stenosis,
                   nonulcerated_stenosis=nonulcerated_stenosis)
    assert result.value == D(expected)
    assert str(result.value) == expected  # one decimal
    assert (result.name, result.rule, result.source) == ("CDEIS", "R1.3", "computed")
    assert result.reason.startswith(f"CDEIS {expected} (computed)")
    assert result.warnings == ()


def test_r1_3_cdeis_no_explored_segment_is_not_computable():
    result = cdeis(segments=[], ulcerated_stenosis=False, nonulcerated_stenosis=False)
    assert (result.value, result.missing, result.source) == (None, ("explored segments",), "")


@pytest.mark.parametrize(
    "entered, expected",
    [
        pytest.param(D("8.45"), "8.5", id="8.45-half-up-8.5"),
        pytest.param(12, "12.0", id="whole"),
        pytest.param(44, "44.0", id="maximum"),
    ],
)
def test_r1_3_cdeis_entered_total(entered, expected):
    result = cdeis(segments=[], ulcerated_stenosis=False, nonulcerated_stenosis=False,
                   entered_total=entered)
    assert str(result.value) == expected
    assert result.source == "entered"


def test_r1_3_cdeis_computed_wins_over_entered_with_warning():
    result = cdeis(segments=[ILEUM_21], ulcerated_stenosis=False, nonulcerated_stenosis=False,
                   entered_total=20)
    assert (str(result.value), result.source) == ("21.0", "computed")
    assert "20" in result.warnings[0] and "21.0" in result.warnings[0]


@pytest.mark.parametrize(
    "segment, expected",
    [
        pytest.param(
            seg("ileum", True, False, 3, 5),
            {"ulcerated_cm": "Ulcerated surface (5 cm) cannot be larger than the surface "
                             "involved by disease (3 cm) in the ileum."},
            id="ulcerated-larger-than-involved",
        ),
        pytest.param(seg("rectum", False, False, 4, 4), {}, id="ulcerated-equal-involved-ok"),
        pytest.param(seg("ileum", False, False, 0, 0), {}, id="normal-ok"),
    ],
)
def test_r1_3_validate_cdeis_segment(segment, expected):
    assert validate_cdeis_segment(segment) == expected


@pytest.mark.parametrize(
    "segment, key",
    [
        pytest.param(seg("left_colon", False, True, 11, 2), "involved_cm", id="involved-11"),
        pytest.param(seg("left_colon", False, True, -1, 0), "involved_cm", id="involved-neg"),
        pytest.param(seg("left_colon", False, True, 10, "10.5"), "ulcerated_cm",
                     id="ulcerated-10.5"),
    ],
)
def test_r1_3_validate_cdeis_segment_ranges(segment, key):
    errors = validate_cdeis_segment(segment)
    assert key in errors
    assert "0–10 cm" in errors[key] and "left/sigmoid colon" in errors[key]


def test_r1_3_cdeis_refuses_invalid_segments():
    with pytest.raises(ValueError, match="cannot be larger"):
        cdeis(segments=[seg("ileum", True, False, 3, 5)], ulcerated_stenosis=False,
              nonulcerated_stenosis=False)
    with pytest.raises(ValueError, match="unknown segment"):
        cdeis(segments=[seg("jejunum", True, False, 3, 1)], ulcerated_stenosis=False,
              nonulcerated_stenosis=False)
    with pytest.raises(ValueError, match="only once"):
        cdeis(segments=[ILEUM_21, ILEUM_21], ulcerated_stenosis=False,
              nonulcerated_stenosis=False)


@pytest.mark.parametrize(
    "value, ok",
    [(0, True), (44, True), (D("12.3"), True), (D("44.1"), False), (-1, False)],
    ids=lambda v: str(v),
)
def test_r1_3_validate_cdeis_total(value, ok):
    message = validate_cdeis_total(value)
    assert (message is None) == ok
    if not ok:
        assert "0 and 44" in message


# ---------------------------------------------------------------------------- R1.4 SES-CD


def ses(name, *items):
    return SesCdSegment(name, *items)


FULL_3 = [ses(name, 3, 3, 3, 3) for name in CDEIS_SEGMENTS[:4]]  # 4 × 12 = 48


@pytest.mark.parametrize(
    "segments, expected, band, warns",
    [
        # ileum 2+2+2+1 = 7, rectum 1+1+1+0 = 3 → 10
        pytest.param([ses("ileum", 2, 2, 2, 1), ses("rectum", 1, 1, 1, 0)], D("10"), "", False,
                     id="two-segments-10"),
        pytest.param([ses("ileum", 1, 1, 0, 0)], D("2"), "SES-CD remission", False,
                     id="2-remission"),  # 1+1+0+0
        pytest.param([ses("ileum", 1, 1, 1, 0)], D("3"), "", False, id="3-not-remission"),
        pytest.param([ses("ileum", 0, 0, 0, 0)], D("0"), "SES-CD remission", False, id="0"),
        pytest.param(FULL_3 + [ses("rectum", 2, 2, 2, 2)], D("56"), "", False,
                     id="56-no-warning"),  # 48 + 8
        pytest.param(FULL_3 + [ses("rectum", 3, 2, 2, 2)], D("57"), "", True,
                     id="57-warning"),  # 48 + 9
        pytest.param(FULL_3 + [ses("rectum", 3, 3, 3, 3)], D("60"), "", True,
                     id="60-warning"),  # 48 + 12
    ],
)
def test_r1_4_ses_cd(segments, expected, band, warns):
    result = ses_cd(segments=segments)
    assert result.value == expected
    assert str(result.value) == str(expected)
    assert result.band == band  # never "mucosal healing": that is R2.4
    assert (result.name, result.rule, result.source) == ("SES-CD", "R1.4", "computed")
    assert bool(result.warnings) == warns
    if warns:
        assert "56" in result.warnings[0]


def test_r1_4_ses_cd_no_segment_and_entered_total():
    result = ses_cd(segments=[])
    assert (result.value, result.missing) == (None, ("explored segments",))
    entered = ses_cd(segments=[], entered_total=2)
    assert (entered.value, entered.source, entered.band) == (D("2"), "entered",
                                                             "SES-CD remission")


def test_r1_4_ses_cd_refuses_item_above_3():
    with pytest.raises(ValueError, match="0–3"):
        ses_cd(segments=[ses("ileum", 4, 0, 0, 0)])


# ---------------------------------------------------------------------------- R1.5 Rutgeerts


@pytest.mark.parametrize(
    "score, words",
    [
        pytest.param(0, "i0 no lesions", id="i0"),
        pytest.param(1, "i1 ≤ 5 aphthous lesions", id="i1"),
        pytest.param(2, "i2 > 5 aphthae with normal mucosa between", id="i2"),
        pytest.param(3, "i3 diffuse aphthous ileitis", id="i3"),
        pytest.param(4, "i4 diffuse inflammation with large ulcers, nodules or narrowing",
                     id="i4"),
    ],
)
def test_r1_5_rutgeerts(score, words):
    result = rutgeerts(score=score, ileocolic_resection=True)
    assert result.value == D(score)
    assert (result.name, result.rule) == ("Rutgeerts", "R1.5")
    assert words in result.reason
    assert RUTGEERTS_GRADES[score].startswith(f"i{score} ")


def test_r1_5_rutgeerts_i2a_and_i2b_both_stored_as_2():
    assert "i2a/i2b" in rutgeerts(score=2, ileocolic_resection=True).reason


def test_r1_5_rutgeerts_refused_without_resection():
    message = (
        "Rutgeerts score applies only after ileocolonic resection; "
        "none is recorded for this patient."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        rutgeerts(score=1, ileocolic_resection=False)


@pytest.mark.parametrize("score", [5, -1, D("2.5")], ids=str)
def test_r1_5_rutgeerts_refuses_out_of_range(score):
    with pytest.raises(ValueError, match="0–4"):
        rutgeerts(score=score, ileocolic_resection=True)


# ---------------------------------------------------------------------------- R1.6 Mayo


@pytest.mark.parametrize(
    "stool_frequency, rectal_bleeding, endoscopy, physician_global, expected, band",
    [
        pytest.param(1, 1, 0, 0, D("2"), "remission", id="2-all-le-1-remission"),
        pytest.param(2, 0, 0, 0, D("2"), "", id="2-with-subscore-2-not-remission"),
        pytest.param(0, 0, 2, 0, D("2"), "", id="2-with-endoscopy-2-not-remission"),
        pytest.param(0, 0, 0, 0, D("0"), "remission", id="0-remission"),
        pytest.param(1, 1, 1, 0, D("3"), "", id="3-not-remission"),  # 1+1+1+0
        pytest.param(1, 1, 1, 1, D("4"), "", id="4"),  # 1+1+1+1
        pytest.param(3, 3, 3, 3, D("12"), "", id="12-maximum"),
    ],
)
def test_r1_6_mayo(stool_frequency, rectal_bleeding, endoscopy, physician_global, expected,
                   band):
    result = mayo(stool_frequency=stool_frequency, rectal_bleeding=rectal_bleeding,
                  endoscopy=endoscopy, physician_global=physician_global)
    assert result.value == expected
    assert result.band == band
    assert (result.name, result.rule, result.source) == ("Mayo", "R1.6", "computed")


def test_r1_6_mayo_missing_subscore_and_entered_total():
    missing = mayo(stool_frequency=1, rectal_bleeding=1, endoscopy=None, physician_global=0)
    assert (missing.value, missing.missing) == (None, ("endoscopy",))
    # an entered total alone cannot decide remission (needs the subscores)
    entered = mayo(stool_frequency=1, rectal_bleeding=1, endoscopy=None, physician_global=0,
                   entered_total=2)
    assert (entered.value, entered.source, entered.band) == (D("2"), "entered", "")


def test_r1_6_mayo_refuses_out_of_range():
    with pytest.raises(ValueError, match="0–3"):
        mayo(stool_frequency=4, rectal_bleeding=0, endoscopy=0, physician_global=0)
    with pytest.raises(ValueError, match="0–12"):
        mayo(stool_frequency=None, rectal_bleeding=0, endoscopy=0, physician_global=0,
             entered_total=13)


def test_r1_6_validate_mayo_subscores():
    errors = validate_mayo_subscores(stool_frequency=4, rectal_bleeding=2, endoscopy=-1,
                                     physician_global=None)
    assert sorted(errors) == ["endoscopy", "stool_frequency"]
    assert "stool frequency" in errors["stool_frequency"] and "0–3" in errors["stool_frequency"]
    assert validate_mayo_subscores(stool_frequency=0, endoscopy=3) == {}


@pytest.mark.parametrize(
    "stool_frequency, rectal_bleeding, physician_global, expected",
    [
        pytest.param(1, 2, 3, D("6"), id="6"),  # 1+2+3
        pytest.param(0, 0, 0, D("0"), id="0"),
        pytest.param(3, 3, 3, D("9"), id="9-maximum"),
    ],
)
def test_r1_6_partial_mayo(stool_frequency, rectal_bleeding, physician_global, expected):
    result = partial_mayo(stool_frequency=stool_frequency, rectal_bleeding=rectal_bleeding,
                          physician_global=physician_global)
    assert (result.name, result.value, result.rule) == ("partial Mayo", expected, "R1.6")


def test_r1_6_partial_mayo_missing():
    result = partial_mayo(stool_frequency=1, rectal_bleeding=None, physician_global=0)
    assert (result.value, result.missing) == (None, ("rectal bleeding",))


# ---------------------------------------------------------------------------- R1.7 AIDAI


@pytest.mark.parametrize(
    "yes_count, band",
    [(0, "inactive"), (8, "inactive"), (9, "active"), (20, "active")],
    ids=lambda v: str(v),
)
def test_r1_7_aidai(yes_count, band):
    result = aidai(yes_count=yes_count)
    assert (result.name, result.value, result.band, result.rule) == ("AIDAI", D(yes_count),
                                                                     band, "R1.7")


def test_r1_7_aidai_missing_and_invalid():
    assert not aidai(yes_count=None).computable
    with pytest.raises(ValueError):
        aidai(yes_count=-1)


def test_r1_7_global_assessments():
    assert GLOBAL_ASSESSMENTS == ("improved", "unchanged", "worse")


def test_score_result_computable():
    assert ScoreResult("HBI", D("3"), "R1.2", "…").computable
    assert not ScoreResult("HBI", None, "R1.2", "…", source="").computable


def test_r1_1_weight_floor_is_required():
    # Configurable (RuleSettings.cdai_weight_floor): no hidden default in the rule.
    with pytest.raises(TypeError):
        cdai(**cdai_kwargs())
