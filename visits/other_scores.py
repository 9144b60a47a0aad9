"""Pure clinical activity scores besides the CDAI (clinical-rules.md R1.2 HBI,
R1.6 Mayo and partial Mayo, R1.7 AIDAI).

No Django imports and no clock: plain values in, a ``visits.scoring.ScoreResult``
out, with the rule id and a plain-language reason. Decimal arithmetic and half-up
rounding as in ``visits.scoring``, whose helpers these scores share. Reasons,
warnings and validation messages are ``thalimon.said.Said`` (issue 17).
"""

from __future__ import annotations

from decimal import Decimal

from thalimon.said import say
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

# The R1 band codes as the reasons write them.
_BAND_WORDS = {
    "remission": say("remission"),
    "mild": say("mild"),
    "moderate": say("moderate"),
    "severe": say("severe"),
}

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


# Each HBI input: (check, label, low, high, the message when out of range), in message order.
_HBI_CHECKS = {
    "wellbeing": (
        check_whole_range,
        say("General well-being"),
        0,
        4,
        lambda got: say(
            "General well-being must be a rating 0 (very well) to 4 (terrible), 0–4 (got %(got)s).",
            got=got,
        ),
    ),
    "pain": (
        check_whole_range,
        say("Abdominal pain"),
        0,
        3,
        lambda got: say(
            "Abdominal pain must be a rating 0 (none) to 3 (severe), 0–3 (got %(got)s).", got=got
        ),
    ),
    "liquid_stools": (
        check_whole_range,
        say("Liquid stools"),
        0,
        None,
        lambda got: say(
            "Liquid stools must be a whole number ≥ 0 for the previous day (got %(got)s).",
            got=got,
        ),
    ),
    "mass": (
        check_whole_range,
        say("Abdominal mass"),
        0,
        3,
        lambda got: say(
            "Abdominal mass must be 0 (none), 1 (dubious), 2 (definite) or 3 (definite and "
            "tender), 0–3 (got %(got)s).",
            got=got,
        ),
    ),
    "complications": (
        check_whole_range,
        say("Complications"),
        0,
        8,
        lambda got: say(
            "Complications must be a count of complications, 0–8 (got %(got)s).", got=got
        ),
    ),
    "entered_total": (
        check_range,
        say("The entered HBI total"),
        Decimal(0),
        None,
        lambda got: say("The entered HBI total must be a number ≥ 0 (got %(got)s).", got=got),
    ),
}


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
    values = {
        "wellbeing": wellbeing,
        "pain": pain,
        "liquid_stools": liquid_stools,
        "mass": mass,
        "complications": complications,
        "entered_total": entered_total,
    }
    errors: dict[str, str] = {}
    for key, (check, label, low, high, wrong) in _HBI_CHECKS.items():
        if values[key] is not None:
            check(label, values[key], low, high, wrong, errors, key)
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
        (say("well-being"), wellbeing),
        (say("pain"), pain),
        (say("liquid stools"), liquid_stools),
        (say("abdominal mass"), mass),
        (say("complications"), complications),
    )
    missing = [label for label, value in items if value is None]
    if missing:
        return entered_or_not_computable(
            "HBI", "R1.2", missing, entered_total, round_whole, hbi_band
        )
    numbers = [to_decimal(value) for _, value in items]
    value = round_whole(sum(numbers, Decimal(0)))
    band = hbi_band(value)
    wellbeing_n, pain_n, stools_n, mass_n, complications_n = (fmt(n) for n in numbers)
    return ScoreResult(
        name="HBI",
        value=value,
        rule="R1.2",
        reason=say(
            "HBI %(value)s (computed): %(wellbeing)s well-being + %(pain)s pain + "
            "%(stools)s liquid stools + %(mass)s abdominal mass + %(complications)s "
            "complications; %(band)s (R1.2)",
            value=fmt(value),
            wellbeing=wellbeing_n,
            pain=pain_n,
            stools=stools_n,
            mass=mass_n,
            complications=complications_n,
            band=_BAND_WORDS[band],
        ),
        band=band,
        warnings=differs_warning("HBI", "R1.2", entered_total, value),
    )


# --------------------------------------------------------------------------- R1.6 Mayo

