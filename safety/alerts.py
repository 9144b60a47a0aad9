"""Pure R4.4 laboratory and bradycardia alerts.

clinical-rules.md R4.4: on every lab result, one alert at its highest tier
(A ``review``: BSR/BHPR 2017 monitoring levels; B ``withhold``: the clinic's
withhold levels, only while azathioprine is active), naming the threshold and its
source; a WBC < 4.0 also suggests recording the adverse event ``leukopenia``; a
heart rate below 50/min at a visit on thalidomide raises a ``review`` alert.

No Django imports and no clock: values in, an ``Alert`` (or None) out, carrying the
rule id and a plain-language reason with the numbers. Values are compared as
``Decimal`` (a float is read through ``str()`` so 3.49 stays 3.49). Units are the
fixed units of the Conventions; converting them is the caller's job.

Readings chosen where the spec is open are marked "Ambiguity" below; each is the
reading safest for the patient.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from thalimon.said import Said, say

RULE = "R4.4"
REVIEW = "review"
WITHHOLD = "withhold"
DEFAULT_ULN = Decimal("40")  # ALT/AST upper limit of normal, U/L (R4.4 default, R12)
LEUKOPENIA_WBC_BELOW = Decimal("4.0")
BRADYCARDIA_BELOW = Decimal("50")  # beats/min

# The sources the reasons name (written out in each reason's message below).
REVIEW_SOURCE = "R4.4 tier A, BSR/BHPR 2017 monitoring level"
# Ambiguity: the spec names BSR/BHPR 2017 as the source of tier A only; tier B is
# the clinic's own withhold level in R4.4, so its reason does not credit BSR/BHPR.
WITHHOLD_SOURCE = "R4.4 tier B, the clinic's withhold level"

# test code → (name as printed, unit)
LAB_TESTS = {
    "wbc": (say("WBC"), "×10⁹/L"),
    "neutrophils": (say("Neutrophils"), "×10⁹/L"),
    "platelets": (say("Platelets"), "×10⁹/L"),
    "alt": (say("ALT"), "U/L"),
    "ast": (say("AST"), "U/L"),
    "mcv": (say("MCV"), "fL"),
    "albumin": (say("Albumin"), "g/L"),
}

_OPERATORS = {"<": operator.lt, "≤": operator.le, ">": operator.gt}

# Tier A (review): test → (comparison, threshold)
REVIEW_LEVELS = {
    "wbc": ("<", Decimal("3.5")),
    "neutrophils": ("<", Decimal("1.6")),
    "platelets": ("<", Decimal("140")),
    "alt": (">", Decimal("100")),
    "ast": (">", Decimal("100")),
    "mcv": (">", Decimal("105")),
    "albumin": ("<", Decimal("35")),
}
# Tier B (withhold): test → (comparison, threshold); ALT/AST are "> 3 × ULN" (see _withhold_level)
WITHHOLD_LEVELS = {
    "wbc": ("≤", Decimal("2.5")),
    "neutrophils": ("≤", Decimal("1.0")),
    "platelets": ("<", Decimal("100")),
}
ULN_MULTIPLE = Decimal("3")


@dataclass(frozen=True)
class Alert:
    kind: str  # "lab" | "bradycardia"
    tier: str  # "review" | "withhold"
    test: str  # lab test code, or "heart_rate"
    value: Decimal
    rule: str  # "R4.4"
    reason: str  # names the threshold and its source (a Said)
    suggest_adverse_event: str = ""  # "leukopenia" when WBC < 4.0


def _number(value, what: str) -> Decimal:
    """A measured value as Decimal (str() first so a float keeps its written digits)."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise ValueError(f"{what} must be a number, got {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if number < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return number


def _text(value: Decimal) -> str:
    """As measured: 2.50 stays 2.50 (the lab's precision), never in exponent form."""
    return format(value, "f")


def _code(test: str) -> str:
    return str(test).strip().lower()


def _withhold_level(code: str, uln: Decimal) -> tuple[str, Decimal, str] | None:
    """(comparison, threshold, threshold as printed) of tier B, None if the test has none."""
    if code in ("alt", "ast"):
        limit = ULN_MULTIPLE * uln
        return ">", limit, say("3 × ULN %(uln)s = %(limit)s", uln=_text(uln), limit=_text(limit))
    if code in WITHHOLD_LEVELS:
        op, limit = WITHHOLD_LEVELS[code]
        return op, limit, _text(limit)
    return None


def suggests_leukopenia(*, test: str, value) -> bool:
    """R4.4: a WBC < 4.0 ×10⁹/L suggests recording the adverse event ``leukopenia``.

    A missing value (None) suggests nothing.
    """
    if value is None or _code(test) != "wbc":
        return False
    return _number(value, "WBC") < LEUKOPENIA_WBC_BELOW


def lab_alert(*, test: str, value, aza_active: bool, uln: Decimal = DEFAULT_ULN) -> Alert | None:
    """R4.4: the one alert for a lab result, at its highest tier, or None.

    Tier B ``withhold`` applies only while azathioprine is active; otherwise a value
    at a withhold level falls back to tier A ``review`` when it meets tier A.
    Ambiguity: with a low ULN, 3 × ULN can lie below the tier A level of 100 U/L
    (ULN 30 → 90); an ALT of 95 then withholds azathioprine while it is active, and
    raises nothing when it is not (it does not meet tier A's > 100), as the table says.
    A WBC alert for a value < 4.0 also carries ``suggest_adverse_event="leukopenia"``.
    Tests not in R4.4 (e.g. CRP) and a missing value (None) give None.
    """
    code = _code(test)
    if code not in LAB_TESTS or value is None:
        return None
    number = _number(value, LAB_TESTS[code][0])
    uln_value = _number(uln, "ULN")
    if uln_value == 0:
        raise ValueError("ULN must be above 0")
    name, unit = LAB_TESTS[code]
    review_op, review_limit = REVIEW_LEVELS[code]
    meets_review = _OPERATORS[review_op](number, review_limit)
    withhold = _withhold_level(code, uln_value)
    meets_withhold = withhold is not None and _OPERATORS[withhold[0]](number, withhold[1])
    figures = dict(test=name, value=_text(number), unit=unit, review=f"{review_op} {_text(review_limit)}")
    if withhold is not None:
        figures.update(op=withhold[0], threshold=withhold[2])

    if meets_withhold and aza_active:
        tier = WITHHOLD
        reason = _withhold_reason(figures, also_review=meets_review)
    elif meets_review:
        tier = REVIEW
        reason = _review_reason(figures, withhold_not_applied=meets_withhold)
    else:
        return None

    suggest = ""
    if code == "wbc" and number < LEUKOPENIA_WBC_BELOW:
        suggest = "leukopenia"
        reason = say(
            "%(alert)s; WBC < 4.0: consider recording the adverse event leukopenia (R4.4).", alert=reason
        )
    else:
        reason = say("%(alert)s.", alert=reason)
    return Alert(
        kind="lab",
        tier=tier,
        test=code,
        value=number,
        rule=RULE,
        reason=reason,
        suggest_adverse_event=suggest,
    )


def _withhold_reason(figures: dict, *, also_review: bool) -> Said:
    """Tier B (R4.4, the clinic's withhold level), without its final full stop."""
    if also_review:
        return say(
            "%(test)s %(value)s %(unit)s %(op)s %(threshold)s: withhold azathioprine, urgent review "
            "(R4.4 tier B, the clinic's withhold level; also meets the BSR/BHPR 2017 monitoring "
            "level %(test)s %(review)s)",
            **figures,
        )
    return say(
        "%(test)s %(value)s %(unit)s %(op)s %(threshold)s: withhold azathioprine, urgent review "
        "(R4.4 tier B, the clinic's withhold level)",
        **{name: figures[name] for name in ("test", "value", "unit", "op", "threshold")},
    )


def _review_reason(figures: dict, *, withhold_not_applied: bool) -> Said:
    """Tier A (R4.4, BSR/BHPR 2017 monitoring level), without its final full stop."""
    if withhold_not_applied:
        return say(
            "%(test)s %(value)s %(unit)s %(review)s: repeat within a week, clinician review (R4.4 "
            "tier A, BSR/BHPR 2017 monitoring level); azathioprine is not active, so the withhold "
            "level %(op)s %(threshold)s (R4.4 tier B) does not apply",
            **figures,
        )
    return say(
        "%(test)s %(value)s %(unit)s %(review)s: repeat within a week, clinician review (R4.4 "
        "tier A, BSR/BHPR 2017 monitoring level)",
        **{name: figures[name] for name in ("test", "value", "unit", "review")},
    )


def bradycardia_alert(*, heart_rate, thalidomide_active: bool) -> Alert | None:
    """R4.4: a heart rate below 50/min at a visit on thalidomide raises a ``review`` alert.

    A missing heart rate (None) or a patient not on thalidomide gives None.
    """
    if heart_rate is None or not thalidomide_active:
        return None
    rate = _number(heart_rate, "heart rate")
    if rate >= BRADYCARDIA_BELOW:
        return None
    return Alert(
        kind="bradycardia",
        tier=REVIEW,
        test="heart_rate",
        value=rate,
        rule=RULE,
        reason=say(
            "Heart rate %(rate)s/min < %(limit)s at a visit on thalidomide: bradycardia, "
            "clinician review (R4.4).",
            rate=_text(rate),
            limit=_text(BRADYCARDIA_BELOW),
        ),
    )
