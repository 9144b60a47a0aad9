"""Pure disease-activity scores: the shared result type and helpers, and R1.1 CDAI
(clinical-rules.md R1.1, plausible values R12).

The other scores build on this module: ``visits.endoscopy_scores`` (R1.3 CDEIS,
R1.4 SES-CD, R1.5 Rutgeerts) and ``visits.other_scores`` (R1.2 HBI, R1.6 Mayo,
R1.7 AIDAI).

No Django imports and no clock: plain values in, a ``ScoreResult`` out that
carries the rule id and a plain-language reason. All arithmetic is done in
``decimal.Decimal``; only the final reported figure is rounded, half up
(``ROUND_HALF_UP``), never with Python's ``round()``.

Validation helpers (``validate_*``) return field -> message dicts for forms
and importers; the score functions call them again as a guard and raise
``ValueError`` with the same messages, so a bad value never becomes a score.

Reasons, warnings and validation messages are ``thalimon.said.Said`` (issue 17):
English text as before, rendered in the reader's language by the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from thalimon.said import Said, join, say

WHOLE = Decimal("1")
ONE_DECIMAL = Decimal("0.1")
MINUS = "−"  # U+2212, as clinicians read it in print

GLOBAL_ASSESSMENTS = ("improved", "unchanged", "worse")

# R1.1 constants
CDAI_STOOLS_WARN_ABOVE = Decimal("140")
CDAI_ENTERED_MAX = Decimal("1100")
HEMATOCRIT_REFERENCE = {"M": Decimal("47"), "F": Decimal("42")}
STANDARD_WEIGHT_FACTOR = {"M": Decimal("22.1"), "F": Decimal("20.8")}
# R12 plausible ranges (and the patient record's own ranges for height / standard weight)
HEMATOCRIT_PLAUSIBLE = (Decimal("10"), Decimal("70"))
WEIGHT_PLAUSIBLE = (Decimal("2"), Decimal("300"))
HEIGHT_PLAUSIBLE = (Decimal("40"), Decimal("250"))
STANDARD_WEIGHT_PLAUSIBLE = (Decimal("2"), Decimal("250"))


@dataclass(frozen=True)
class ScoreResult:
    name: str
    value: Decimal | None
    rule: str
    reason: str
    missing: tuple[str, ...] = ()
    source: str = "computed"
    band: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def computable(self) -> bool:
        return self.value is not None


# --------------------------------------------------------------------------- helpers
# Shared by every score module (visits.endoscopy_scores, visits.other_scores).


def to_decimal(value) -> Decimal | None:
    """``Decimal(str(value))``, or None when the value is not a finite number."""
    if isinstance(value, bool):
        return Decimal(int(value))
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def is_whole(number: Decimal) -> bool:
    return number == number.to_integral_value()


def fmt(value) -> str:
    """A number as written (``44.0`` stays ``44.0``), with a real minus sign."""
    number = value if isinstance(value, Decimal) else to_decimal(value)
    text = format(number, "f")
    return MINUS + text[1:] if text.startswith("-") else text


def _fmt1(number: Decimal) -> str:
    """Display only (never used in arithmetic): one decimal, half up."""
    return fmt(number.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP))


def round_whole(number: Decimal) -> Decimal:
    """The reported whole number, half up (never "-0")."""
    result = number.quantize(WHOLE, rounding=ROUND_HALF_UP)
    return Decimal(0) if result == 0 else result  # no "-0"


def round_one_decimal(number: Decimal) -> Decimal:
    """The reported figure with one decimal, half up (never "-0.0")."""
    result = number.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    return Decimal("0.0") if result == 0 else result


def join_names(names) -> Said:
    """``a``, ``a and b``, ``a, b and c`` (each name a ``Said`` word, or a code)."""
    names = list(names)
    if len(names) <= 1:
        return join(names, ", ")
    return say("%(names)s and %(last)s", names=join(names[:-1], ", "), last=names[-1])


def not_a_number(label, value) -> Said:
    """The message for a value that is not a number: ``label`` names the value."""
    return say("%(label)s must be a number (got %(got)s).", label=label, got=repr(value))


def check_whole_range(label, value, low, high, wrong, errors, key):
    """Whole number within [low, high] (high None: no upper limit).

    ``label`` names the value (for "must be a number"); ``wrong(got)`` is the whole
    message when the number is out of range, ``got`` the number as written."""
    number = to_decimal(value)
    if number is None:
        errors[key] = not_a_number(label, value)
    elif number < 0 or not is_whole(number) or number < low or (high is not None and number > high):
        errors[key] = wrong(fmt(number))


def check_range(label, value, low, high, wrong, errors, key):
    """Any number within [low, high] (high None: no upper limit); messages as ``check_whole_range``."""
    number = to_decimal(value)
    if number is None:
        errors[key] = not_a_number(label, value)
    elif number < low or (high is not None and number > high):
        errors[key] = wrong(fmt(number))


def raise_if(errors: dict[str, str]) -> None:
    """The score functions' guard: a ValueError with every message, in order (one ``Said``)."""
    if errors:
        raise ValueError(join(errors.values(), " "))


