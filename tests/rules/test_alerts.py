"""R4.4 laboratory and bradycardia alerts (safety/alerts.py), tables worked by hand
from clinical-rules.md R4.4.

Tier A ``review`` (BSR/BHPR 2017 monitoring levels): WBC < 3.5, neutrophils < 1.6,
platelets < 140, ALT or AST > 100, MCV > 105, albumin < 35.
Tier B ``withhold`` (only while azathioprine is active): WBC ≤ 2.5, neutrophils ≤ 1.0,
platelets < 100, ALT or AST > 3 × ULN (ULN 40 → 120).
A WBC < 4.0 also suggests the adverse event ``leukopenia``; a heart rate below 50/min
at a visit on thalidomide raises a ``review`` alert.

Every expected value is a literal; no database.
"""

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from safety.alerts import Alert, bradycardia_alert, lab_alert, suggests_leukopenia

D = Decimal
ROOT = Path(__file__).resolve().parents[2]

# (test, value, aza_active, uln, expected tier or None)
LAB_CASES = [
    # WBC: review < 3.5, withhold ≤ 2.5
    pytest.param("wbc", "3.5", True, "40", None, id="R4.4-wbc-3.5-no-alert"),
    pytest.param("wbc", "3.49", True, "40", "review", id="R4.4-wbc-3.49-review"),
    pytest.param("wbc", "2.51", True, "40", "review", id="R4.4-wbc-2.51-review"),
    pytest.param("wbc", "2.5", True, "40", "withhold", id="R4.4-wbc-2.5-withhold-on-aza"),
    pytest.param("wbc", "2.5", False, "40", "review", id="R4.4-wbc-2.5-off-aza-falls-back-review"),
    pytest.param("wbc", "1.2", False, "40", "review", id="R4.4-wbc-1.2-off-aza-review"),
    pytest.param("wbc", "3.9", True, "40", None, id="R4.4-wbc-3.9-no-tier"),
    pytest.param("WBC", "3.4", True, "40", "review", id="R4.4-wbc-code-case-insensitive"),
    # neutrophils: review < 1.6, withhold ≤ 1.0
    pytest.param("neutrophils", "1.6", True, "40", None, id="R4.4-neutrophils-1.6-no-alert"),
    pytest.param("neutrophils", "1.59", True, "40", "review", id="R4.4-neutrophils-1.59-review"),
    pytest.param("neutrophils", "1.01", True, "40", "review", id="R4.4-neutrophils-1.01-review"),
    pytest.param("neutrophils", "1.0", True, "40", "withhold", id="R4.4-neutrophils-1.0-withhold"),
    pytest.param(
        "neutrophils", "1.0", False, "40", "review", id="R4.4-neutrophils-1.0-off-aza-review"
    ),
    # platelets: review < 140, withhold < 100
    pytest.param("platelets", "140", True, "40", None, id="R4.4-platelets-140-no-alert"),
    pytest.param("platelets", "139", True, "40", "review", id="R4.4-platelets-139-review"),
    pytest.param("platelets", "100", True, "40", "review", id="R4.4-platelets-100-review"),
    pytest.param("platelets", "99", True, "40", "withhold", id="R4.4-platelets-99-withhold"),
    pytest.param("platelets", "99", False, "40", "review", id="R4.4-platelets-99-off-aza-review"),
    # ALT / AST: review > 100, withhold > 3 × ULN (default 40 → 120)
    pytest.param("alt", "100", True, "40", None, id="R4.4-alt-100-no-alert"),
    pytest.param("alt", "101", True, "40", "review", id="R4.4-alt-101-review"),
    pytest.param("alt", "120", True, "40", "review", id="R4.4-alt-120-is-3xULN-review"),
    pytest.param("alt", "121", True, "40", "withhold", id="R4.4-alt-121-above-3xULN-withhold"),
    pytest.param("alt", "121", False, "40", "review", id="R4.4-alt-121-off-aza-review"),
    pytest.param("ast", "100", True, "40", None, id="R4.4-ast-100-no-alert"),
    pytest.param("ast", "100.1", True, "40", "review", id="R4.4-ast-100.1-review"),
    pytest.param("ast", "120", True, "40", "review", id="R4.4-ast-120-is-3xULN-review"),
    pytest.param("ast", "120.1", True, "40", "withhold", id="R4.4-ast-120.1-withhold"),
    # another ULN: 3 × 30 = 90 lies below the tier A level 100; 3 × 50 = 150
    pytest.param("alt", "90", True, "30", None, id="R4.4-alt-90-ULN-30-no-alert"),
    pytest.param("alt", "91", True, "30", "withhold", id="R4.4-alt-91-ULN-30-withhold"),
    pytest.param("alt", "91", False, "30", None, id="R4.4-alt-91-ULN-30-off-aza-below-tier-A"),
    pytest.param("alt", "150", True, "50", "review", id="R4.4-alt-150-ULN-50-review"),
    pytest.param("alt", "151", True, "50", "withhold", id="R4.4-alt-151-ULN-50-withhold"),
    # MCV: review > 105 only
    pytest.param("mcv", "105", True, "40", None, id="R4.4-mcv-105-no-alert"),
    pytest.param("mcv", "105.1", True, "40", "review", id="R4.4-mcv-105.1-review"),
    pytest.param("mcv", "130", True, "40", "review", id="R4.4-mcv-no-withhold-tier"),
    # albumin: review < 35 only
    pytest.param("albumin", "35", True, "40", None, id="R4.4-albumin-35-no-alert"),
    pytest.param("albumin", "34.9", True, "40", "review", id="R4.4-albumin-34.9-review"),
    pytest.param("albumin", "20", True, "40", "review", id="R4.4-albumin-no-withhold-tier"),
    # tests R4.4 does not name
    pytest.param("crp", "200", True, "40", None, id="R4.4-crp-not-an-R4.4-test"),
    pytest.param("hemoglobin", "60", True, "40", None, id="R4.4-hemoglobin-not-an-R4.4-test"),
]


