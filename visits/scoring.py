"""Pure disease-activity scores (clinical-rules.md R1.1–R1.7, plausible values R12).

No Django imports and no clock: plain values in, a ``ScoreResult`` out that
carries the rule id and a plain-language reason. All arithmetic is done in
``decimal.Decimal``; only the final reported figure is rounded, half up
(``ROUND_HALF_UP``), never with Python's ``round()``.

Validation helpers (``validate_*``) return field -> message dicts for forms
and importers; the score functions call them again as a guard and raise
``ValueError`` with the same messages, so a bad value never becomes a score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

WHOLE = Decimal("1")
ONE_DECIMAL = Decimal("0.1")
MINUS = "−"  # U+2212, as clinicians read it in print

GLOBAL_ASSESSMENTS = ("improved", "unchanged", "worse")
CDEIS_SEGMENTS = ("ileum", "right_colon", "transverse", "left_colon", "rectum")
SEGMENT_LABELS = {
    "ileum": "ileum",
    "right_colon": "right colon",
    "transverse": "transverse colon",
    "left_colon": "left/sigmoid colon",
    "rectum": "rectum",
}
RUTGEERTS_GRADES = {
    0: "i0 no lesions",
    1: "i1 ≤ 5 aphthous lesions",
    2: (
        "i2 > 5 aphthae with normal mucosa between, skip areas of larger lesions, "
        "or lesions confined to the anastomosis (i2a/i2b both count as 2)"
    ),
    3: "i3 diffuse aphthous ileitis",
    4: "i4 diffuse inflammation with large ulcers, nodules or narrowing",
}
RUTGEERTS_NO_RESECTION = (
    "Rutgeerts score applies only after ileocolonic resection; none is recorded for this patient."
)

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
# R1.3 / R1.4 / R1.6 ranges
CDEIS_MAX = Decimal("44")
SES_CD_WARN_ABOVE = Decimal("56")
SES_CD_MAX = Decimal("60")  # 5 segments x 4 items x 3
MAYO_MAX = Decimal("12")


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


@dataclass(frozen=True)
class CdeisSegment:
    name: str
    deep_ulceration: bool
    superficial_ulceration: bool
    involved_cm: Decimal
    ulcerated_cm: Decimal


@dataclass(frozen=True)
class SesCdSegment:
    name: str
    ulcer_size: int
    ulcerated_surface: int
    affected_surface: int
    narrowing: int


# --------------------------------------------------------------------------- helpers


def _decimal(value) -> Decimal | None:
    """``Decimal(str(value))``, or None when the value is not a finite number."""
    if isinstance(value, bool):
        return Decimal(int(value))
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _is_whole(number: Decimal) -> bool:
    return number == number.to_integral_value()


def _fmt(value) -> str:
    """A number as written (``44.0`` stays ``44.0``), with a real minus sign."""
    number = value if isinstance(value, Decimal) else _decimal(value)
    text = format(number, "f")
    return MINUS + text[1:] if text.startswith("-") else text


def _fmt1(number: Decimal) -> str:
    """Display only (never used in arithmetic): one decimal, half up."""
    return _fmt(number.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP))


def _whole(number: Decimal) -> Decimal:
    result = number.quantize(WHOLE, rounding=ROUND_HALF_UP)
    return Decimal(0) if result == 0 else result  # no "-0"


def _one_decimal(number: Decimal) -> Decimal:
    result = number.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    return Decimal("0.0") if result == 0 else result


def _join(names) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _check_whole_range(label, value, low, high, explain, errors, key):
    """Whole number within [low, high] (high None: no upper limit)."""
    number = _decimal(value)
    if number is None:
        errors[key] = f"{label} must be a number (got {value!r})."
    elif (
        number < 0 or not _is_whole(number) or number < low or (high is not None and number > high)
    ):
        errors[key] = f"{label} must be {explain} (got {_fmt(number)})."


def _check_range(label, value, low, high, explain, errors, key):
    """Any number within [low, high] (high None: no upper limit)."""
    number = _decimal(value)
    if number is None:
        errors[key] = f"{label} must be a number (got {value!r})."
    elif number < low or (high is not None and number > high):
        errors[key] = f"{label} must be {explain} (got {_fmt(number)})."


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValueError(" ".join(errors.values()))


def _not_computable(name, rule, missing) -> ScoreResult:
    return ScoreResult(
        name=name,
        value=None,
        rule=rule,
        reason=f"{name} not computable; missing: {_join(missing)} ({rule}).",
        missing=tuple(missing),
        source="",
    )


def _differs_warning(name, rule, entered, computed) -> tuple[str, ...]:
    if entered is None or _decimal(entered) == computed:
        return ()
    return (
        f"Entered {name} total {_fmt(_decimal(entered))} differs from the computed {name} "
        f"{_fmt(computed)}; the computed value is used ({rule}).",
    )


# --------------------------------------------------------------------------- R1.1 CDAI


def standard_weight_kg(*, sex: str | None, height_cm, entered=None) -> Decimal | None:
    """R1.1 standard weight: the clinician's entered value if given; else
    22.1 × height(m)² (male) or 20.8 × height(m)² (female), unrounded.
    None when it cannot be derived (no height, or sex not recorded)."""
    if entered is not None:
        errors: dict[str, str] = {}
        _check_range(
            "Standard weight",
            entered,
            *STANDARD_WEIGHT_PLAUSIBLE,
            "given in kg, within 2–250 kg",
            errors,
            "standard_weight",
        )
        _raise_if(errors)
        return _decimal(entered)
    if height_cm is None or sex not in STANDARD_WEIGHT_FACTOR:
        return None
    errors = {}
    _check_range(
        "Height", height_cm, *HEIGHT_PLAUSIBLE, "given in cm, within 40–250 cm", errors, "height_cm"
    )
    _raise_if(errors)
    height_m = _decimal(height_cm) / Decimal(100)
    return STANDARD_WEIGHT_FACTOR[sex] * height_m * height_m


def cdai_band(value) -> str:
    """R1.1 bands, applied to the whole number the clinician sees."""
    if value is None:
        return ""
    whole = _whole(_decimal(value))
    if whole < 150:
        return "remission-range"
    if whole <= 220:
        return "mild"
    if whole <= 450:
        return "moderate"
    return "severe"


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
    errors: dict[str, str] = {}
    if stools is not None:
        _check_whole_range(
            "Liquid or very soft stools",
            stools,
            0,
            None,
            "a whole number ≥ 0, summed over 7 days",
            errors,
            "stools",
        )
    if pain is not None:
        _check_whole_range(
            "Abdominal pain",
            pain,
            0,
            21,
            "a 7-day sum of daily ratings 0–3, so 0–21",
            errors,
            "pain",
        )
    if wellbeing is not None:
        _check_whole_range(
            "General well-being",
            wellbeing,
            0,
            28,
            "a 7-day sum of daily ratings 0–4, so 0–28",
            errors,
            "wellbeing",
        )
    if complications is not None:
        _check_whole_range(
            "Complications",
            complications,
            0,
            6,
            "a count of complication categories, 0–6",
            errors,
            "complications",
        )
    if antidiarrheal is not None:
        number = _decimal(antidiarrheal)
        if number is None or number not in (0, 1):
            errors["antidiarrheal"] = (
                f"Antidiarrhoeal use must be yes or no (1 or 0) (got {antidiarrheal!r})."
            )
    if mass is not None:
        number = _decimal(mass)
        if number is None or number not in (0, 2, 5):
            errors["mass"] = (
                "Abdominal mass must be 0 (none), 2 (questionable) or 5 (definite) "
                f"(got {_fmt(number) if number is not None else repr(mass)})."
            )
    if hematocrit is not None:
        number = _decimal(hematocrit)
        if number is not None and 0 < number <= 1:
            errors["hematocrit"] = (
                f"Haematocrit must be given in % (e.g. 42), not as a fraction (got {_fmt(number)})."
            )
        else:
            _check_range(
                "Haematocrit",
                hematocrit,
                *HEMATOCRIT_PLAUSIBLE,
                "given in %, within the plausible range 10–70 % (R12)",
                errors,
                "hematocrit",
            )
    if weight_kg is not None:
        _check_range(
            "Weight",
            weight_kg,
            *WEIGHT_PLAUSIBLE,
            "given in kg, within the plausible range 2–300 kg",
            errors,
            "weight_kg",
        )
    if entered_total is not None:
        _check_range(
            "The entered CDAI total",
            entered_total,
            Decimal(0),
            CDAI_ENTERED_MAX,
            "between 0 and 1100",
            errors,
            "entered_total",
        )
    if height_cm is not None:
        _check_range(
            "Height",
            height_cm,
            *HEIGHT_PLAUSIBLE,
            "given in cm, within 40–250 cm",
            errors,
            "height_cm",
        )
    if standard_weight is not None:
        _check_range(
            "Standard weight",
            standard_weight,
            *STANDARD_WEIGHT_PLAUSIBLE,
            "given in kg, within 2–250 kg",
            errors,
            "standard_weight",
        )
    return errors


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
    _raise_if(
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
    if sex in ("", None):
        sex = None
    elif sex not in HEMATOCRIT_REFERENCE:
        raise ValueError(f"Sex must be 'M' or 'F' for the CDAI haematocrit term (got {sex!r}).")
    standard = standard_weight_kg(sex=sex, height_cm=height_cm, entered=standard_weight)

    missing = [
        label
        for label, value in (
            ("stools", stools),
            ("pain", pain),
            ("well-being", wellbeing),
            ("complications", complications),
            ("antidiarrhoeal use", antidiarrheal),
            ("abdominal mass", mass),
            ("haematocrit", hematocrit),
            ("sex", sex),
            ("weight", weight_kg),
        )
        if value is None
    ]
    # Without sex the standard weight cannot be derived either, but "sex" already
    # names what the clinician must supply; name height only when height is the gap.
    if standard is None and not (sex is None and height_cm is not None):
        missing.append("standard weight/height")

    if missing:
        return _entered_or_not_computable("CDAI", "R1.1", missing, entered_total, _whole, cdai_band)

    s, p, w, c = (_decimal(x) for x in (stools, pain, wellbeing, complications))
    a, m, hct, weight = (_decimal(x) for x in (antidiarrheal, mass, hematocrit, weight_kg))
    floor = _decimal(weight_floor)
    reference = HEMATOCRIT_REFERENCE[sex]
    with localcontext() as context:
        context.prec = 50  # ample: the only inexact step is the weight-term division
        weight_term_raw = Decimal(100) * (standard - weight) / standard
        weight_term = max(weight_term_raw, floor)
        raw = 2 * s + 5 * p + 7 * w + 20 * c + 30 * a + 10 * m + 6 * (reference - hct) + weight_term
    floored_at_zero = raw < 0
    value = _whole(Decimal(0) if floored_at_zero else raw)

    standard_text = (
        f"standard weight {_fmt(standard)} kg"
        if standard_weight is not None
        else f"standard weight {_fmt1(standard)} kg from height {_fmt(height_cm)} cm"
    )
    if weight_term_raw < floor:
        weight_text = (
            f"weight term {_fmt(floor)} (floored; unfloored {_fmt1(weight_term_raw)} "
            f"for {_fmt(weight)} kg vs {standard_text})"
        )
    else:
        weight_text = f"weight term {_fmt1(weight_term)} ({_fmt(weight)} kg vs {standard_text})"
    # Raw sum shown truncated to 2 decimals so that it rounds to the same whole number.
    raw_text = _fmt(raw.quantize(Decimal("0.01"), rounding=ROUND_DOWN))
    if floored_at_zero:
        tail = f" = {raw_text}, floored at 0"
    elif raw != value:
        tail = f" = {raw_text}, rounded half up"
    else:
        tail = ""
    reason = (
        f"CDAI {_fmt(value)} (computed): 2×{_fmt(s)} stools + 5×{_fmt(p)} pain + "
        f"7×{_fmt(w)} well-being + 20×{_fmt(c)} complications + 30×{_fmt(a)} antidiarrhoeal + "
        f"10×{_fmt(m)} mass + 6×({_fmt(reference)}−{_fmt(hct)}) haematocrit + {weight_text}"
        f"{tail} (R1.1)"
    )

    warnings = []
    if s > CDAI_STOOLS_WARN_ABOVE:
        warnings.append(
            f"{_fmt(s)} liquid or very soft stools in 7 days is above 140 (20 a day); "
            "please check the count (R1.1)."
        )
    warnings.extend(_differs_warning("CDAI", "R1.1", entered_total, value))
    return ScoreResult(
        name="CDAI",
        value=value,
        rule="R1.1",
        reason=reason,
        source="computed",
        band=cdai_band(value),
        warnings=tuple(warnings),
    )


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
        _check_whole_range(
            "General well-being",
            wellbeing,
            0,
            4,
            "a rating 0 (very well) to 4 (terrible), 0–4",
            errors,
            "wellbeing",
        )
    if pain is not None:
        _check_whole_range(
            "Abdominal pain", pain, 0, 3, "a rating 0 (none) to 3 (severe), 0–3", errors, "pain"
        )
    if liquid_stools is not None:
        _check_whole_range(
            "Liquid stools",
            liquid_stools,
            0,
            None,
            "a whole number ≥ 0 for the previous day",
            errors,
            "liquid_stools",
        )
    if mass is not None:
        _check_whole_range(
            "Abdominal mass",
            mass,
            0,
            3,
            "0 (none), 1 (dubious), 2 (definite) or 3 (definite and tender), 0–3",
            errors,
            "mass",
        )
    if complications is not None:
        _check_whole_range(
            "Complications",
            complications,
            0,
            8,
            "a count of complications, 0–8",
            errors,
            "complications",
        )
    if entered_total is not None:
        _check_range(
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
    _raise_if(
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
        return _entered_or_not_computable("HBI", "R1.2", missing, entered_total, _whole, hbi_band)
    numbers = [_decimal(value) for _, value in items]
    value = _whole(sum(numbers, Decimal(0)))
    band = hbi_band(value)
    parts = " + ".join(f"{_fmt(n)} {label}" for (label, _), n in zip(items, numbers, strict=True))
    return ScoreResult(
        name="HBI",
        value=value,
        rule="R1.2",
        reason=f"HBI {_fmt(value)} (computed): {parts}; {band} (R1.2)",
        band=band,
        warnings=_differs_warning("HBI", "R1.2", entered_total, value),
    )


def _entered_or_not_computable(name, rule, missing, entered_total, quantize, band_of):
    if entered_total is None:
        return _not_computable(name, rule, missing)
    entered = _decimal(entered_total)
    value = quantize(entered)
    rounded = "" if entered == value else f" ({_fmt(entered)} rounded half up)"
    return ScoreResult(
        name=name,
        value=value,
        rule=rule,
        reason=(
            f"{name} {_fmt(value)} (entered): total entered directly{rounded}; not computed, "
            f"missing: {_join(missing)} ({rule})."
        ),
        source="entered",
        band=band_of(value),
    )


# --------------------------------------------------------------------------- R1.3 CDEIS


def _segment_label(name: str) -> str:
    return SEGMENT_LABELS.get(name, name.replace("_", " "))


def validate_cdeis_segment(segment: CdeisSegment) -> dict[str, str]:
    """R1.3: surfaces 0–10 cm each, ulcerated ≤ involved. Keys: involved_cm, ulcerated_cm."""
    errors: dict[str, str] = {}
    label = _segment_label(segment.name)
    _check_range(
        f"Surface involved by disease in the {label}",
        segment.involved_cm,
        Decimal(0),
        Decimal(10),
        "0–10 cm",
        errors,
        "involved_cm",
    )
    _check_range(
        f"Ulcerated surface in the {label}",
        segment.ulcerated_cm,
        Decimal(0),
        Decimal(10),
        "0–10 cm",
        errors,
        "ulcerated_cm",
    )
    if not errors:
        involved, ulcerated = _decimal(segment.involved_cm), _decimal(segment.ulcerated_cm)
        if ulcerated > involved:
            errors["ulcerated_cm"] = (
                f"Ulcerated surface ({_fmt(ulcerated)} cm) cannot be larger than the surface "
                f"involved by disease ({_fmt(involved)} cm) in the {label}."
            )
    return errors


def validate_cdeis_total(value) -> str | None:
    """R1.3: an entered CDEIS total must lie in 0–44."""
    number = _decimal(value)
    if number is None:
        return f"CDEIS must be a number (got {value!r})."
    if number < 0 or number > CDEIS_MAX:
        return f"CDEIS must be between 0 and 44 (got {_fmt(number)})."
    return None


def _check_segment_names(names, score) -> None:
    unknown = [n for n in names if n not in CDEIS_SEGMENTS]
    if unknown:
        raise ValueError(
            f"{score}: unknown segment {unknown[0]!r}; expected one of {', '.join(CDEIS_SEGMENTS)}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"{score}: each segment may be scored only once per endoscopy.")


def cdeis(
    *,
    segments: list[CdeisSegment],
    ulcerated_stenosis: bool,
    nonulcerated_stenosis: bool,
    entered_total=None,
) -> ScoreResult:
    """R1.3 CDEIS = A/n + 3 (any ulcerated stenosis) + 3 (any non-ulcerated stenosis).

    Only explored segments are passed; per segment 12 (deep ulceration) + 6
    (superficial ulceration) + cm involved + cm ulcerated. One decimal, half up.
    """
    segments = list(segments)
    _check_segment_names([segment.name for segment in segments], "CDEIS")
    errors: dict[str, str] = {}
    for segment in segments:
        errors.update(
            {f"{segment.name}.{k}": v for k, v in validate_cdeis_segment(segment).items()}
        )
    if entered_total is not None and (message := validate_cdeis_total(entered_total)):
        errors["entered_total"] = message
    _raise_if(errors)

    if not segments:
        return _entered_or_not_computable(
            "CDEIS", "R1.3", ["explored segments"], entered_total, _one_decimal, lambda v: ""
        )

    parts = []
    warnings = []
    total = Decimal(0)
    for segment in segments:
        involved, ulcerated = _decimal(segment.involved_cm), _decimal(segment.ulcerated_cm)
        score = (
            (12 if segment.deep_ulceration else 0)
            + (6 if segment.superficial_ulceration else 0)
            + involved
            + ulcerated
        )
        total += score
        parts.append(f"{_segment_label(segment.name)} {_fmt(score)}")
        if ulcerated > 0 and not (segment.deep_ulceration or segment.superficial_ulceration):
            warnings.append(
                f"{_segment_label(segment.name).capitalize()}: ulcerated surface "
                f"{_fmt(ulcerated)} cm is recorded but no ulceration is ticked; please check (R1.3)."
            )
    n = len(segments)
    with localcontext() as context:
        context.prec = 50
        mean = total / n
    bonus = (3 if ulcerated_stenosis else 0) + (3 if nonulcerated_stenosis else 0)
    value = _one_decimal(mean + bonus)
    reason = (
        f"CDEIS {_fmt(value)} (computed): A {_fmt(total)} ({'; '.join(parts)}) ÷ {n} explored "
        f"segment{'s' if n != 1 else ''} + "
        f"{3 if ulcerated_stenosis else 0} ulcerated stenosis + "
        f"{3 if nonulcerated_stenosis else 0} non-ulcerated stenosis (R1.3)"
    )
    warnings.extend(_differs_warning("CDEIS", "R1.3", entered_total, value))
    return ScoreResult(
        name="CDEIS", value=value, rule="R1.3", reason=reason, warnings=tuple(warnings)
    )


# --------------------------------------------------------------------------- R1.4 SES-CD

SES_CD_ITEMS = (
    ("ulcer_size", "ulcer size"),
    ("ulcerated_surface", "ulcerated surface"),
    ("affected_surface", "affected surface"),
    ("narrowing", "narrowing"),
)


def ses_cd_band(value) -> str:
    return "SES-CD remission" if value is not None and value < 3 else ""


def ses_cd(*, segments: list[SesCdSegment], entered_total=None) -> ScoreResult:
    """R1.4 SES-CD: sum of the four 0–3 items over explored segments; flag a total above 56.

    "SES-CD remission" (< 3) is a band only; mucosal healing is decided in R2.4.
    """
    segments = list(segments)
    _check_segment_names([segment.name for segment in segments], "SES-CD")
    errors: dict[str, str] = {}
    for segment in segments:
        for field, label in SES_CD_ITEMS:
            _check_whole_range(
                f"SES-CD {label} in the {_segment_label(segment.name)}",
                getattr(segment, field),
                0,
                3,
                "0–3",
                errors,
                f"{segment.name}.{field}",
            )
    if entered_total is not None:
        _check_whole_range(
            "The entered SES-CD total",
            entered_total,
            0,
            60,
            "a whole number 0–60",
            errors,
            "entered_total",
        )
    _raise_if(errors)

    if not segments:
        result = _entered_or_not_computable(
            "SES-CD", "R1.4", ["explored segments"], entered_total, _whole, ses_cd_band
        )
        value = result.value
    else:
        parts = []
        value = Decimal(0)
        for segment in segments:
            segment_sum = sum(_decimal(getattr(segment, field)) for field, _ in SES_CD_ITEMS)
            value += segment_sum
            parts.append(f"{_segment_label(segment.name)} {_fmt(segment_sum)}")
        value = _whole(value)
        parts_text = "; ".join(parts)
        band = ses_cd_band(value)
        result = ScoreResult(
            name="SES-CD",
            value=value,
            rule="R1.4",
            reason=(
                f"SES-CD {_fmt(value)} (computed): sum over {len(segments)} explored "
                f"segment{'s' if len(segments) != 1 else ''} ({parts_text})"
                f"{'; below 3, SES-CD remission' if band else ''} (R1.4)"
            ),
            band=band,
            warnings=_differs_warning("SES-CD", "R1.4", entered_total, value),
        )
    if value is not None and value > SES_CD_WARN_ABOVE:
        warning = f"SES-CD {_fmt(value)} is above 56; please check the segment scores (R1.4)."
        result = replace(result, warnings=result.warnings + (warning,))
    return result


# --------------------------------------------------------------------------- R1.5 Rutgeerts


def rutgeerts(*, score, ileocolic_resection: bool) -> ScoreResult:
    """R1.5 Rutgeerts grade i0–i4 stored as 0–4 (i2a/i2b both 2); only after ileocolonic resection.

    The grade is the endoscopist's reading, not computed from items, so its
    source is "entered".
    """
    if not ileocolic_resection:
        raise ValueError(RUTGEERTS_NO_RESECTION)
    if score is None:
        return _not_computable("Rutgeerts", "R1.5", ["Rutgeerts grade"])
    number = _decimal(score)
    if number is None or not _is_whole(number) or not 0 <= number <= 4:
        raise ValueError(
            f"Rutgeerts score must be 0–4 (i0–i4; i2a and i2b are both stored as 2) (got {score!r})."
        )
    value = _whole(number)
    return ScoreResult(
        name="Rutgeerts",
        value=value,
        rule="R1.5",
        reason=f"Rutgeerts {_fmt(value)}: {RUTGEERTS_GRADES[int(value)]} (R1.5)",
        source="entered",
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
        _check_whole_range(f"Mayo {label} subscore", value, 0, 3, "0–3", errors, key)
    return errors


def _mayo_sum(name, rule, subscores: dict, entered_total, remission_rule: bool) -> ScoreResult:
    errors = validate_mayo_subscores(**subscores)
    if entered_total is not None:
        _check_whole_range(
            "The entered Mayo total",
            entered_total,
            0,
            12,
            "a whole number 0–12",
            errors,
            "entered_total",
        )
    _raise_if(errors)
    missing = [MAYO_LABELS[key] for key, value in subscores.items() if value is None]
    if missing:
        # With a total alone remission cannot be decided (it needs the subscores): band "".
        return _entered_or_not_computable(name, rule, missing, entered_total, _whole, lambda v: "")
    numbers = {key: _decimal(value) for key, value in subscores.items()}
    value = _whole(sum(numbers.values(), Decimal(0)))
    parts = " + ".join(f"{_fmt(n)} {MAYO_LABELS[key]}" for key, n in numbers.items())
    band = ""
    verdict = ""
    if remission_rule:
        above_one = [MAYO_LABELS[key] for key, n in numbers.items() if n > 1]
        if value <= 2 and not above_one:
            band = "remission"
            verdict = "; remission (≤ 2 with no subscore > 1)"
        elif above_one:
            verdict = f"; not remission: subscore above 1 for {_join(above_one)}"
        else:
            verdict = "; not remission: total above 2"
    return ScoreResult(
        name=name,
        value=value,
        rule=rule,
        reason=f"{name} {_fmt(value)} (computed): {parts}{verdict} ({rule})",
        band=band,
        warnings=_differs_warning(name, rule, entered_total, value),
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
        return _not_computable("AIDAI", "R1.7", ["count of “yes” diary answers"])
    number = _decimal(yes_count)
    if number is None or number < 0 or not _is_whole(number):
        raise ValueError(
            f"AIDAI must be a whole-number count of “yes” diary answers ≥ 0 (got {yes_count!r})."
        )
    value = _whole(number)
    band = "active" if value >= 9 else "inactive"
    comparison = "at least 9" if band == "active" else "below 9"
    return ScoreResult(
        name="AIDAI",
        value=value,
        rule="R1.7",
        reason=(
            f"AIDAI {_fmt(value)} (computed): {_fmt(value)} “yes” answers in the diary, "
            f"{comparison}, so {band} (R1.7)"
        ),
        band=band,
    )