def not_computable(name, rule, missing) -> ScoreResult:
    return ScoreResult(
        name=name,
        value=None,
        rule=rule,
        reason=say(
            "%(name)s not computable; missing: %(missing)s (%(rule)s).",
            name=name,
            missing=join_names(missing),
            rule=rule,
        ),
        missing=tuple(missing),
        source="",
    )


def differs_warning(name, rule, entered, computed) -> tuple[str, ...]:
    """The warning when an entered total differs from the computed one (else none)."""
    if entered is None or to_decimal(entered) == computed:
        return ()
    return (
        say(
            "Entered %(name)s total %(entered)s differs from the computed %(name)s "
            "%(computed)s; the computed value is used (%(rule)s).",
            name=name,
            entered=fmt(to_decimal(entered)),
            computed=fmt(computed),
            rule=rule,
        ),
    )


def entered_or_not_computable(name, rule, missing, entered_total, quantize, band_of):
    """With items missing: the entered total (``quantize``-rounded) if any, else not computable."""
    if entered_total is None:
        return not_computable(name, rule, missing)
    entered = to_decimal(entered_total)
    value = quantize(entered)
    if entered == value:
        reason = say(
            "%(name)s %(value)s (entered): total entered directly; not computed, "
            "missing: %(missing)s (%(rule)s).",
            name=name,
            value=fmt(value),
            missing=join_names(missing),
            rule=rule,
        )
    else:
        reason = say(
            "%(name)s %(value)s (entered): total entered directly (%(entered)s rounded half up); "
            "not computed, missing: %(missing)s (%(rule)s).",
            name=name,
            value=fmt(value),
            entered=fmt(entered),
            missing=join_names(missing),
            rule=rule,
        )
    return ScoreResult(
        name=name,
        value=value,
        rule=rule,
        reason=reason,
        source="entered",
        band=band_of(value),
    )


# --------------------------------------------------------------------------- R1.1 CDAI


def _check_standard_weight(value, errors) -> None:
    check_range(
        say("Standard weight"),
        value,
        *STANDARD_WEIGHT_PLAUSIBLE,
        lambda got: say(
            "Standard weight must be given in kg, within 2–250 kg (got %(got)s).", got=got
        ),
        errors,
        "standard_weight",
    )


def _check_height(value, errors) -> None:
    check_range(
        say("Height"),
        value,
        *HEIGHT_PLAUSIBLE,
        lambda got: say("Height must be given in cm, within 40–250 cm (got %(got)s).", got=got),
        errors,
        "height_cm",
    )


def standard_weight_kg(*, sex: str | None, height_cm, entered=None) -> Decimal | None:
    """R1.1 standard weight: the clinician's entered value if given; else
    22.1 × height(m)² (male) or 20.8 × height(m)² (female), unrounded.
    None when it cannot be derived (no height, or sex not recorded)."""
    if entered is not None:
        errors: dict[str, str] = {}
        _check_standard_weight(entered, errors)
        raise_if(errors)
        return to_decimal(entered)
    if height_cm is None or sex not in STANDARD_WEIGHT_FACTOR:
        return None
    errors = {}
    _check_height(height_cm, errors)
    raise_if(errors)
    height_m = to_decimal(height_cm) / Decimal(100)
    return STANDARD_WEIGHT_FACTOR[sex] * height_m * height_m


def cdai_band(value) -> str:
    """R1.1 bands, applied to the whole number the clinician sees."""
    if value is None:
        return ""
    whole = round_whole(to_decimal(value))
    if whole < 150:
        return "remission-range"
    if whole <= 220:
        return "mild"
    if whole <= 450:
        return "moderate"
    return "severe"


def _check_stools(value, errors) -> None:
    check_whole_range(
        say("Liquid or very soft stools"),
        value,
        0,
        None,
        lambda got: say(
            "Liquid or very soft stools must be a whole number ≥ 0, summed over 7 days "
            "(got %(got)s).",
            got=got,
        ),
        errors,
        "stools",
    )