@pytest.mark.parametrize("test, value, aza_active, uln, tier", LAB_CASES)
def test_r4_4_lab_alert_tiers(test, value, aza_active, uln, tier):
    alert = lab_alert(test=test, value=D(value), aza_active=aza_active, uln=D(uln))
    if tier is None:
        assert alert is None
        return
    assert alert.tier == tier
    assert alert.kind == "lab"
    assert alert.test == test.lower()
    assert alert.value == D(value)
    assert alert.rule == "R4.4"
    assert "R4.4 tier " + ("A" if tier == "review" else "B") in alert.reason


REASON_CASES = [
    pytest.param(
        "wbc", "2.4", True, "40",
        Alert(
            kind="lab", tier="withhold", test="wbc", value=D("2.4"), rule="R4.4",
            reason=(
                "WBC 2.4 ×10⁹/L ≤ 2.5: withhold azathioprine, urgent review (R4.4 tier B, the "
                "clinic's withhold level; also meets the BSR/BHPR 2017 monitoring level "
                "WBC < 3.5); WBC < 4.0: consider recording the adverse event leukopenia (R4.4)."
            ),
            suggest_adverse_event="leukopenia",
        ),
        id="R4.4-reason-wbc-2.4-withhold",
    ),
    pytest.param(
        "wbc", "2.4", False, "40",
        Alert(
            kind="lab", tier="review", test="wbc", value=D("2.4"), rule="R4.4",
            reason=(
                "WBC 2.4 ×10⁹/L < 3.5: repeat within a week, clinician review (R4.4 tier A, "
                "BSR/BHPR 2017 monitoring level); azathioprine is not active, so the withhold "
                "level ≤ 2.5 (R4.4 tier B) does not apply; WBC < 4.0: consider recording the "
                "adverse event leukopenia (R4.4)."
            ),
            suggest_adverse_event="leukopenia",
        ),
        id="R4.4-reason-wbc-2.4-off-aza-review",
    ),
    pytest.param(
        "alt", "121", True, "40",
        Alert(
            kind="lab", tier="withhold", test="alt", value=D("121"), rule="R4.4",
            reason=(
                "ALT 121 U/L > 3 × ULN 40 = 120: withhold azathioprine, urgent review (R4.4 tier "
                "B, the clinic's withhold level; also meets the BSR/BHPR 2017 monitoring level "
                "ALT > 100)."
            ),
        ),
        id="R4.4-reason-alt-121-withhold",
    ),
    pytest.param(
        "alt", "91", True, "30",
        Alert(
            kind="lab", tier="withhold", test="alt", value=D("91"), rule="R4.4",
            reason=(
                "ALT 91 U/L > 3 × ULN 30 = 90: withhold azathioprine, urgent review (R4.4 tier "
                "B, the clinic's withhold level)."
            ),
        ),
        id="R4.4-reason-alt-91-ULN-30-withhold",
    ),
    pytest.param(
        "platelets", "139", True, "40",
        Alert(
            kind="lab", tier="review", test="platelets", value=D("139"), rule="R4.4",
            reason=(
                "Platelets 139 ×10⁹/L < 140: repeat within a week, clinician review (R4.4 tier "
                "A, BSR/BHPR 2017 monitoring level)."
            ),
        ),
        id="R4.4-reason-platelets-139-review",
    ),
    pytest.param(
        "neutrophils", "0.9", True, "40",
        Alert(
            kind="lab", tier="withhold", test="neutrophils", value=D("0.9"), rule="R4.4",
            reason=(
                "Neutrophils 0.9 ×10⁹/L ≤ 1.0: withhold azathioprine, urgent review (R4.4 tier "
                "B, the clinic's withhold level; also meets the BSR/BHPR 2017 monitoring level "
                "Neutrophils < 1.6)."
            ),
        ),
        id="R4.4-reason-neutrophils-0.9-withhold-no-leukopenia",
    ),
    pytest.param(
        "albumin", "34.9", False, "40",
        Alert(
            kind="lab", tier="review", test="albumin", value=D("34.9"), rule="R4.4",
            reason=(
                "Albumin 34.9 g/L < 35: repeat within a week, clinician review (R4.4 tier A, "
                "BSR/BHPR 2017 monitoring level)."
            ),
        ),
        id="R4.4-reason-albumin-34.9-review",
    ),
    pytest.param(
        "mcv", "106", True, "40",
        Alert(
            kind="lab", tier="review", test="mcv", value=D("106"), rule="R4.4",
            reason=(
                "MCV 106 fL > 105: repeat within a week, clinician review (R4.4 tier A, "
                "BSR/BHPR 2017 monitoring level)."
            ),
        ),
        id="R4.4-reason-mcv-106-review",
    ),
]


