"""Pure endoscopic scores (clinical-rules.md R1.3 CDEIS, R1.4 SES-CD, R1.5 Rutgeerts).

No Django imports and no clock: plain values in, a ``visits.scoring.ScoreResult``
out, with the rule id and a plain-language reason. Decimal arithmetic and half-up
rounding as in ``visits.scoring``, whose helpers these scores share. Reasons,
warnings and validation messages are ``thalimon.said.Said`` (issue 17).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, localcontext

from thalimon.said import Said, join, say, say_n
from visits.scoring import (
    ScoreResult,
    check_range,
    check_whole_range,
    differs_warning,
    entered_or_not_computable,
    fmt,
    is_whole,
    not_a_number,
    not_computable,
    raise_if,
    round_one_decimal,
    round_whole,
    to_decimal,
)

CDEIS_SEGMENTS = ("ileum", "right_colon", "transverse", "left_colon", "rectum")
SEGMENT_LABELS = {
    "ileum": say("ileum"),
    "right_colon": say("right colon"),
    "transverse": say("transverse colon"),
    "left_colon": say("left/sigmoid colon"),
    "rectum": say("rectum"),
}
# The same names at the start of a sentence.
SEGMENT_TITLES = {
    "ileum": say("Ileum"),
    "right_colon": say("Right colon"),
    "transverse": say("Transverse colon"),
    "left_colon": say("Left/sigmoid colon"),
    "rectum": say("Rectum"),
}
RUTGEERTS_GRADES = {
    0: say("i0 no lesions"),
    1: say("i1 ≤ 5 aphthous lesions"),
    2: say(
        "i2 > 5 aphthae with normal mucosa between, skip areas of larger lesions, "
        "or lesions confined to the anastomosis (i2a/i2b both count as 2)"
    ),
    3: say("i3 diffuse aphthous ileitis"),
    4: say("i4 diffuse inflammation with large ulcers, nodules or narrowing"),
}
RUTGEERTS_NO_RESECTION = (
    "Rutgeerts score applies only after ileocolonic resection; none is recorded for this patient."
)
# R1.3 / R1.4 ranges
CDEIS_MAX = Decimal("44")
SES_CD_WARN_ABOVE = Decimal("56")
SES_CD_MAX = Decimal("60")  # 5 segments x 4 items x 3


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


def _segment_label(name: str) -> str:
    return SEGMENT_LABELS.get(name, name.replace("_", " "))


def _segment_title(name: str) -> str:
    return SEGMENT_TITLES.get(name, name.replace("_", " ").capitalize())


def _check_segment_names(names, score) -> None:
    unknown = [n for n in names if n not in CDEIS_SEGMENTS]
    if unknown:
        raise ValueError(
            f"{score}: unknown segment {unknown[0]!r}; expected one of {', '.join(CDEIS_SEGMENTS)}."
        )
    if len(set(names)) != len(names):
        raise ValueError(f"{score}: each segment may be scored only once per endoscopy.")


# --------------------------------------------------------------------------- R1.3 CDEIS


def validate_cdeis_segment(segment: CdeisSegment) -> dict[str, str]:
    """R1.3: surfaces 0–10 cm each, ulcerated ≤ involved. Keys: involved_cm, ulcerated_cm."""
    errors: dict[str, str] = {}
    label = _segment_label(segment.name)
    check_range(
        say("Surface involved by disease in the %(segment)s", segment=label),
        segment.involved_cm,
        Decimal(0),
        Decimal(10),
        lambda got: say(
            "Surface involved by disease in the %(segment)s must be 0–10 cm (got %(got)s).",
            segment=label,
            got=got,
        ),
        errors,
        "involved_cm",
    )
    check_range(
        say("Ulcerated surface in the %(segment)s", segment=label),
        segment.ulcerated_cm,
        Decimal(0),
        Decimal(10),
        lambda got: say(
            "Ulcerated surface in the %(segment)s must be 0–10 cm (got %(got)s).",
            segment=label,
            got=got,
        ),
        errors,
        "ulcerated_cm",
    )
    if not errors:
        involved, ulcerated = to_decimal(segment.involved_cm), to_decimal(segment.ulcerated_cm)
        if ulcerated > involved:
            errors["ulcerated_cm"] = say(
                "Ulcerated surface (%(ulcerated)s cm) cannot be larger than the surface "
                "involved by disease (%(involved)s cm) in the %(segment)s.",
                ulcerated=fmt(ulcerated),
                involved=fmt(involved),
                segment=label,
            )
    return errors


def validate_cdeis_total(value) -> Said | None:
    """R1.3: an entered CDEIS total must lie in 0–44."""
    number = to_decimal(value)
    if number is None:
        return not_a_number("CDEIS", value)
    if number < 0 or number > CDEIS_MAX:
        return say("CDEIS must be between 0 and 44 (got %(got)s).", got=fmt(number))
    return None


def _validate_cdeis(segments: list[CdeisSegment], entered_total) -> None:
    _check_segment_names([segment.name for segment in segments], "CDEIS")
    errors: dict[str, str] = {}
    for segment in segments:
        errors.update(
            {f"{segment.name}.{k}": v for k, v in validate_cdeis_segment(segment).items()}
        )
    if entered_total is not None and (message := validate_cdeis_total(entered_total)):
        errors["entered_total"] = message
    raise_if(errors)


def _cdeis_segment_score(segment: CdeisSegment) -> Decimal:
    """12 (deep ulceration) + 6 (superficial ulceration) + cm involved + cm ulcerated."""
    return (
        (12 if segment.deep_ulceration else 0)
        + (6 if segment.superficial_ulceration else 0)
        + to_decimal(segment.involved_cm)
        + to_decimal(segment.ulcerated_cm)
    )


def _cdeis_segment_warning(segment: CdeisSegment) -> str | None:
    """Ulcerated surface recorded without any ulceration ticked: please check."""
    ulcerated = to_decimal(segment.ulcerated_cm)
    if ulcerated > 0 and not (segment.deep_ulceration or segment.superficial_ulceration):
        return say(
            "%(segment)s: ulcerated surface %(ulcerated)s cm is recorded but no ulceration is "
            "ticked; please check (R1.3).",
            segment=_segment_title(segment.name),
            ulcerated=fmt(ulcerated),
        )
    return None


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
    _validate_cdeis(segments, entered_total)
    if not segments:
        return entered_or_not_computable(
            "CDEIS",
            "R1.3",
            [say("explored segments")],
            entered_total,
            round_one_decimal,
            lambda v: "",
        )
    scores = [_cdeis_segment_score(segment) for segment in segments]
    total = sum(scores, Decimal(0))
    parts = [
        say("%(segment)s %(score)s", segment=_segment_label(segment.name), score=fmt(score))
        for segment, score in zip(segments, scores, strict=True)
    ]
    warnings = [w for w in map(_cdeis_segment_warning, segments) if w is not None]
    n = len(segments)
    with localcontext() as context:
        context.prec = 50
        mean = total / n
    bonus = (3 if ulcerated_stenosis else 0) + (3 if nonulcerated_stenosis else 0)
    value = round_one_decimal(mean + bonus)
    reason = say_n(
        "CDEIS %(value)s (computed): A %(total)s (%(parts)s) ÷ %(count)s explored segment + "
        "%(ulcerated)s ulcerated stenosis + %(nonulcerated)s non-ulcerated stenosis (R1.3)",
        "CDEIS %(value)s (computed): A %(total)s (%(parts)s) ÷ %(count)s explored segments + "
        "%(ulcerated)s ulcerated stenosis + %(nonulcerated)s non-ulcerated stenosis (R1.3)",
        n,
        value=fmt(value),
        total=fmt(total),
        parts=join(parts, "; "),
        ulcerated=3 if ulcerated_stenosis else 0,
        nonulcerated=3 if nonulcerated_stenosis else 0,
    )
    warnings.extend(differs_warning("CDEIS", "R1.3", entered_total, value))
    return ScoreResult(
        name="CDEIS", value=value, rule="R1.3", reason=reason, warnings=tuple(warnings)
    )


# --------------------------------------------------------------------------- R1.4 SES-CD

SES_CD_ITEMS = (
    ("ulcer_size", say("ulcer size")),
    ("ulcerated_surface", say("ulcerated surface")),
    ("affected_surface", say("affected surface")),
    ("narrowing", say("narrowing")),
)


def ses_cd_band(value) -> str:
    return "SES-CD remission" if value is not None and value < 3 else ""


def _validate_ses_cd(segments: list[SesCdSegment], entered_total) -> None:
    _check_segment_names([segment.name for segment in segments], "SES-CD")
    errors: dict[str, str] = {}
    for segment in segments:
        where = _segment_label(segment.name)
        for field, label in SES_CD_ITEMS:
            check_whole_range(
                say("SES-CD %(item)s in the %(segment)s", item=label, segment=where),
                getattr(segment, field),
                0,
                3,
                lambda got, label=label, where=where: say(
                    "SES-CD %(item)s in the %(segment)s must be 0–3 (got %(got)s).",
                    item=label,
                    segment=where,
                    got=got,
                ),
                errors,
                f"{segment.name}.{field}",
            )
    if entered_total is not None:
        check_whole_range(
            say("The entered SES-CD total"),
            entered_total,
            0,
            60,
            lambda got: say(
                "The entered SES-CD total must be a whole number 0–60 (got %(got)s).", got=got
            ),
            errors,
            "entered_total",
        )
    raise_if(errors)


def _ses_cd_computed(segments: list[SesCdSegment], entered_total) -> ScoreResult:
    """R1.4 from the segments' items (at least one segment)."""
    parts = []
    value = Decimal(0)
    for segment in segments:
        segment_sum = sum(to_decimal(getattr(segment, field)) for field, _ in SES_CD_ITEMS)
        value += segment_sum
        parts.append(
            say(
                "%(segment)s %(score)s",
                segment=_segment_label(segment.name),
                score=fmt(segment_sum),
            )
        )
    value = round_whole(value)
    band = ses_cd_band(value)
    if band:
        reason = say_n(
            "SES-CD %(value)s (computed): sum over %(count)s explored segment (%(parts)s); "
            "below 3, SES-CD remission (R1.4)",
            "SES-CD %(value)s (computed): sum over %(count)s explored segments (%(parts)s); "
            "below 3, SES-CD remission (R1.4)",
            len(segments),
            value=fmt(value),
            parts=join(parts, "; "),
        )
    else:
        reason = say_n(
            "SES-CD %(value)s (computed): sum over %(count)s explored segment (%(parts)s) (R1.4)",
            "SES-CD %(value)s (computed): sum over %(count)s explored segments (%(parts)s) (R1.4)",
            len(segments),
            value=fmt(value),
            parts=join(parts, "; "),
        )
    return ScoreResult(
        name="SES-CD",
        value=value,
        rule="R1.4",
        reason=reason,
        band=band,
        warnings=differs_warning("SES-CD", "R1.4", entered_total, value),
    )


