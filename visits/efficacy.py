"""Pure efficacy rules: R2.5 treatment failure (Roblin 2020) and R2.6 paediatric
autoinflammatory efficacy (Zhang 2023) (clinical-rules.md R2.5, R2.6).

No Django imports and no clock: plain values in, results carrying the rule
id and a plain-language reason out (a ``thalimon.said.Said``, issue 17).
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from thalimon.said import Said, join, say
from visits.outcomes import as_decimal, as_written, plain_number, therapy_day

# ---------------------------------------------------------------------------
# R2.5 Treatment failure (Roblin 2020)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FailureResult:
    status: str  # "failure" | "no_failure" | "not_evaluable"
    rule: str  # "R2.5"
    reason: str


FAILURE = "failure"
NO_FAILURE = "no_failure"
NOT_EVALUABLE = "not_evaluable"
HBI_FAILURE_AT_LEAST = 5
CALPROTECTIN_FAILURE_ABOVE = Decimal("250")
CALPROTECTIN_WINDOW_DAYS = 14


def treatment_failure_cd(
    *,
    hbi: int | None,
    hbi_date: date,
    calprotectins: list[tuple[date, Decimal]],
    as_of: date | None = None,
) -> FailureResult:
    """R2.5 (CD): HBI >= 5 AND faecal calprotectin > 250 µg/g.

    The calprotectin is the result nearest the HBI visit within ±14 days. Ambiguity:
    two results equally near (e.g. 3 days before and 3 days after, or two on one
    date). Safest reading: the HIGHER one, so a failure is never missed; the reason
    says so. A missing input gives "not_evaluable", never "no_failure", even when the
    other input alone rules failure out. ``as_of`` (optional, an addition to the
    agreed signature): records dated after it are ignored.
    """
    if as_of is not None:
        calprotectins = [(when, value) for when, value in calprotectins if when <= as_of]
        if hbi_date > as_of:
            hbi = None
    if hbi is None:
        return FailureResult(
            status=NOT_EVALUABLE,
            rule="R2.5",
            reason=say("no HBI on %(date)s → not evaluable (R2.5)", date=hbi_date),
        )
    near = [
        (abs((when - hbi_date).days), when, as_decimal(value))
        for when, value in calprotectins
        if value is not None and abs((when - hbi_date).days) <= CALPROTECTIN_WINDOW_DAYS
    ]
    if not near:
        return FailureResult(
            status=NOT_EVALUABLE,
            rule="R2.5",
            reason=say(
                "HBI %(hbi)s, but no faecal calprotectin within 14 days of the HBI visit on "
                "%(date)s → not evaluable (R2.5)",
                hbi=hbi,
                date=hbi_date,
            ),
        )
    nearest = min(distance for distance, _, _ in near)
    tied = [(when, value) for distance, when, value in near if distance == nearest]
    when, calpro = max(tied, key=lambda item: item[1])
    return _cd_verdict(hbi, when, calpro, len(tied))


def _cd_verdict(hbi: int, when: date, calpro: Decimal, tied: int) -> FailureResult:
    """R2.5 (CD) from the HBI and the calprotectin chosen (``tied``: results equally near)."""
    hbi_high = hbi >= HBI_FAILURE_AT_LEAST
    calpro_high = calpro > CALPROTECTIN_FAILURE_ABOVE
    calpro_note = say("above 250") if calpro_high else say("not above 250")
    if tied > 1:
        calpro_note = say(
            "%(note)s; the higher of %(count)s results equally near the HBI visit, the safer "
            "reading",
            note=calpro_note,
            count=tied,
        )
    said = {
        "hbi": hbi,
        "hbi_note": say("at least 5") if hbi_high else say("below 5"),
        "calprotectin": as_written(calpro),
        "date": when,
        "calprotectin_note": calpro_note,
    }
    if hbi_high and calpro_high:
        return FailureResult(
            status=FAILURE,
            rule="R2.5",
            reason=say(
                "HBI %(hbi)s (%(hbi_note)s) and calprotectin %(calprotectin)s µg/g on %(date)s "
                "(%(calprotectin_note)s) → treatment failure (R2.5)",
                **said,
            ),
        )
    return FailureResult(
        status=NO_FAILURE,
        rule="R2.5",
        reason=say(
            "HBI %(hbi)s (%(hbi_note)s) and calprotectin %(calprotectin)s µg/g on %(date)s "
            "(%(calprotectin_note)s) → no treatment failure (R2.5)",
            **said,
        ),
    )


def treatment_failure_uc(*, mayo: int | None, mayo_endoscopic: int | None) -> FailureResult:
    """R2.5 (UC): Mayo > 5 AND endoscopic subscore > 1; a missing input → not evaluable."""
    if mayo is None or mayo_endoscopic is None:
        if mayo is None and mayo_endoscopic is None:
            reason = say("no Mayo score and Mayo endoscopic subscore → not evaluable (R2.5)")
        elif mayo is None:
            reason = say("no Mayo score → not evaluable (R2.5)")
        else:
            reason = say("no Mayo endoscopic subscore → not evaluable (R2.5)")
        return FailureResult(status=NOT_EVALUABLE, rule="R2.5", reason=reason)
    mayo_high = mayo > 5
    endo_high = mayo_endoscopic > 1
    said = {
        "mayo": mayo,
        "mayo_note": say("above 5") if mayo_high else say("not above 5"),
        "subscore": mayo_endoscopic,
        "subscore_note": say("above 1") if endo_high else say("not above 1"),
    }
    if mayo_high and endo_high:
        return FailureResult(
            status=FAILURE,
            rule="R2.5",
            reason=say(
                "Mayo %(mayo)s (%(mayo_note)s) and endoscopic subscore %(subscore)s "
                "(%(subscore_note)s) → treatment failure (R2.5)",
                **said,
            ),
        )
    return FailureResult(
        status=NO_FAILURE,
        rule="R2.5",
        reason=say(
            "Mayo %(mayo)s (%(mayo_note)s) and endoscopic subscore %(subscore)s "
            "(%(subscore_note)s) → no treatment failure (R2.5)",
            **said,
        ),
    )


# ---------------------------------------------------------------------------
# R2.6 Paediatric autoinflammatory efficacy (Zhang 2023)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PaedVisit:
    date: date
    activity_score: Decimal | None = None  # e.g. AIDAI; lower is better
    global_assessment: str = ""  # "improved" | "unchanged" | "worse" | ""
    crp: Decimal | None = None
    esr: Decimal | None = None
    background_therapy: str = ""  # "stopped" | "reduced" | "unchanged" | "increased" | ""


@dataclass(frozen=True)
class PaedBaseline:
    activity_score: Decimal | None
    crp: Decimal | None
    esr: Decimal | None


@dataclass(frozen=True)
class PaedEfficacy:
    month: int  # 3, 6, 9, 12
    visit_date: date | None  # None when no visit in the window
    status: str  # "effective" | "not_effective" | "not_evaluable"
    domains: dict  # {"D1": "met"|"not_met"|"worse"|"not_worse"|"unknown", "D2": ..., "D3": ...}
    rule: str  # "R2.6"
    reason: str


MONTH_DAYS = Decimal("30.4375")
PAED_MONTHS = (3, 6, 9, 12)
PAED_WINDOW_DAYS = Decimal("14")
CRP_NORMAL_AT_MOST = Decimal("8")
ESR_NORMAL_AT_MOST = Decimal("20")

# Domain values. "not_worse": not met and known not to have deteriorated.
# "not_met": known not met, but whether it deteriorated is unknown (missing data).
# "unknown": not even known whether it is met.
MET = "met"
NOT_MET = "not_met"
WORSE = "worse"
NOT_WORSE = "not_worse"
UNKNOWN = "unknown"
_POSSIBLE = {
    MET: {MET},
    NOT_WORSE: {NOT_WORSE},
    WORSE: {WORSE},
    NOT_MET: {NOT_WORSE, WORSE},
    UNKNOWN: {MET, NOT_WORSE, WORSE},
}


# The clinician's global assessment as the D1 note writes it.
_GLOBAL_NOTES = {
    "improved": say("clinician global improved"),
    "worse": say("clinician global worse"),
    "unchanged": say("clinician global unchanged"),
}
# The background-therapy change as the D3 note writes it.
_BACKGROUND_NOTES = {
    "stopped": say("background therapy stopped"),
    "reduced": say("background therapy reduced"),
    "increased": say("background therapy increased"),
    "unchanged": say("background therapy unchanged"),
}


def _domain_1(baseline: PaedBaseline, visit: PaedVisit) -> tuple[str, set, Said]:
    """D1: activity score lower than baseline, or clinician global "improved".

    When the score and the global assessment disagree, the worse reading wins
    (worse over met over not worse): the safest for the child.
    """
    found = []
    if visit.activity_score is not None and baseline.activity_score is not None:
        now, then = as_decimal(visit.activity_score), as_decimal(baseline.activity_score)
        if now < then:
            found.append(
                (
                    MET,
                    say(
                        "activity score %(now)s below baseline %(then)s",
                        now=as_written(now),
                        then=as_written(then),
                    ),
                )
            )
        elif now > then:
            found.append(
                (
                    WORSE,
                    say(
                        "activity score %(now)s above baseline %(then)s",
                        now=as_written(now),
                        then=as_written(then),
                    ),
                )
            )
        else:
            found.append(
                (NOT_WORSE, say("activity score %(now)s equal to baseline", now=as_written(now)))
            )
    elif visit.activity_score is not None:
        found.append(
            (
                UNKNOWN,
                say(
                    "activity score %(now)s without a baseline score",
                    now=as_written(visit.activity_score),
                ),
            )
        )
    globals_ = {"improved": MET, "worse": WORSE, "unchanged": NOT_WORSE}
    if visit.global_assessment in globals_:
        found.append((globals_[visit.global_assessment], _GLOBAL_NOTES[visit.global_assessment]))
    known = [value for value, _ in found if value != UNKNOWN]
    text = (
        join([note for _, note in found], ", ")
        if found
        else say("no activity score or clinician global")
    )
    for value in (WORSE, MET, NOT_WORSE):
        if value in known:
            return value, _POSSIBLE[value], text
    return UNKNOWN, _POSSIBLE[UNKNOWN], text


def _marker_text(name: str, now, then, unit: str) -> Said:
    """One D2 marker now (with its unit) and at baseline, each possibly not recorded."""
    if now is not None and then is not None:
        return say(
            "%(name)s %(value)s %(unit)s (baseline %(baseline)s)",
            name=name,
            value=as_written(now),
            unit=unit,
            baseline=as_written(then),
        )
    if now is not None:
        return say(
            "%(name)s %(value)s %(unit)s (baseline not recorded)",
            name=name,
            value=as_written(now),
            unit=unit,
        )
    if then is not None:
        return say(
            "%(name)s not recorded (baseline %(baseline)s)", name=name, baseline=as_written(then)
        )
    return say("%(name)s not recorded (baseline not recorded)", name=name)


def _domain_2(baseline: PaedBaseline, visit: PaedVisit) -> tuple[str, set, Said]:
    """D2: CRP <= 8 mg/L and ESR <= 20 mm/h.

    * Normal now and abnormal (a marker above its limit) at baseline → met.
    * Normal now and normal at baseline → not worse (the spec's special case).
    * Normal now, baseline not known → shown "not worse" (safest: no credit for a
      normalisation that cannot be shown), but the efficacy verdict knows it might
      have been "met", so a verdict that hangs on it is "not evaluable".
    * Not normal now: worse when an abnormal marker is higher than at baseline;
      not worse when both markers are known now and at baseline and none of the
      abnormal ones rose; else not met (whether it worsened is unknown) or unknown.
    """
    limits = (
        ("CRP", "crp", CRP_NORMAL_AT_MOST, "mg/L"),
        ("ESR", "esr", ESR_NORMAL_AT_MOST, "mm/h"),
    )
    now = {
        attr: None if getattr(visit, attr) is None else as_decimal(getattr(visit, attr))
        for _, attr, _, _ in limits
    }
    then = {
        attr: None if getattr(baseline, attr) is None else as_decimal(getattr(baseline, attr))
        for _, attr, _, _ in limits
    }
    text = join(
        [_marker_text(name, now[attr], then[attr], unit) for name, attr, _, unit in limits], ", "
    )
    normal_now = all(now[attr] is not None and now[attr] <= limit for _, attr, limit, _ in limits)
    if normal_now:
        if any(then[attr] is not None and then[attr] > limit for _, attr, limit, _ in limits):
            return MET, _POSSIBLE[MET], say("%(markers)s: normalised", markers=text)
        if all(then[attr] is not None for _, attr, _, _ in limits):
            return (
                NOT_WORSE,
                _POSSIBLE[NOT_WORSE],
                say("%(markers)s: normal at baseline and still normal", markers=text),
            )
        return (
            NOT_WORSE,
            {MET, NOT_WORSE},
            say("%(markers)s: normal now, baseline not known, so not counted as met", markers=text),
        )
    abnormal_now = [
        attr for _, attr, limit, _ in limits if now[attr] is not None and now[attr] > limit
    ]
    if any(then[attr] is not None and now[attr] > then[attr] for attr in abnormal_now):
        return (
            WORSE,
            _POSSIBLE[WORSE],
            say("%(markers)s: abnormal and higher than at baseline", markers=text),
        )
    if not abnormal_now:
        return (
            UNKNOWN,
            _POSSIBLE[UNKNOWN],
            say("%(markers)s: not known whether normal", markers=text),
        )
    if all(now[attr] is not None and then[attr] is not None for _, attr, _, _ in limits):
        return (
            NOT_WORSE,
            _POSSIBLE[NOT_WORSE],
            say("%(markers)s: still abnormal but not higher than at baseline", markers=text),
        )
    return (
        NOT_MET,
        _POSSIBLE[NOT_MET],
        say("%(markers)s: abnormal; not known whether worse", markers=text),
    )


def _domain_3(visit: PaedVisit) -> tuple[str, set, Said]:
    """D3: glucocorticoid, immunosuppressant or biologic reduced or stopped."""
    values = {"stopped": MET, "reduced": MET, "increased": WORSE, "unchanged": NOT_WORSE}
    if visit.background_therapy in values:
        value = values[visit.background_therapy]
        return value, _POSSIBLE[value], _BACKGROUND_NOTES[visit.background_therapy]
    return UNKNOWN, _POSSIBLE[UNKNOWN], say("background therapy change not recorded")


_DOMAIN_WORDS = {
    MET: say("met"),
    NOT_MET: say("not met"),
    WORSE: say("worse"),
    NOT_WORSE: say("not worse"),
    UNKNOWN: say("unknown"),
}


def _window_text(target: Decimal, first_day: Decimal, last_day: Decimal) -> Said:
    return say(
        "window days %(first)s-%(last)s (day %(target)s ± 14)",
        first=int(first_day.to_integral_value(rounding=ROUND_CEILING)),
        last=int(last_day.to_integral_value(rounding=ROUND_FLOOR)),
        target=plain_number(target),
    )


def _verdict(possible: list[set]) -> tuple[str, Said]:
    """Three-valued verdict: decided only when every possible value of the
    unknown domains gives the same answer."""
    sure_met = sum(1 for options in possible if options == {MET})
    maybe_met = sum(1 for options in possible if MET in options)
    sure_worse = any(options == {WORSE} for options in possible)
    maybe_worse = any(WORSE in options for options in possible)
    if sure_met >= 2 and not maybe_worse:
        return "effective", say("effective: at least two domains met and none worse")
    if sure_worse:
        return "not_effective", say("not effective: a domain is worse")
    if maybe_met < 2:
        return "not_effective", say("not effective: fewer than two domains met")
    return NOT_EVALUABLE, say("not evaluable: missing data decide it, so not called effective")


def _assessed_month(
    month: int,
    baseline: PaedBaseline,
    visit: PaedVisit,
    start_date: date,
    window_text: Said,
    closed: bool,
) -> PaedEfficacy:
    domains, possible, notes = {}, [], []
    for name, (value, options, note) in (
        ("D1", _domain_1(baseline, visit)),
        ("D2", _domain_2(baseline, visit)),
        ("D3", _domain_3(visit)),
    ):
        domains[name] = value
        possible.append(options)
        notes.append(
            say(
                "%(domain)s %(verdict)s (%(note)s)",
                domain=name,
                verdict=_DOMAIN_WORDS[value],
                note=note,
            )
        )
    status, verdict = _verdict(possible)
    said = {
        "month": month,
        "date": visit.date,
        "day": therapy_day(visit.date, start_date),
        "window": window_text,
        "domains": join(notes, "; "),
        "verdict": verdict,
    }
    if closed:
        reason = say(
            "Month %(month)s (visit on %(date)s, day %(day)s, %(window)s): %(domains)s "
            "→ %(verdict)s (R2.6)",
            **said,
        )
    else:
        reason = say(
            "Month %(month)s (visit on %(date)s, day %(day)s, %(window)s): %(domains)s "
            "→ %(verdict)s (R2.6); provisional until the window closes",
            **said,
        )
    return PaedEfficacy(
        month=month,
        visit_date=visit.date,
        status=status,
        domains=domains,
        rule="R2.6",
        reason=reason,
    )


def _month_efficacy(
    month: int, baseline: PaedBaseline, kept: list[PaedVisit], start_date: date, as_of_day: int
) -> PaedEfficacy | None:
    """R2.6 at one month; None while its window is open and holds no visit yet."""
    target = MONTH_DAYS * month
    first_day, last_day = target - PAED_WINDOW_DAYS, target + PAED_WINDOW_DAYS
    in_window = [
        (abs(Decimal(therapy_day(visit.date, start_date)) - target), visit.date, index, visit)
        for index, visit in enumerate(kept)
        if first_day <= therapy_day(visit.date, start_date) <= last_day
    ]
    closed = as_of_day > last_day
    window_text = _window_text(target, first_day, last_day)
    if in_window:
        visit = min(in_window, key=lambda item: item[:3])[3]
        return _assessed_month(month, baseline, visit, start_date, window_text, closed)
    if not closed:
        return None
    return PaedEfficacy(
        month=month,
        visit_date=None,
        status=NOT_EVALUABLE,
        domains={"D1": UNKNOWN, "D2": UNKNOWN, "D3": UNKNOWN},
        rule="R2.6",
        reason=say(
            "Month %(month)s: no clinic visit in the %(window)s → not evaluable (R2.6)",
            month=month,
            window=window_text,
        ),
    )


def paediatric_efficacy(
    *, baseline: PaedBaseline, visits: list[PaedVisit], start_date: date, as_of: date
) -> list[PaedEfficacy]:
    """R2.6 efficacy at months 3, 6, 9 and 12.

    Month m is assessed at the visit nearest day 30.4375 × m within ±14 days (ties:
    the earlier; on one date, the first given). ``visits`` are clinic visits. A month
    is reported when its assessment visit exists on or before ``as_of`` (provisional
    while the window is open, since a nearer visit may still come) or when its window
    has closed by ``as_of`` (as_of later than day 30.4375 × m + 14).

    Effective = at least two domains met and none worse (with three domains this is
    "two met and the third not worse"). With unknown domains the status is decided
    only if every possible value of the unknowns gives the same answer; otherwise
    "not_evaluable" (a child is never called effective on missing data). A closed
    window without a visit is "not_evaluable".
    """
    kept = [visit for visit in visits if visit.date <= as_of]
    as_of_day = therapy_day(as_of, start_date)
    results = [
        _month_efficacy(month, baseline, kept, start_date, as_of_day) for month in PAED_MONTHS
    ]
    return [result for result in results if result is not None]