@pytest.mark.parametrize("test, value, aza_active, uln, expected", REASON_CASES)
def test_r4_4_alert_names_threshold_and_source(test, value, aza_active, uln, expected):
    assert lab_alert(test=test, value=D(value), aza_active=aza_active, uln=D(uln)) == expected


def test_r4_4_default_uln_is_40():
    # 3 × 40 = 120: 121 withholds, 120 does not, with no ULN passed
    assert lab_alert(test="ast", value=D("121"), aza_active=True).tier == "withhold"
    assert lab_alert(test="ast", value=D("120"), aza_active=True).tier == "review"


# (value as passed, expected tier): a float is read as written, 3.49 stays 3.49
VALUE_TYPE_CASES = [
    pytest.param(3.49, "review", id="R4.4-float-3.49"),
    pytest.param("3.49", "review", id="R4.4-text-3.49"),
    pytest.param(2, "withhold", id="R4.4-int-2"),
    pytest.param(D("2.50"), "withhold", id="R4.4-decimal-2.50"),
]


@pytest.mark.parametrize("value, tier", VALUE_TYPE_CASES)
def test_r4_4_value_types(value, tier):
    alert = lab_alert(test="wbc", value=value, aza_active=True)
    assert alert.tier == tier
    assert isinstance(alert.value, Decimal)


# ---------------------------------------------------------------------------
# Leukopenia suggestion: WBC < 4.0
# ---------------------------------------------------------------------------

LEUKOPENIA_CASES = [
    pytest.param("wbc", "3.9", True, id="R4.4-leukopenia-wbc-3.9"),
    pytest.param("wbc", "3.99", True, id="R4.4-leukopenia-wbc-3.99"),
    pytest.param("wbc", "4.0", False, id="R4.4-leukopenia-wbc-4.0-no"),
    pytest.param("wbc", "6.1", False, id="R4.4-leukopenia-wbc-6.1-no"),
    pytest.param("WBC", "3.9", True, id="R4.4-leukopenia-code-case-insensitive"),
    pytest.param("neutrophils", "0.9", False, id="R4.4-leukopenia-only-for-wbc"),
    pytest.param("wbc", None, False, id="R4.4-leukopenia-no-value"),
]


@pytest.mark.parametrize("test, value, suggests", LEUKOPENIA_CASES)
def test_r4_4_suggests_leukopenia(test, value, suggests):
    assert suggests_leukopenia(test=test, value=None if value is None else D(value)) is suggests


# (test, value, aza_active, alert expected?, suggest_adverse_event)
SUGGEST_CASES = [
    pytest.param("wbc", "3.9", True, False, "", id="R4.4-wbc-3.9-suggests-but-no-alert"),
    pytest.param("wbc", "3.4", True, True, "leukopenia", id="R4.4-wbc-3.4-review-suggests"),
    pytest.param("wbc", "2.5", True, True, "leukopenia", id="R4.4-wbc-2.5-withhold-suggests"),
    pytest.param("neutrophils", "0.9", True, True, "", id="R4.4-neutrophils-no-suggestion"),
    pytest.param("platelets", "50", True, True, "", id="R4.4-platelets-no-suggestion"),
]