MAYO_LABELS = {
    "stool_frequency": say("stool frequency"),
    "rectal_bleeding": say("rectal bleeding"),
    "endoscopy": say("endoscopy"),
    "physician_global": say("physician global assessment"),
}


def validate_mayo_subscores(**subscores) -> dict[str, str]:
    """R1.6: each given subscore is a whole number 0–3. Keys are the names passed in."""
    errors: dict[str, str] = {}
    for key, value in subscores.items():
        if value is None:
            continue
        label = MAYO_LABELS.get(key, key.replace("_", " "))
        check_whole_range(
            say("Mayo %(item)s subscore", item=label),
            value,
            0,
            3,
            lambda got, label=label: say(
                "Mayo %(item)s subscore must be 0–3 (got %(got)s).", item=label, got=got
            ),
            errors,
            key,
        )
    return errors


def _mayo_parts(numbers: dict):
    """The subscores as the reason adds them up (full Mayo, or partial Mayo without endoscopy)."""
    written = {key: fmt(n) for key, n in numbers.items()}
    if tuple(written) == ("stool_frequency", "rectal_bleeding", "endoscopy", "physician_global"):
        return say(
            "%(stool_frequency)s stool frequency + %(rectal_bleeding)s rectal bleeding + "
            "%(endoscopy)s endoscopy + %(physician_global)s physician global assessment",
            **written,
        )
    if tuple(written) == ("stool_frequency", "rectal_bleeding", "physician_global"):
        return say(
            "%(stool_frequency)s stool frequency + %(rectal_bleeding)s rectal bleeding + "
            "%(physician_global)s physician global assessment",
            **written,
        )
    raise ValueError(f"no Mayo reason is written for the subscores {tuple(written)}")


def _mayo_reason(name, rule, value: Decimal, numbers: dict, remission_rule: bool):
    """R1.6: (band, reason); with ``remission_rule`` (full Mayo) the remission verdict too."""
    said = {"name": name, "value": fmt(value), "parts": _mayo_parts(numbers), "rule": rule}
    if not remission_rule:
        return "", say("%(name)s %(value)s (computed): %(parts)s (%(rule)s)", **said)
    above_one = [MAYO_LABELS[key] for key, n in numbers.items() if n > 1]
    if value <= 2 and not above_one:
        return "remission", say(
            "%(name)s %(value)s (computed): %(parts)s; remission (≤ 2 with no subscore > 1) "
            "(%(rule)s)",
            **said,
        )
    if above_one:
        return "", say(
            "%(name)s %(value)s (computed): %(parts)s; not remission: subscore above 1 for "
            "%(names)s (%(rule)s)",
            names=join_names(above_one),
            **said,
        )
    return "", say(
        "%(name)s %(value)s (computed): %(parts)s; not remission: total above 2 (%(rule)s)",
        **said,
    )


def _mayo_sum(name, rule, subscores: dict, entered_total, remission_rule: bool) -> ScoreResult:
    errors = validate_mayo_subscores(**subscores)
    if entered_total is not None:
        check_whole_range(
            say("The entered Mayo total"),
            entered_total,
            0,
            12,
            lambda got: say(
                "The entered Mayo total must be a whole number 0–12 (got %(got)s).", got=got
            ),
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
    band, reason = _mayo_reason(name, rule, value, numbers, remission_rule)
    return ScoreResult(
        name=name,
        value=value,
        rule=rule,
        reason=reason,
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
        say("partial Mayo"),
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
        return not_computable("AIDAI", "R1.7", [say("count of “yes” diary answers")])
    number = to_decimal(yes_count)
    if number is None or number < 0 or not is_whole(number):
        raise ValueError(
            f"AIDAI must be a whole-number count of “yes” diary answers ≥ 0 (got {yes_count!r})."
        )
    value = round_whole(number)
    if value >= 9:
        band = "active"
        reason = say(
            "AIDAI %(value)s (computed): %(value)s “yes” answers in the diary, at least 9, "
            "so active (R1.7)",
            value=fmt(value),
        )
    else:
        band = "inactive"
        reason = say(
            "AIDAI %(value)s (computed): %(value)s “yes” answers in the diary, below 9, "
            "so inactive (R1.7)",
            value=fmt(value),
        )
    return ScoreResult(name="AIDAI", value=value, rule="R1.7", reason=reason, band=band)