def _check_pain(value, errors) -> None:
    check_whole_range(
        say("Abdominal pain"),
        value,
        0,
        21,
        lambda got: say(
            "Abdominal pain must be a 7-day sum of daily ratings 0–3, so 0–21 (got %(got)s).",
            got=got,
        ),
        errors,
        "pain",
    )


def _check_wellbeing(value, errors) -> None:
    check_whole_range(
        say("General well-being"),
        value,
        0,
        28,
        lambda got: say(
            "General well-being must be a 7-day sum of daily ratings 0–4, so 0–28 (got %(got)s).",
            got=got,
        ),
        errors,
        "wellbeing",
    )


def _check_complications(value, errors) -> None:
    check_whole_range(
        say("Complications"),
        value,
        0,
        6,
        lambda got: say(
            "Complications must be a count of complication categories, 0–6 (got %(got)s).",
            got=got,
        ),
        errors,
        "complications",
    )


def _check_antidiarrheal(value, errors) -> None:
    number = to_decimal(value)
    if number is None or number not in (0, 1):
        errors["antidiarrheal"] = say(
            "Antidiarrhoeal use must be yes or no (1 or 0) (got %(got)s).", got=repr(value)
        )


def _check_mass(value, errors) -> None:
    number = to_decimal(value)
    if number is None or number not in (0, 2, 5):
        errors["mass"] = say(
            "Abdominal mass must be 0 (none), 2 (questionable) or 5 (definite) (got %(got)s).",
            got=fmt(number) if number is not None else repr(value),
        )


def _check_hematocrit(value, errors) -> None:
    number = to_decimal(value)
    if number is not None and 0 < number <= 1:
        errors["hematocrit"] = say(
            "Haematocrit must be given in %% (e.g. 42), not as a fraction (got %(got)s).",
            got=fmt(number),
        )
    else:
        check_range(
            say("Haematocrit"),
            value,
            *HEMATOCRIT_PLAUSIBLE,
            lambda got: say(
                "Haematocrit must be given in %%, within the plausible range 10–70 %% (R12) "
                "(got %(got)s).",
                got=got,
            ),
            errors,
            "hematocrit",
        )


def _check_weight(value, errors) -> None:
    check_range(
        say("Weight"),
        value,
        *WEIGHT_PLAUSIBLE,
        lambda got: say(
            "Weight must be given in kg, within the plausible range 2–300 kg (got %(got)s).",
            got=got,
        ),
        errors,
        "weight_kg",
    )


def _check_entered_cdai(value, errors) -> None:
    check_range(
        say("The entered CDAI total"),
        value,
        Decimal(0),
        CDAI_ENTERED_MAX,
        lambda got: say(
            "The entered CDAI total must be between 0 and 1100 (got %(got)s).", got=got
        ),
        errors,
        "entered_total",
    )


# Each CDAI input and its check, in the order the messages are given.
_CDAI_CHECKS = (
    ("stools", _check_stools),
    ("pain", _check_pain),
    ("wellbeing", _check_wellbeing),
    ("complications", _check_complications),
    ("antidiarrheal", _check_antidiarrheal),
    ("mass", _check_mass),
    ("hematocrit", _check_hematocrit),
    ("weight_kg", _check_weight),
    ("entered_total", _check_entered_cdai),
    ("height_cm", _check_height),
    ("standard_weight", _check_standard_weight),
)


def validate_cdai_items(
    *,
    stools=None,
    pain=None,
    wellbeing=None,
    complications=None,
    antidiarrheal=None,
    mass=None,
    hematocrit=None,
    weight_kg=None,
    entered_total=None,
    height_cm=None,
    standard_weight=None,
) -> dict[str, str]:
    """Field name -> message for each implausible CDAI input (R1.1, R12); {} when fine.

    ``height_cm`` and ``standard_weight`` are extra (optional) checks so that
    a height in metres or a standard weight in the wrong unit is refused too.
    """
    values = {
        "stools": stools,
        "pain": pain,
        "wellbeing": wellbeing,
        "complications": complications,
        "antidiarrheal": antidiarrheal,
        "mass": mass,
        "hematocrit": hematocrit,
        "weight_kg": weight_kg,
        "entered_total": entered_total,
        "height_cm": height_cm,
        "standard_weight": standard_weight,
    }
    errors: dict[str, str] = {}
    for key, check in _CDAI_CHECKS:
        if values[key] is not None:
            check(values[key], errors)
    return errors