@pytest.mark.parametrize("test, value, aza_active, has_alert, suggest", SUGGEST_CASES)
def test_r4_4_leukopenia_on_the_alert(test, value, aza_active, has_alert, suggest):
    alert = lab_alert(test=test, value=D(value), aza_active=aza_active)
    assert (alert is not None) is has_alert
    if alert is not None:
        assert alert.suggest_adverse_event == suggest


# ---------------------------------------------------------------------------
# Bradycardia: heart rate < 50/min at a visit on thalidomide → review
# ---------------------------------------------------------------------------

BRADYCARDIA_CASES = [
    pytest.param(49, True, True, id="R4.4-bradycardia-49-on-thalidomide"),
    pytest.param(50, True, False, id="R4.4-bradycardia-50-no-alert"),
    pytest.param(30, True, True, id="R4.4-bradycardia-30-on-thalidomide"),
    pytest.param(49, False, False, id="R4.4-bradycardia-49-off-thalidomide-no-alert"),
    pytest.param(None, True, False, id="R4.4-bradycardia-no-heart-rate"),
]


@pytest.mark.parametrize("heart_rate, on_thalidomide, alerts", BRADYCARDIA_CASES)
def test_r4_4_bradycardia(heart_rate, on_thalidomide, alerts):
    alert = bradycardia_alert(heart_rate=heart_rate, thalidomide_active=on_thalidomide)
    assert (alert is not None) is alerts
    if alert is not None:
        assert (alert.kind, alert.tier, alert.test, alert.rule) == (
            "bradycardia",
            "review",
            "heart_rate",
            "R4.4",
        )
        assert alert.value == D(heart_rate)


def test_r4_4_bradycardia_reason():
    assert bradycardia_alert(heart_rate=49, thalidomide_active=True) == Alert(
        kind="bradycardia",
        tier="review",
        test="heart_rate",
        value=D("49"),
        rule="R4.4",
        reason=(
            "Heart rate 49/min < 50 at a visit on thalidomide: bradycardia, clinician review "
            "(R4.4)."
        ),
    )


# ---------------------------------------------------------------------------
# Values that are not measurements are refused, never silently passed
# ---------------------------------------------------------------------------

INVALID_CASES = [
    pytest.param(lambda: lab_alert(test="wbc", value="abc", aza_active=True), id="R4.4-text"),
    pytest.param(lambda: lab_alert(test="wbc", value="NaN", aza_active=True), id="R4.4-nan"),
    pytest.param(lambda: lab_alert(test="wbc", value=True, aza_active=True), id="R4.4-bool"),
    pytest.param(lambda: lab_alert(test="wbc", value="-1", aza_active=True), id="R4.4-negative"),
    pytest.param(
        lambda: lab_alert(test="alt", value="50", aza_active=True, uln=D("0")), id="R4.4-uln-0"
    ),
    pytest.param(
        lambda: bradycardia_alert(heart_rate=-5, thalidomide_active=True),
        id="R4.4-negative-heart-rate",
    ),
]


@pytest.mark.parametrize("call", INVALID_CASES)
def test_r4_4_invalid_values_are_refused(call):
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------------------
# Purity (Conventions): no Django, no clock, standard library + the titration rules only
# ---------------------------------------------------------------------------

ALLOWED_IMPORTS = {
    "__future__", "collections", "dataclasses", "datetime", "decimal", "operator",
    "therapy.rules.azathioprine",
    "therapy.rules.doses",
    "therapy.rules.pregnancy",
    "therapy.rules.prescriptions",
    "therapy.rules.thalidomide",
    "therapy.rules.urgent",
    "safety",  # "from safety import schedule": the pure schedule, checked here too
    "thalimon.said",  # the pure sentence type of the reasons (issue 17)
}
CLOCK_CALLS = {"now", "today", "utcnow", "localdate", "localtime", "time"}


@pytest.mark.parametrize("relative", ["safety/alerts.py", "safety/schedule.py", "safety/policy.py", "safety/urgency.py"])
def test_safety_rule_modules_are_pure(relative):
    tree = ast.parse((ROOT / relative).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert name in ALLOWED_IMPORTS, f"{relative} imports {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"{relative} reads the clock"
