"""Pure endoscopic outcome rules: the R2.1 endoscopic baselines and R2.4 outcomes
(clinical-rules.md R2.1, R2.4).

No Django imports and no clock: plain values in, results carrying the rule
id and a plain-language reason out (a ``thalimon.said.Said``, issue 17).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from thalimon.said import say
from visits.outcomes import as_decimal, as_written, therapy_day


@dataclass(frozen=True)
class EndoObs:
    key: object
    date: date
    cdeis: Decimal | None = None
    ses_cd: int | None = None
    rutgeerts: int | None = None
    ulceration: bool | None = None  # True = ulceration in some explored segment; False = none


ENDOSCOPIC_SCORES = ("cdeis", "ses_cd", "rutgeerts")
ENDO_BASELINE_FIRST_DAY = -90
ENDO_BASELINE_LAST_DAY = 14


def endoscopic_baseline(
    *, endoscopies: list[EndoObs], start_date: date, score: str
) -> EndoObs | None:
    """R2.1: the endoscopy with ``score`` nearest day 0 within day -90..+14 (ties: the earlier).

    Ambiguity: two endoscopies with the score on the same date. Safest reading: the
    one with the LOWER score, which leaves less room to claim improvement later.
    """
    if score not in ENDOSCOPIC_SCORES:
        raise ValueError(f"unknown endoscopic score {score!r}; expected one of {ENDOSCOPIC_SCORES}")
    candidates = [
        endo
        for endo in endoscopies
        if getattr(endo, score) is not None
        and ENDO_BASELINE_FIRST_DAY <= therapy_day(endo.date, start_date) <= ENDO_BASELINE_LAST_DAY
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda endo: (
            abs(therapy_day(endo.date, start_date)),
            endo.date,
            as_decimal(getattr(endo, score)),
        ),
    )


@dataclass(frozen=True)
class EndoscopicOutcome:
    key: object
    remission: bool | None  # None = not evaluable
    response: bool | None
    complete_remission: bool | None
    mucosal_healing: bool | None
    reasons: tuple[str, ...]  # one plain-language reason per judged item (R2.4)


CDEIS_COMPLETE_REMISSION_BELOW = Decimal("3")
CDEIS_RESPONSE_BASELINE_AT_LEAST = Decimal("6")
CDEIS_RESPONSE_DECREASE_ABOVE = Decimal("5")
RUTGEERTS_REMISSION_AT_MOST = 1
RUTGEERTS_BASELINE_AT_LEAST = 2

# Each judged item gives (verdict, reason): the verdict True / False, or None when it
# is not evaluable (for a remission criterion: not assessed); the reason None when
# there is nothing to say.


def _cdeis_remission(cdeis: Decimal | None, remission_below: Decimal):
    """Remission criterion CDEIS < 7 (configurable)."""
    if cdeis is None:
        return None, None
    met = cdeis < remission_below
    if met:
        return met, say(
            "CDEIS %(cdeis)s: below %(below)s → endoscopic remission (R2.4)",
            cdeis=as_written(cdeis),
            below=as_written(remission_below),
        )
    return met, say(
        "CDEIS %(cdeis)s: not below %(below)s → no endoscopic remission by CDEIS (R2.4)",
        cdeis=as_written(cdeis),
        below=as_written(remission_below),
    )


def _rutgeerts_remission(endo: EndoObs, base_rutgeerts: EndoObs | None):
    """Remission criterion Rutgeerts <= 1 from a baseline Rutgeerts >= 2."""
    if base_rutgeerts is not None and base_rutgeerts.rutgeerts >= RUTGEERTS_BASELINE_AT_LEAST:
        if endo.rutgeerts is None:
            return None, say(
                "no Rutgeerts score at this endoscopy: the Rutgeerts remission "
                "criterion is not evaluable (R2.4)"
            )
        met = endo.rutgeerts <= RUTGEERTS_REMISSION_AT_MOST
        if met:
            return met, say(
                "Rutgeerts i%(grade)s from baseline i%(baseline)s (at least 2): at most 1 "
                "→ endoscopic remission (R2.4)",
                grade=endo.rutgeerts,
                baseline=base_rutgeerts.rutgeerts,
            )
        return met, say(
            "Rutgeerts i%(grade)s from baseline i%(baseline)s (at least 2): above 1 "
            "→ no endoscopic remission by Rutgeerts (R2.4)",
            grade=endo.rutgeerts,
            baseline=base_rutgeerts.rutgeerts,
        )
    if endo.rutgeerts is None:
        return None, None
    if base_rutgeerts is None:
        return None, say(
            "Rutgeerts i%(grade)s: not used for remission because there is no baseline "
            "Rutgeerts score (R2.4)",
            grade=endo.rutgeerts,
        )
    return None, say(
        "Rutgeerts i%(grade)s: not used for remission because the baseline Rutgeerts "
        "i%(baseline)s is below 2 (R2.4)",
        grade=endo.rutgeerts,
        baseline=base_rutgeerts.rutgeerts,
    )


def _remission(endo, cdeis, base_rutgeerts, remission_below) -> tuple[bool | None, list[str]]:
    """Endoscopic remission: True when an assessed criterion is met, False when at least
    one was assessed and none met, None when neither could be assessed."""
    criteria, reasons = [], []
    for met, reason in (
        _cdeis_remission(cdeis, remission_below),
        _rutgeerts_remission(endo, base_rutgeerts),
    ):
        if met is not None:
            criteria.append(met)
        if reason is not None:
            reasons.append(reason)
    remission = True if any(criteria) else (False if criteria else None)
    if remission is None:
        reasons.append(say("no CDEIS and no usable Rutgeerts: remission not evaluable (R2.4)"))
    return remission, reasons


def _response(cdeis: Decimal | None, base_cdeis: EndoObs | None):
    """Endoscopic response (He 2017): CDEIS decrease > 5 from a baseline CDEIS >= 6."""
    if base_cdeis is None:
        return None, say("no baseline CDEIS: endoscopic response not evaluable (R2.4)")
    base_value = as_decimal(base_cdeis.cdeis)
    if base_value < CDEIS_RESPONSE_BASELINE_AT_LEAST:
        return None, say(
            "baseline CDEIS %(baseline)s is below 6: endoscopic response not evaluable (R2.4)",
            baseline=as_written(base_cdeis.cdeis),
        )
    if cdeis is None:
        return None, say("no CDEIS at this endoscopy: endoscopic response not evaluable (R2.4)")
    decrease = base_value - cdeis
    response = decrease > CDEIS_RESPONSE_DECREASE_ABOVE
    if decrease > 0:
        change = say("decrease %(amount)s", amount=as_written(decrease))
    elif decrease == 0:
        change = say("no change")
    else:
        change = say("increase %(amount)s", amount=as_written(-decrease))
    if response:
        return response, say(
            "CDEIS %(baseline)s at baseline → %(cdeis)s: %(change)s, more than 5 "
            "→ endoscopic response (R2.4)",
            baseline=as_written(base_value),
            cdeis=as_written(cdeis),
            change=change,
        )
    return response, say(
        "CDEIS %(baseline)s at baseline → %(cdeis)s: %(change)s, not more than 5 "
        "→ no endoscopic response (R2.4)",
        baseline=as_written(base_value),
        cdeis=as_written(cdeis),
        change=change,
    )


def _complete_remission(cdeis: Decimal | None):
    """Complete endoscopic remission (He 2017): CDEIS < 3."""
    if cdeis is None:
        return None, say("no CDEIS: complete endoscopic remission not evaluable (R2.4)")
    complete = cdeis < CDEIS_COMPLETE_REMISSION_BELOW
    if complete:
        return complete, say(
            "CDEIS %(cdeis)s: below 3 → complete endoscopic remission (R2.4)",
            cdeis=as_written(cdeis),
        )
    return complete, say(
        "CDEIS %(cdeis)s: not below 3 → no complete endoscopic remission (R2.4)",
        cdeis=as_written(cdeis),
    )


def _mucosal_healing(endo: EndoObs):
    """Mucosal healing: the recorded no-ulceration flag."""
    if endo.ulceration is None:
        return None, say("ulceration not recorded: mucosal healing not evaluable (R2.4)")
    if endo.ulceration:
        return False, say("ulceration in an explored segment → no mucosal healing (R2.4)")
    return True, say("no ulceration in any explored segment → mucosal healing (R2.4)")


def _outcome(
    endo: EndoObs, base_cdeis, base_rutgeerts, remission_below: Decimal
) -> EndoscopicOutcome:
    cdeis = None if endo.cdeis is None else as_decimal(endo.cdeis)
    remission, reasons = _remission(endo, cdeis, base_rutgeerts, remission_below)
    response, response_reason = _response(cdeis, base_cdeis)
    complete, complete_reason = _complete_remission(cdeis)
    healing, healing_reason = _mucosal_healing(endo)
    return EndoscopicOutcome(
        key=endo.key,
        remission=remission,
        response=response,
        complete_remission=complete,
        mucosal_healing=healing,
        reasons=(*reasons, response_reason, complete_reason, healing_reason),
    )


def endoscopic_outcomes(
    *,
    endoscopies: list[EndoObs],
    start_date: date,
    as_of: date,
    cdeis_remission_below: Decimal,
) -> list[EndoscopicOutcome]:
    """R2.4 outcomes for each endoscopy after the baseline, dated on or before ``as_of``.

    Endoscopies after ``as_of`` are ignored, also when choosing the baselines.
    Reading chosen (safest): an endoscopy is judged only when it is dated after the
    baseline endoscopy of EVERY score that has one and after day 0, so an endoscopy
    that served as any score's baseline, or a pre-treatment one, is never reported
    as an outcome of therapy (all baselines lie by day +14, so only endoscopies inside
    the baseline window can be left out by this).

    Remission is "CDEIS < 7 OR Rutgeerts <= 1 from a baseline Rutgeerts >= 2": True when
    an assessable criterion is met, False when at least one was assessed and none met,
    None (not evaluable) when neither could be assessed. The Rutgeerts criterion is
    assessable only with a baseline Rutgeerts >= 2 and a Rutgeerts at this endoscopy.
    """
    kept = [endo for endo in endoscopies if endo.date <= as_of]
    baselines = {
        score: endoscopic_baseline(endoscopies=kept, start_date=start_date, score=score)
        for score in ENDOSCOPIC_SCORES
    }
    after = max([start_date] + [b.date for b in baselines.values() if b is not None])
    remission_below = as_decimal(cdeis_remission_below)
    return [
        _outcome(endo, baselines["cdeis"], baselines["rutgeerts"], remission_below)
        for endo in sorted((e for e in kept if e.date > after), key=lambda e: e.date)
    ]
