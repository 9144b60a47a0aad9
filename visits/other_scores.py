"""Pure clinical activity scores besides the CDAI (clinical-rules.md R1.2 HBI,
R1.6 Mayo and partial Mayo, R1.7 AIDAI).

No Django imports and no clock: plain values in, a ``visits.scoring.ScoreResult``
out, with the rule id and a plain-language reason. Decimal arithmetic and half-up
rounding as in ``visits.scoring``, whose helpers these scores share.
"""

from __future__ import annotations

from decimal import Decimal

from visits.scoring import (
    ScoreResult,
    check_range,
    check_whole_range,
    differs_warning,
    entered_or_not_computable,
    fmt,
    is_whole,
    join_names,
    not_computable,
    raise_if,
    round_whole,
    to_decimal,
)

MAYO_MAX = Decimal("12")

# --------------------------------------------------------------------------- R1.2 HBI


def hbi_band(value) -> str:
    if value is None:
        return ""
    if value < 5:
        return "remission"
    if value <= 7:
        return "mild"
    if value <= 16:
        return "moderate"
    return "severe"


def validate_hbi_items(
    *,
    wellbeing=None,
    pain=None,
    liquid_stools=None,
    mass=None,
    complications=None,
    entered_total=None,
) -> dict[str, str]:
    """Field name -> message for each invalid HBI item (R1.2, previous day); {} when fine."""
    errors: dict[str, str] = {}
    if wellbeing is not None:
        check_whole_range(
            "General well-being",
            wellbeing,
            0,
            4,
            "a rating 0 (very well) to 4 (terrible), 0–4",
            errors,
            "wellbeing",
        )
    if pain is not None:
        check_whole_range(
            "Abdominal pain", pain, 0, 3, "a rating 0 (none) to 3 (severe), 0–3", errors, "pain"
        )
    if liquid_stools is not None:
        check_whole_range(
            "Liquid stools",
            liquid_stools,
            0,
            None,
            "a whole number ≥ 0 for the previous day",
            errors,
            "liquid_stools",
        )
    if mass is not None:
        check_whole_range(
            "Abdominal mass",
            mass,
            0,
            3,
            "0 (none), 1 (dubious), 2 (definite) or 3 (definite and tender), 0–3",
            errors,
            "mass",
        )
    if complications is not None:
        check_whole_range(
            "Complications",
            complications,
            0,
            8,
            "a count of complications, 0–8",
            errors,
            "complications",
        )
    if entered_total is not None:
        check_range(
            "The entered HBI total",
            entered_total,
            Decimal(0),
            None,
            "a number ≥ 0",
            errors,
            "entered_total",
        )
    return errors


def hbi(*, wellbeing, pain, liquid_stools, mass, complications, entered_total=None) -> ScoreResult:
    """R1.2 Harvey–Bradshaw Index: unweighted sum of the previous day's items."""
    raise_if(
        validate_hbi_items(
            wellbeing=wellbeing,
            pain=pain,
            liquid_stools=liquid_stools,
            mass=mass,
            complications=complications,
            entered_total=entered_total,
        )
    )
    items = (
        ("well-being", wellbeing),
        ("pain", pain),
        ("liquid stools", liquid_stools),
        ("abdominal mass", mass),
        ("complications", complications),
    )
    missing = [label for label, value in items if value is None]
    if missing:
        return entered_or_not_computable(
            "HBI", "R1.2", missing, entered_total, round_whole, hbi_band
        )
    numbers = [to_decimal(value) for _, value in items]
    value = round_whole(sum(numbers, Decimal(0)))
    band = hbi_band(value)
    parts = " + ".join(f"{fmt(n)} {label}" for (label, _), n in zip(items, numbers, strict=True))
    return ScoreResult(
        name="HBI",
        value=value,
        rule="R1.2",
        reason=f"HBI {fmt(value)} (computed): {parts}; {band} (R1.2)",
        band=band,
        warnings=differs_warning("HBI", "R1.2", entered_total, value),
    )


# --------------------------------------------------------------------------- R1.6 Mayo

MAYO_LABELS = {
    "stool_frequency": "stool frequency",
    "rectal_bleeding": "rectal bleeding",
    "endoscopy": "endoscopy",
    "physician_global": "physician global assessment",
}