def ses_cd(*, segments: list[SesCdSegment], entered_total=None) -> ScoreResult:
    """R1.4 SES-CD: sum of the four 0–3 items over explored segments; flag a total above 56.

    "SES-CD remission" (< 3) is a band only; mucosal healing is decided in R2.4.
    """
    segments = list(segments)
    _validate_ses_cd(segments, entered_total)
    if not segments:
        result = entered_or_not_computable(
            "SES-CD", "R1.4", [say("explored segments")], entered_total, round_whole, ses_cd_band
        )
    else:
        result = _ses_cd_computed(segments, entered_total)
    value = result.value
    if value is not None and value > SES_CD_WARN_ABOVE:
        warning = say(
            "SES-CD %(value)s is above 56; please check the segment scores (R1.4).",
            value=fmt(value),
        )
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
        return not_computable("Rutgeerts", "R1.5", [say("Rutgeerts grade")])
    number = to_decimal(score)
    if number is None or not is_whole(number) or not 0 <= number <= 4:
        raise ValueError(
            f"Rutgeerts score must be 0–4 (i0–i4; i2a and i2b are both stored as 2) (got {score!r})."
        )
    value = round_whole(number)
    return ScoreResult(
        name="Rutgeerts",
        value=value,
        rule="R1.5",
        reason=say(
            "Rutgeerts %(value)s: %(grade)s (R1.5)",
            value=fmt(value),
            grade=RUTGEERTS_GRADES[int(value)],
        ),
        source="entered",
    )