def _cdai_sex(sex) -> str | None:
    """The sex as "M" or "F", or None when not recorded; anything else is refused."""
    if sex in ("", None):
        return None
    if sex not in HEMATOCRIT_REFERENCE:
        raise ValueError(f"Sex must be 'M' or 'F' for the CDAI haematocrit term (got {sex!r}).")
    return sex


# The CDAI items (and sex) in the order a missing one is named.
_CDAI_ITEM_LABELS = (
    ("stools", say("stools")),
    ("pain", say("pain")),
    ("wellbeing", say("well-being")),
    ("complications", say("complications")),
    ("antidiarrheal", say("antidiarrhoeal use")),
    ("mass", say("abdominal mass")),
    ("hematocrit", say("haematocrit")),
    ("sex", say("sex")),
    ("weight_kg", say("weight")),
)


def _cdai_missing(items: dict, standard, height_cm) -> list[str]:
    missing = [label for key, label in _CDAI_ITEM_LABELS if items[key] is None]
    # Without sex the standard weight cannot be derived either, but "sex" already
    # names what the clinician must supply; name height only when height is the gap.
    if standard is None and not (items["sex"] is None and height_cm is not None):
        missing.append(say("standard weight/height"))
    return missing


@dataclass(frozen=True)
class _CdaiSum:
    """The R1.1 sum before rounding, with the figures its reason shows."""

    stools: Decimal
    pain: Decimal
    wellbeing: Decimal
    complications: Decimal
    antidiarrheal: Decimal
    mass: Decimal
    hematocrit: Decimal
    reference: Decimal  # haematocrit reference of the sex
    weight: Decimal
    standard: Decimal
    floor: Decimal
    weight_term_raw: Decimal  # before the floor
    weight_term: Decimal
    raw: Decimal  # before the floor at 0 and the rounding


def _cdai_sum(items: dict, standard: Decimal, weight_floor) -> _CdaiSum:
    s, p, w, c = (to_decimal(items[k]) for k in ("stools", "pain", "wellbeing", "complications"))
    a, m, hct, weight = (
        to_decimal(items[k]) for k in ("antidiarrheal", "mass", "hematocrit", "weight_kg")
    )
    floor = to_decimal(weight_floor)
    reference = HEMATOCRIT_REFERENCE[items["sex"]]
    with localcontext() as context:
        context.prec = 50  # ample: the only inexact step is the weight-term division
        weight_term_raw = Decimal(100) * (standard - weight) / standard
        weight_term = max(weight_term_raw, floor)
        raw = 2 * s + 5 * p + 7 * w + 20 * c + 30 * a + 10 * m + 6 * (reference - hct) + weight_term
    return _CdaiSum(
        stools=s,
        pain=p,
        wellbeing=w,
        complications=c,
        antidiarrheal=a,
        mass=m,
        hematocrit=hct,
        reference=reference,
        weight=weight,
        standard=standard,
        floor=floor,
        weight_term_raw=weight_term_raw,
        weight_term=weight_term,
        raw=raw,
    )


def _cdai_weight_text(total: _CdaiSum, standard_weight, height_cm) -> Said:
    if standard_weight is not None:
        standard_text = say("standard weight %(standard)s kg", standard=fmt(total.standard))
    else:
        standard_text = say(
            "standard weight %(standard)s kg from height %(height)s cm",
            standard=_fmt1(total.standard),
            height=fmt(height_cm),
        )
    if total.weight_term_raw < total.floor:
        return say(
            "weight term %(term)s (floored; unfloored %(unfloored)s for %(weight)s kg "
            "vs %(standard)s)",
            term=fmt(total.floor),
            unfloored=_fmt1(total.weight_term_raw),
            weight=fmt(total.weight),
            standard=standard_text,
        )
    return say(
        "weight term %(term)s (%(weight)s kg vs %(standard)s)",
        term=_fmt1(total.weight_term),
        weight=fmt(total.weight),
        standard=standard_text,
    )


