"""Pure azathioprine rules (clinical-rules.md R4.1–R4.3 and R4.5).

R4.1 (dose against weight and xanthine oxidase inhibitors), R4.2 (TPMT/NUDT15
genotype gate), R4.3 (blood monitoring checkpoints, the R7 ``blood_test_due`` date)
and R4.5 (thiopurine metabolites). The R4.4 laboratory alerts are in
``safety/alerts.py``.

No Django imports and no clock: plain values in (``Decimal`` doses and weights,
explicit dates), results carrying the rule id and a plain-language reason with the
numbers out. Records dated after the date being judged are ignored everywhere.
Only reported figures are rounded, half up.

Readings chosen where the spec is open are marked "Ambiguity" below; each is the
reading safest for the patient.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from thalimon.said import Said, join, say
from therapy.rules.doses import (
    CENT,
    ZERO,
    DoseRow,
    Finding,
    clean_decimal,
    decimal_of,
    dose_changes,
    dose_of,
    fmt,
    latest_weight,
    plural,
    round_half_up_to,
    rows_until,
)

# ---------------------------------------------------------------------------
# Constants (clinical-rules.md defaults)
# ---------------------------------------------------------------------------

# R4.1 / R4.2
AZA_MG_PER_KG = (Decimal("2.0"), Decimal("2.5"))
AZA_WEIGHT_MAX_AGE_DAYS = 90
AZA_ROUND_TO_MG = Decimal("25")
AZA_ONE_INTERMEDIATE_FRACTION = (Decimal("0.30"), Decimal("0.80"))
AZA_BOTH_INTERMEDIATE_FRACTION = (Decimal("0.20"), Decimal("0.50"))
AZA_XANTHINE_OXIDASE_FRACTION = Decimal("0.33")
GENOTYPE_VALUES = ("normal", "intermediate", "poor", "unknown")
# R4.3
BLOOD_CHECKPOINT_DAYS = (14, 28, 56, 84)
BLOOD_CHECKPOINT_EVERY_DAYS = 84
BLOOD_COVER_DAYS = 7
# R4.5
METABOLITE_STEADY_STATE_DAYS = 28
TGN_NON_ADHERENCE_BELOW = Decimal("100")
MMP_NON_ADHERENCE_BELOW = Decimal("1000")
TGN_THERAPEUTIC = (Decimal("235"), Decimal("450"))
MMP_HEPATOTOXIC_ABOVE = Decimal("5700")
MMP_TGN_RATIO_SHUNTER_ABOVE = Decimal("11")

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AzaCheck:
    mg_per_kg: Decimal | None
    allowed_range_mg: tuple[Decimal, Decimal] | None
    warnings: tuple[Finding, ...]
    contraindicated: bool
    reason: str


@dataclass(frozen=True)
class MetaboliteInterpretation:
    code: str
    text: str
    hepatotoxicity_risk: bool
    rule: str  # "R4.5"
    reason: str


# ---------------------------------------------------------------------------
# R4.1 / R4.2 azathioprine dose and genotype gate
# ---------------------------------------------------------------------------


def normalise_genotype(value) -> str:
    """TPMT/NUDT15 status as one of GENOTYPE_VALUES.

    "possible intermediate" → intermediate, "indeterminate" (and empty/None) → unknown
    (R4.2). Case, spaces, hyphens and underscores are ignored. Any other text is an
    error: a misspelt "poor" must never pass as unknown.
    """
    if value is None:
        return "unknown"
    text = " ".join(str(value).strip().lower().replace("_", " ").replace("-", " ").split())
    aliases = {"": "unknown", "possible intermediate": "intermediate", "indeterminate": "unknown"}
    text = aliases.get(text, text)
    if text not in GENOTYPE_VALUES:
        raise ValueError(
            f"genotype status must be one of {', '.join(GENOTYPE_VALUES)}, "
            f"'possible intermediate' or 'indeterminate', got {value!r}"
        )
    return text


def _gene_status(gene: str, status: str) -> Said:
    """ "TPMT intermediate": a gene and its status, in words."""
    if status == "normal":
        return say("%(gene)s normal", gene=gene)
    if status == "intermediate":
        return say("%(gene)s intermediate", gene=gene)
    if status == "poor":
        return say("%(gene)s poor", gene=gene)
    return say("%(gene)s unknown", gene=gene)


def _genes(genes: list[str]):
    """ "TPMT", or "TPMT and NUDT15"."""
    if len(genes) == 1:
        return genes[0]
    return say("%(first)s and %(second)s", first=genes[0], second=genes[1])


def aza_start_gate(*, tpmt, nudt15) -> Finding | None:
    """R4.2: poor (either gene) → refusal; unknown → warning; otherwise None."""
    statuses = {"TPMT": normalise_genotype(tpmt), "NUDT15": normalise_genotype(nudt15)}
    text = join([_gene_status(gene, status) for gene, status in statuses.items()], ", ")
    if "poor" in statuses.values():
        poor = _genes([gene for gene, status in statuses.items() if status == "poor"])
        return Finding(
            code="aza_contraindicated_poor_metaboliser",
            rule="R4.2",
            reason=say(
                "%(genes)s poor metaboliser (%(statuses)s): azathioprine is contraindicated; "
                "starting it is refused unless overridden with a reason (R4.2).",
                genes=poor,
                statuses=text,
            ),
        )
    if "unknown" in statuses.values():
        unknown = _genes([gene for gene, status in statuses.items() if status == "unknown"])
        return Finding(
            code="aza_genotype_unknown",
            rule="R4.2",
            reason=say(
                "%(genes)s status unknown (%(statuses)s): record TPMT and NUDT15 status before "
                "the first azathioprine dose (R4.2).",
                genes=unknown,
                statuses=text,
            ),
        )
    return None


@dataclass(frozen=True)
class _AzaRange:
    """The allowed dose range in mg for a weight and genotype (R4.1, or R4.2's)."""

    low: Decimal
    high: Decimal
    text: Said
    genotype_limited: bool


def _aza_range(kg: Decimal, intermediates: int) -> _AzaRange:
    """R4.1 2.0–2.5 mg/kg rounded to 25 mg, or the R4.2 intermediate range replacing it."""
    full = AZA_MG_PER_KG[1] * kg
    if intermediates == 0:
        low = round_half_up_to(AZA_MG_PER_KG[0] * kg, AZA_ROUND_TO_MG)
        high = round_half_up_to(full, AZA_ROUND_TO_MG)
        text = say(
            "2.0–2.5 mg/kg = %(low_exact)s–%(high_exact)s mg, rounded to the nearest 25 mg: "
            "%(low)s–%(high)s mg (R4.1)",
            low_exact=fmt(AZA_MG_PER_KG[0] * kg),
            high_exact=fmt(full),
            low=fmt(low),
            high=fmt(high),
        )
        return _AzaRange(low=low, high=high, text=text, genotype_limited=False)
    low_fraction, high_fraction = (
        AZA_ONE_INTERMEDIATE_FRACTION if intermediates == 1 else AZA_BOTH_INTERMEDIATE_FRACTION
    )
    exact_high = high_fraction * full
    low = round_half_up_to(low_fraction * full, AZA_ROUND_TO_MG)
    high = min(round_half_up_to(exact_high, AZA_ROUND_TO_MG), exact_high)
    figures = dict(
        low_percent=fmt(low_fraction * 100),
        high_percent=fmt(high_fraction * 100),
        full=fmt(full),
        low_exact=fmt(low_fraction * full),
        high_exact=fmt(exact_high),
        low=fmt(low),
        high=fmt(high),
    )
    if intermediates == 1:
        text = say(
            "one gene intermediate: %(low_percent)s–%(high_percent)s %% of 2.5 mg/kg (%(full)s mg) "
            "= %(low_exact)s–%(high_exact)s mg, allowed %(low)s–%(high)s mg (R4.2)",
            **figures,
        )
    else:
        text = say(
            "both genes intermediate: %(low_percent)s–%(high_percent)s %% of 2.5 mg/kg (%(full)s mg) "
            "= %(low_exact)s–%(high_exact)s mg, allowed %(low)s–%(high)s mg (R4.2)",
            **figures,
        )
    return _AzaRange(low=low, high=high, text=text, genotype_limited=True)


def _without_weight(
    dose: Decimal, on: date, warnings: list[Finding], contraindicated: bool, xoi: bool
) -> AzaCheck:
    """R4.1: no weight within 90 days → weight_missing (and the XO warning, unverifiable)."""
    warnings.append(
        Finding(
            code="weight_missing",
            rule="R4.1",
            reason=say(
                "No weight recorded from %(first)s to %(on)s: the azathioprine dose of %(dose)s mg "
                "cannot be checked against 2.0–2.5 mg/kg (weight at most %(days)s days old) (R4.1).",
                first=on - timedelta(days=AZA_WEIGHT_MAX_AGE_DAYS),
                on=on,
                dose=fmt(dose),
                days=AZA_WEIGHT_MAX_AGE_DAYS,
            ),
        )
    )
    if xoi and dose > 0:
        warnings.append(
            Finding(
                code="aza_with_xanthine_oxidase_inhibitor",
                rule="R4.1",
                reason=say(
                    "Azathioprine %(dose)s mg with allopurinol or febuxostat: the dose must be "
                    "≤ 33 %% of 2.5 mg/kg, which cannot be verified without a weight (R4.1).",
                    dose=fmt(dose),
                ),
            )
        )
    return AzaCheck(
        mg_per_kg=None,
        allowed_range_mg=None,
        warnings=tuple(warnings),
        contraindicated=contraindicated,
        reason=say(
            "Azathioprine %(dose)s mg on %(on)s: no weight within 90 days (R4.1).", dose=fmt(dose), on=on
        ),
    )


def _dose_warnings(
    dose: Decimal, dose_text: Said, full: Decimal, limits: _AzaRange, xoi: bool
) -> tuple[tuple[Decimal, Decimal], list[Finding]]:
    """(allowed range, warnings) of a non-contraindicated dose (R4.1 / R4.2)."""
    allowed = (clean_decimal(limits.low), clean_decimal(limits.high))
    warnings: list[Finding] = []
    above_genotype = Finding(
        code="aza_dose_above_genotype_limit",
        rule="R4.2",
        reason=say(
            "%(dose)s is above the genotype limit: %(range)s.", dose=dose_text, range=limits.text
        ),
    )
    if dose <= 0:
        return allowed, warnings
    if xoi:
        xo_limit = AZA_XANTHINE_OXIDASE_FRACTION * full
        allowed = (ZERO, clean_decimal(min(xo_limit, limits.high)))
        if dose > xo_limit:
            warnings.append(
                Finding(
                    code="aza_with_xanthine_oxidase_inhibitor",
                    rule="R4.1",
                    reason=say(
                        "%(dose)s with allopurinol or febuxostat is above 33 %% of 2.5 mg/kg "
                        "= 0.33 × %(full)s = %(limit)s mg (R4.1).",
                        dose=dose_text,
                        full=fmt(full),
                        limit=fmt(xo_limit),
                    ),
                )
            )
        if limits.genotype_limited and dose > limits.high:
            warnings.append(above_genotype)
    elif dose > limits.high and limits.genotype_limited:
        warnings.append(above_genotype)
    elif dose > limits.high or dose < limits.low:
        warnings.append(
            Finding(
                code="aza_dose_outside_range",
                rule="R4.2" if limits.genotype_limited else "R4.1",
                reason=say(
                    "%(dose)s is outside the range: %(range)s.", dose=dose_text, range=limits.text
                ),
            )
        )
    return allowed, warnings


def check_aza_dose(
    *, dose_mg, on: date, weights, tpmt, nudt15, xanthine_oxidase_inhibitor: bool
) -> AzaCheck:
    """R4.1/R4.2: the azathioprine dose against weight, genotype and allopurinol/febuxostat.

    * Range 2.0–2.5 mg/kg of the latest weight within 90 days, both bounds rounded to the
      nearest 25 mg (half up) → ``aza_dose_outside_range``; no weight → ``weight_missing``.
    * One intermediate gene → 30–80 % of 2.5 mg/kg, both → 20–50 %, replacing that range:
      below it → ``aza_dose_outside_range``, above it → ``aza_dose_above_genotype_limit``.
      Ambiguity: the lower bound is rounded as in R4.1, but the upper bound is never
      rounded up past the exact CPIC percentage (the rounded bound, or the exact
      limit if rounding would raise it).
    * With a xanthine oxidase inhibitor the dose must be ≤ 33 % of 2.5 mg/kg (exact,
      0.33, not rounded) → ``aza_with_xanthine_oxidase_inhibitor``. Ambiguity: this
      limit then replaces the range, so a reduced dose below it raises no
      ``aza_dose_outside_range`` (that would invite a dangerous increase); without a
      weight the limit cannot be verified and the warning is raised anyway.
    * Either gene poor → contraindicated (R4.2); unknown → ``aza_genotype_unknown``.
    A 0 mg dose (stopped) is never out of range.
    """
    dose = dose_of(dose_mg)
    statuses = (normalise_genotype(tpmt), normalise_genotype(nudt15))
    warnings: list[Finding] = []
    gate = aza_start_gate(tpmt=statuses[0], nudt15=statuses[1])
    contraindicated = "poor" in statuses
    if gate is not None:
        warnings.append(gate)

    weight = latest_weight(weights, on, AZA_WEIGHT_MAX_AGE_DAYS)
    if weight is None:
        return _without_weight(dose, on, warnings, contraindicated, xanthine_oxidase_inhibitor)

    when, kg = weight
    mg_per_kg = (dose / kg).quantize(CENT, rounding=ROUND_HALF_UP)
    full = AZA_MG_PER_KG[1] * kg
    dose_text = say(
        "Azathioprine %(dose)s mg (%(mg_per_kg)s mg/kg, weight %(kg)s kg on %(date)s)",
        dose=fmt(dose),
        mg_per_kg=fmt(mg_per_kg),
        kg=fmt(kg),
        date=when,
    )
    if contraindicated:
        return AzaCheck(
            mg_per_kg=mg_per_kg,
            allowed_range_mg=None,
            warnings=tuple(warnings),
            contraindicated=True,
            reason=say("%(dose)s: contraindicated, poor metaboliser (R4.2).", dose=dose_text),
        )

    limits = _aza_range(kg, statuses.count("intermediate"))
    allowed, dose_warnings = _dose_warnings(
        dose, dose_text, full, limits, xanthine_oxidase_inhibitor
    )
    warnings.extend(dose_warnings)
    codes = join([finding.code for finding in warnings], ", ") if warnings else say("within range")
    if xanthine_oxidase_inhibitor:
        reason = say(
            "%(dose)s: %(codes)s; %(range)s; with a xanthine oxidase inhibitor at most %(limit)s mg (R4.1).",
            dose=dose_text,
            codes=codes,
            range=limits.text,
            limit=fmt(allowed[1]),
        )
    else:
        reason = say("%(dose)s: %(codes)s; %(range)s.", dose=dose_text, codes=codes, range=limits.text)
    return AzaCheck(
        mg_per_kg=mg_per_kg,
        allowed_range_mg=allowed,
        warnings=tuple(warnings),
        contraindicated=False,
        reason=reason,
    )


# ---------------------------------------------------------------------------
# R4.3 blood monitoring
# ---------------------------------------------------------------------------


def _checkpoint_days() -> Iterator[int]:
    yield from BLOOD_CHECKPOINT_DAYS
    day = BLOOD_CHECKPOINT_DAYS[-1]
    while True:
        day += BLOOD_CHECKPOINT_EVERY_DAYS
        yield day


def blood_checkpoints(anchor: date, until: date) -> list[date]:
    """R4.3: anchor + 14, 28, 56, 84 days, then every 84 days, up to and including ``until``."""
    result = []
    for day in _checkpoint_days():
        checkpoint = anchor + timedelta(days=day)
        if checkpoint > until:
            return result
        result.append(checkpoint)


def next_blood_test_due(
    *, aza_history: Iterable[DoseRow], blood_count_dates: Iterable[date], as_of: date
) -> date | None:
    """R4.3 / R7 ``blood_test_due``: None when azathioprine is not active on ``as_of``.

    Anchor = AZA start or last AZA dose change (a restart is a change). The due date is
    the first checkpoint more than 7 days after the most recent blood count (WBC date)
    taken on or after the anchor and on or before ``as_of``; the first checkpoint if none.
    """
    rows = rows_until(aza_history, on=as_of)
    if not rows or rows[-1].dose_mg <= 0:
        return None
    anchor = dose_changes(rows)[-1].date
    counts = [when for when in blood_count_dates if anchor <= when <= as_of]
    latest = max(counts) if counts else None
    for day in _checkpoint_days():
        checkpoint = anchor + timedelta(days=day)
        if latest is None or (checkpoint - latest).days > BLOOD_COVER_DAYS:
            return checkpoint
    return None  # pragma: no cover - the checkpoint series is endless


# ---------------------------------------------------------------------------
# R4.5 thiopurine metabolites
# ---------------------------------------------------------------------------

METABOLITE_TEXTS = {
    "not_steady_state": say("not at steady state"),
    "possible_non_adherence": say("possible non-adherence"),
    "shunter": say("preferential methylation (shunter)"),
    "subtherapeutic": say("subtherapeutic"),
    "therapeutic": say("therapeutic"),
    "supratherapeutic": say("supratherapeutic: myelotoxicity risk"),
}


def _metabolite_row(tgn: Decimal, mmp: Decimal) -> tuple[str, str]:
    """(code, why) of the first matching row of the R4.5 table (steady state assumed); a why
    with no words (only figures and signs) stays plain text."""
    if tgn < TGN_NON_ADHERENCE_BELOW and mmp < MMP_NON_ADHERENCE_BELOW:
        return "possible_non_adherence", say("6-TGN < 100 and 6-MMP < 1000")
    if tgn < TGN_THERAPEUTIC[0]:
        if mmp > MMP_HEPATOTOXIC_ABOVE:
            return "shunter", say("6-TGN < 235 and 6-MMP > 5700")
        if tgn == 0 or mmp / tgn > MMP_TGN_RATIO_SHUNTER_ABOVE:
            ratio = "∞" if tgn == 0 else fmt((mmp / tgn).quantize(CENT, rounding=ROUND_HALF_UP))
            return "shunter", say("6-TGN < 235 and 6-MMP/6-TGN = %(ratio)s > 11", ratio=ratio)
        return "subtherapeutic", "6-TGN < 235"
    if tgn <= TGN_THERAPEUTIC[1]:
        return "therapeutic", "6-TGN 235–450"
    return "supratherapeutic", "6-TGN > 450"


def interpret_metabolites(
    *, tgn, mmp, sample_date: date, last_aza_change: date | None
) -> MetaboliteInterpretation:
    """R4.5: the first matching row of the interpretation table, and the 6-MMP flag.

    Ambiguities (safest readings): a 6-MMP > 5700 is flagged as a hepatotoxicity
    risk even when the sample is not at steady state (the value is real, only its
    interpretation waits); a change dated after the sample counts as "less than
    28 days"; with no AZA change recorded the sample is interpreted.
    """
    tgn_value = decimal_of(tgn, "6-TGN")
    mmp_value = decimal_of(mmp, "6-MMP")
    if tgn_value < 0 or mmp_value < 0:
        raise ValueError("6-TGN and 6-MMP must not be negative")
    hepatotoxic = mmp_value > MMP_HEPATOTOXIC_ABOVE
    values = say(
        "6-TGN %(tgn)s, 6-MMP %(mmp)s pmol/8×10⁸ RBC on %(date)s",
        tgn=fmt(tgn_value),
        mmp=fmt(mmp_value),
        date=sample_date,
    )

    code, why = None, ""
    if last_aza_change is not None:
        days = (sample_date - last_aza_change).days
        if days < METABOLITE_STEADY_STATE_DAYS:
            code = "not_steady_state"
            why = say(
                "sampled %(days)s after the azathioprine dose change on %(date)s, less than "
                "%(steady)s; not interpreted",
                days=plural(days, "day"),
                date=last_aza_change,
                steady=METABOLITE_STEADY_STATE_DAYS,
            )
    if code is None:
        code, why = _metabolite_row(tgn_value, mmp_value)
    reason = say(
        "%(values)s: %(why)s → %(result)s (R4.5).", values=values, why=why, result=METABOLITE_TEXTS[code]
    )
    if hepatotoxic:
        reason = join([reason, say("6-MMP above 5700: hepatotoxicity risk.")], " ")
    return MetaboliteInterpretation(
        code=code,
        text=METABOLITE_TEXTS[code],
        hepatotoxicity_risk=hepatotoxic,
        rule="R4.5",
        reason=reason,
    )