def validate_mayo_subscores(**subscores) -> dict[str, str]:
    """R1.6: each given subscore is a whole number 0–3. Keys are the names passed in."""
    errors: dict[str, str] = {}
    for key, value in subscores.items():
        if value is None:
            continue
        label = MAYO_LABELS.get(key, key.replace("_", " "))
        check_whole_range(f"Mayo {label} subscore", value, 0, 3, "0–3", errors, key)
    return errors


def _mayo_remission(numbers: dict, value: Decimal) -> tuple[str, str]:
    """R1.6 remission: (band, verdict text) for a full Mayo."""
    above_one = [MAYO_LABELS[key] for key, n in numbers.items() if n > 1]
    if value <= 2 and not above_one:
        return "remission", "; remission (≤ 2 with no subscore > 1)"
    if above_one:
        return "", f"; not remission: subscore above 1 for {join_names(above_one)}"
    return "", "; not remission: total above 2"


def _mayo_sum(name, rule, subscores: dict, entered_total, remission_rule: bool) -> ScoreResult:
    errors = validate_mayo_subscores(**subscores)
    if entered_total is not None:
        check_whole_range(
            "The entered Mayo total",
            entered_total,
            0,
            12,
            "a whole number 0–12",
            errors,
            "entered_total",
        )
    raise_if(errors)
    missing = [MAYO_LABELS[key] for key, value in subscores.items() if value is None]
    if missing:
        # With a total alone remission cannot be decided (it needs the subscores): band "".
        return entered_or_not_computable(
            name, rule, missing, entered_total, round_whole, lambda v: ""
        )
    numbers = {key: to_decimal(value) for key, value in subscores.items()}
    value = round_whole(sum(numbers.values(), Decimal(0)))
    parts = " + ".join(f"{fmt(n)} {MAYO_LABELS[key]}" for key, n in numbers.items())
    band, verdict = _mayo_remission(numbers, value) if remission_rule else ("", "")
    return ScoreResult(
        name=name,
        value=value,
        rule=rule,
        reason=f"{name} {fmt(value)} (computed): {parts}{verdict} ({rule})",
        band=band,
        warnings=differs_warning(name, rule, entered_total, value),
    )


def mayo(
    *, stool_frequency, rectal_bleeding, endoscopy, physician_global, entered_total=None
) -> ScoreResult:
    """R1.6 full Mayo 0–12; remission when total ≤ 2 with no subscore > 1."""
    return _mayo_sum(
        "Mayo",
        "R1.6",
        {
            "stool_frequency": stool_frequency,
            "rectal_bleeding": rectal_bleeding,
            "endoscopy": endoscopy,
            "physician_global": physician_global,
        },
        entered_total,
        remission_rule=True,
    )


def partial_mayo(*, stool_frequency, rectal_bleeding, physician_global) -> ScoreResult:
    """R1.6 partial Mayo: the full Mayo without endoscopy, 0–9 (no remission band in R1.6)."""
    return _mayo_sum(
        "partial Mayo",
        "R1.6",
        {
            "stool_frequency": stool_frequency,
            "rectal_bleeding": rectal_bleeding,
            "physician_global": physician_global,
        },
        None,
        remission_rule=False,
    )


# --------------------------------------------------------------------------- R1.7 AIDAI


def aidai(*, yes_count) -> ScoreResult:
    """R1.7 AIDAI: the count of "yes" answers over the days recorded; ≥ 9 is active."""
    if yes_count is None:
        return not_computable("AIDAI", "R1.7", ["count of “yes” diary answers"])
    number = to_decimal(yes_count)
    if number is None or number < 0 or not is_whole(number):
        raise ValueError(
            f"AIDAI must be a whole-number count of “yes” diary answers ≥ 0 (got {yes_count!r})."
        )
    value = round_whole(number)
    band = "active" if value >= 9 else "inactive"
    comparison = "at least 9" if band == "active" else "below 9"
    return ScoreResult(
        name="AIDAI",
        value=value,
        rule="R1.7",
        reason=(
            f"AIDAI {fmt(value)} (computed): {fmt(value)} “yes” answers in the diary, "
            f"{comparison}, so {band} (R1.7)"
        ),
        band=band,
    )