def _cdai_reason(total: _CdaiSum, value: Decimal, standard_weight, height_cm) -> Said:
    t = total
    terms = {
        "value": fmt(value),
        "stools": fmt(t.stools),
        "pain": fmt(t.pain),
        "wellbeing": fmt(t.wellbeing),
        "complications": fmt(t.complications),
        "antidiarrheal": fmt(t.antidiarrheal),
        "mass": fmt(t.mass),
        "reference": fmt(t.reference),
        "hematocrit": fmt(t.hematocrit),
        "weight_term": _cdai_weight_text(total, standard_weight, height_cm),
        # Raw sum shown truncated to 2 decimals so that it rounds to the same whole number.
        "raw": fmt(t.raw.quantize(Decimal("0.01"), rounding=ROUND_DOWN)),
    }
    if t.raw < 0:
        return say(
            "CDAI %(value)s (computed): 2×%(stools)s stools + 5×%(pain)s pain + "
            "7×%(wellbeing)s well-being + 20×%(complications)s complications + "
            "30×%(antidiarrheal)s antidiarrhoeal + 10×%(mass)s mass + "
            "6×(%(reference)s−%(hematocrit)s) haematocrit + %(weight_term)s = %(raw)s, "
            "floored at 0 (R1.1)",
            **terms,
        )
    if t.raw != value:
        return say(
            "CDAI %(value)s (computed): 2×%(stools)s stools + 5×%(pain)s pain + "
            "7×%(wellbeing)s well-being + 20×%(complications)s complications + "
            "30×%(antidiarrheal)s antidiarrhoeal + 10×%(mass)s mass + "
            "6×(%(reference)s−%(hematocrit)s) haematocrit + %(weight_term)s = %(raw)s, "
            "rounded half up (R1.1)",
            **terms,
        )
    del terms["raw"]
    return say(
        "CDAI %(value)s (computed): 2×%(stools)s stools + 5×%(pain)s pain + "
        "7×%(wellbeing)s well-being + 20×%(complications)s complications + "
        "30×%(antidiarrheal)s antidiarrhoeal + 10×%(mass)s mass + "
        "6×(%(reference)s−%(hematocrit)s) haematocrit + %(weight_term)s (R1.1)",
        **terms,
    )


def _cdai_warnings(stools: Decimal, entered_total, value: Decimal) -> tuple[str, ...]:
    warnings = []
    if stools > CDAI_STOOLS_WARN_ABOVE:
        warnings.append(
            say(
                "%(stools)s liquid or very soft stools in 7 days is above 140 (20 a day); "
                "please check the count (R1.1).",
                stools=fmt(stools),
            )
        )
    warnings.extend(differs_warning("CDAI", "R1.1", entered_total, value))
    return tuple(warnings)


def cdai(
    *,
    stools,
    pain,
    wellbeing,
    complications,
    antidiarrheal,
    mass,
    hematocrit,
    sex,
    weight_kg,
    standard_weight=None,
    height_cm=None,
    entered_total=None,
    weight_floor,
) -> ScoreResult:
    """R1.1 CDAI = 2S + 5P + 7W + 20C + 30A + 10M + 6H + Wt, floored at 0, whole number half up.

    H = 47 − Hct (male) or 42 − Hct (female), signed; Wt = 100 × (1 − weight /
    standard weight), floored at ``weight_floor`` (configurable:
    ``RuleSettings.cdai_weight_floor``, −10 by default; the caller passes it).
    With any item missing the entered total (if any) is used, else not computable.
    """
    raise_if(
        validate_cdai_items(
            stools=stools,
            pain=pain,
            wellbeing=wellbeing,
            complications=complications,
            antidiarrheal=antidiarrheal,
            mass=mass,
            hematocrit=hematocrit,
            weight_kg=weight_kg,
            entered_total=entered_total,
            height_cm=height_cm,
            standard_weight=standard_weight,
        )
    )
    sex = _cdai_sex(sex)
    standard = standard_weight_kg(sex=sex, height_cm=height_cm, entered=standard_weight)
    items = {
        "stools": stools,
        "pain": pain,
        "wellbeing": wellbeing,
        "complications": complications,
        "antidiarrheal": antidiarrheal,
        "mass": mass,
        "hematocrit": hematocrit,
        "sex": sex,
        "weight_kg": weight_kg,
    }
    missing = _cdai_missing(items, standard, height_cm)
    if missing:
        return entered_or_not_computable(
            "CDAI", "R1.1", missing, entered_total, round_whole, cdai_band
        )
    total = _cdai_sum(items, standard, weight_floor)
    value = round_whole(Decimal(0) if total.raw < 0 else total.raw)
    return ScoreResult(
        name="CDAI",
        value=value,
        rule="R1.1",
        reason=_cdai_reason(total, value, standard_weight, height_cm),
        source="computed",
        band=cdai_band(value),
        warnings=_cdai_warnings(total.stools, entered_total, value),
    )
