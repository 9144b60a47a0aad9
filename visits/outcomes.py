"""Pure outcome rules (clinical-rules.md R2).

No Django imports and no clock: plain values in, results carrying the rule
id and a plain-language reason out.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class RiskFlag:
    rule: str
    code: str
    reason: str


def _fmt(value) -> str:
    value = Decimal(str(value)).normalize()
    return format(value, "f")


def relapse_risk_flags(*, crp_at_lor, tgn_on_aza_mono, crp_above, tgn_at_least):
    """R2.7 relapse-risk flags at therapy start (information only).

    * CRP > 10 mg/L at loss of response (adjusted HR 4.72, Li 2020)
    * 6-TGN >= 235 on AZA monotherapy (adjusted HR 5.32, Li 2020)

    A missing value raises no flag (the flags inform, they do not gate). The thresholds
    are configurable (``RuleSettings.risk_crp_at_lor_above``, ``risk_tgn_at_least``).
    """
    flags = []
    if crp_at_lor is not None and Decimal(str(crp_at_lor)) > Decimal(str(crp_above)):
        flags.append(
            RiskFlag(
                rule="R2.7",
                code="crp_above_10_at_loss_of_response",
                reason=(
                    f"CRP {_fmt(crp_at_lor)} mg/L at loss of response is above {_fmt(crp_above)} "
                    "mg/L: higher relapse risk (adjusted HR 4.72, Li 2020) (R2.7)"
                ),
            )
        )
    if tgn_on_aza_mono is not None and Decimal(str(tgn_on_aza_mono)) >= Decimal(str(tgn_at_least)):
        flags.append(
            RiskFlag(
                rule="R2.7",
                code="tgn_at_least_235_on_aza_monotherapy",
                reason=(
                    f"6-TGN {_fmt(tgn_on_aza_mono)} pmol/8×10⁸ RBC on azathioprine monotherapy is "
                    f"at or above {_fmt(tgn_at_least)}: higher relapse risk "
                    "(adjusted HR 5.32, Li 2020) (R2.7)"
                ),
            )
        )
    return flags


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

_ONE = Decimal("1")


def _dec(value) -> Decimal:
    """A measured value as Decimal (str() first so a float keeps its written digits)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _num(value) -> str:
    """A measured value as written: Decimal("7.0") stays "7.0" (CDEIS has one decimal)."""
    return format(_dec(value), "f")


def _day(when: date, start_date: date) -> int:
    """Day N of therapy: days since the thalidomide start date (start = day 0)."""
    return (when - start_date).days


def _half_up(value) -> int:
    return int(_dec(value).quantize(_ONE, rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------
# R2.1 Baseline CDAI
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitObs:
    key: object  # caller's id for the visit
    date: date
    contact: str  # "clinic" | "phone"
    cdai: int | None  # whole-number CDAI (computed or entered), None if none
    relapse_event: str = ""  # "" or "fistula" | "abscess" | "obstruction" | "endoscopic"


@dataclass(frozen=True)
class Baseline:
    cdai: int | None
    source: str  # "recorded" | "visit" | "" (none)
    visit_key: object = None
    warning: str = ""
    rule: str = "R2.1"
    reason: str = ""


BASELINE_WINDOW_FIRST_DAY = -14
BASELINE_WINDOW_LAST_DAY = 0


def baseline_cdai(*, recorded, visits: list[VisitObs], start_date: date) -> Baseline:
    """R2.1: the course's baseline CDAI.

    The patient's recorded ``baseline_cdai`` if given (rounded half up to a whole
    number), else the latest clinic CDAI from day -14 to day 0 inclusive. A warning
    when both exist and differ; with neither the CDAI is None (statuses are empty).
    ``visit_key`` names the latest clinic visit with a CDAI in the window whenever
    there is one (its labs give week-0 CRP/ESR when none were recorded at loss of
    response).
    """
    warnings = []
    window_visit = None
    if start_date is not None:
        in_window = [
            visit
            for visit in visits
            if visit.contact == "clinic"
            and visit.cdai is not None
            and BASELINE_WINDOW_FIRST_DAY
            <= _day(visit.date, start_date)
            <= BASELINE_WINDOW_LAST_DAY
        ]
        if in_window:
            latest = max(visit.date for visit in in_window)
            same_day = [visit for visit in in_window if visit.date == latest]
            # Ambiguity: two clinic CDAIs on the same latest date. Safest reading: the
            # LOWER one (a lower baseline makes response/remission harder to claim, so
            # efficacy is never overstated), and the clinician is warned.
            window_visit = min(same_day, key=lambda visit: visit.cdai)
            if len({visit.cdai for visit in same_day}) > 1:
                values = ", ".join(str(visit.cdai) for visit in same_day)
                warnings.append(
                    f"Several clinic CDAIs on {latest.isoformat()} ({values}): the lowest, "
                    f"{window_visit.cdai}, is taken as the baseline visit's CDAI (R2.1)"
                )
    visit_key = window_visit.key if window_visit is not None else None
    if window_visit is not None:
        visit_day = _day(window_visit.date, start_date)
        visit_text = (
            f"the clinic CDAI {window_visit.cdai} on {window_visit.date.isoformat()} "
            f"(day {visit_day})"
        )

    if recorded is not None:
        raw = _dec(recorded)
        value = _half_up(raw)
        rounded = "" if raw == value else f" (recorded {_num(raw)}, rounded half up)"
        reason = f"Baseline CDAI {value}: the patient's recorded baseline CDAI{rounded} (R2.1)"
        # "Differ" is judged on the whole number actually used, as CDAI classification
        # uses whole numbers (R1.1): 224.4 recorded vs 224 at the visit is no conflict.
        if window_visit is not None and window_visit.cdai != value:
            warnings.append(
                f"Recorded baseline CDAI {value} differs from {visit_text}; "
                f"the recorded value is used (R2.1)"
            )
        return Baseline(
            cdai=value,
            source="recorded",
            visit_key=visit_key,
            warning="; ".join(warnings),
            reason=reason,
        )
    if window_visit is not None:
        return Baseline(
            cdai=window_visit.cdai,
            source="visit",
            visit_key=visit_key,
            warning="; ".join(warnings),
            reason=(
                f"Baseline CDAI {window_visit.cdai}: no recorded baseline CDAI, so the latest "
                f"clinic CDAI from day -14 to day 0 is used ({visit_text}) (R2.1)"
            ),
        )
    return Baseline(
        cdai=None,
        source="",
        reason=(
            "No baseline CDAI: none recorded and no clinic CDAI from day -14 to day 0, "
            "so statuses are empty (R2.1)"
        ),
    )


# ---------------------------------------------------------------------------
# R2.2 clinical status and R2.3 relapse
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitStatus:
    key: object
    status: str  # "remission" | "response" | "no_response" | "relapse" | ""
    rule: str  # "R2.2" / "R2.3" / "R2.1"
    reason: str
    maintenance: bool = False  # the visit is in a maintenance episode (R2.3)
    nadir: int | None = None  # nadir in force when the visit was judged (R2.3)


REMISSION = "remission"
RESPONSE = "response"
NO_RESPONSE = "no_response"
RELAPSE = "relapse"


def _clinical_status(cdai, baseline, remission_below, response_drop) -> tuple[str, str]:
    """R2.2 for one CDAI: (status, reason)."""
    delta = baseline - cdai
    if delta >= response_drop and cdai < remission_below:
        return REMISSION, (
            f"CDAI {cdai}: below {remission_below} and {delta} below baseline {baseline} "
            f"→ remission (R2.2)"
        )
    if delta >= response_drop:
        return RESPONSE, (
            f"CDAI {cdai}: {delta} below baseline {baseline} (at least {response_drop}) "
            f"but not below {remission_below} → response (R2.2)"
        )
    if delta > 0:
        change = f"only {delta} below baseline {baseline} (less than {response_drop})"
    elif delta == 0:
        change = f"equal to baseline {baseline}"
    else:
        change = f"{-delta} above baseline {baseline}"
    return NO_RESPONSE, f"CDAI {cdai}: {change} → no response (R2.2)"


def clinical_statuses(
    *,
    visits: list[VisitObs],
    baseline: Baseline,
    start_date: date | None,
    as_of: date,
    remission_below: int,
    response_drop: int,
) -> list[VisitStatus]:
    """R2.2 status and R2.3 relapse for each visit dated on or before ``as_of``.

    One result per such visit, in date order (stable for the same date). The same
    configurable thresholds serve R2.2 and the R2.3 CDAI criterion (CDAI > 150 and
    CDAI > nadir + 70), as the spec gives both with the same numbers.

    Readings chosen where the spec is open (safest for the patient):

    * The maintenance phase starts at the first response visit and does not end; a
      relapse closes the current *episode* and suspends only the CDAI criterion. A
      relapse event recorded at a clinic visit between episodes is therefore still a
      relapse (a fistula, abscess or obstruction is never shown as a mere "response").
    * The visit that opens an episode is itself in the maintenance phase, so a relapse
      event recorded at it makes it a relapse (and the episode closes at once). Its
      nadir in force is None (no earlier visit in the episode); its CDAI then counts
      towards the nadir of the following visits.
    * Any non-empty ``relapse_event`` counts as a recorded relapse event.
    * A relapse event at a phone contact gives no status (statuses are for clinic
      visits, R2.1) but the reason names the event so that it is not lost.
    """
    ordered = sorted((visit for visit in visits if visit.date <= as_of), key=lambda v: v.date)
    if start_date is None:
        return [
            VisitStatus(
                key=visit.key,
                status="",
                rule="R2.1",
                reason="no thalidomide start date: statuses are empty (R2.1)",
            )
            for visit in ordered
        ]
    if baseline.cdai is None:
        return [
            VisitStatus(
                key=visit.key,
                status="",
                rule="R2.1",
                reason="no baseline CDAI: statuses are empty (R2.1)",
            )
            for visit in ordered
        ]

    base = baseline.cdai
    in_phase = False  # on or after the first response visit
    in_episode = False  # a maintenance episode is open (CDAI criterion active)
    episode_start: date | None = None
    nadir: int | None = None
    last_relapse: date | None = None
    results = []
    for visit in ordered:
        day = _day(visit.date, start_date)
        event = visit.relapse_event or ""
        event_text = f"Relapse event recorded ({event})" if event else ""

        if visit.contact != "clinic":
            contact = visit.contact or "non-clinic"
            reason = f"{contact} contact: statuses are given to clinic visits only (R2.1)"
            if event:
                reason += f"; {event_text} at this contact: record it at a clinic visit to judge it"
            results.append(VisitStatus(key=visit.key, status="", rule="R2.1", reason=reason))
            continue
        if day < 1:
            reason = f"day {day}: statuses are given to clinic visits from day 1 on (R2.1)"
            if event:
                reason += f"; {event_text} before day 1 is not judged"
            results.append(VisitStatus(key=visit.key, status="", rule="R2.1", reason=reason))
            continue

        if visit.cdai is not None:
            status, reason = _clinical_status(visit.cdai, base, remission_below, response_drop)
        else:
            status, reason = "", "no CDAI recorded at this clinic visit: no status (R2.2)"

        nadir_in_force = nadir if in_episode else None
        opening = ""
        if not in_episode and status in (RESPONSE, REMISSION):
            # R2.3: the first response opens the maintenance phase; after a relapse, a
            # visit meeting R2.2 response (against the course baseline) opens a new
            # episode and resets the nadir.
            if last_relapse is None:
                opening = "the maintenance phase starts at this first response (R2.3)"
            else:
                opening = (
                    f"a new maintenance episode starts at this response after the relapse on "
                    f"{last_relapse.isoformat()} and the nadir is reset (R2.3)"
                )
            in_phase = True
            in_episode = True
            episode_start = visit.date
            nadir = None
            nadir_in_force = None

        cdai_relapse = (
            in_episode
            and visit.cdai is not None
            and nadir_in_force is not None
            and visit.cdai > remission_below
            and visit.cdai > nadir_in_force + response_drop
        )
        event_relapse = in_phase and bool(event)

        if cdai_relapse or event_relapse:
            parts = []
            if cdai_relapse:
                parts.append(
                    f"CDAI {visit.cdai}: above {remission_below} and "
                    f"{visit.cdai - nadir_in_force} above the nadir {nadir_in_force} since the "
                    f"response on {episode_start.isoformat()}"
                )
            if event_relapse:
                where = "in the maintenance phase"
                if not in_episode:
                    where += (
                        f" (CDAI criterion suspended since the relapse on "
                        f"{last_relapse.isoformat()})"
                    )
                parts.append(f"{event_text} {where}")
            reason = "; ".join(parts) + " → relapse (R2.3)"
            if opening:
                reason = f"{reason}; CDAI {visit.cdai} meets response (R2.2), so {opening}"
            results.append(
                VisitStatus(
                    key=visit.key,
                    status=RELAPSE,
                    rule="R2.3",
                    reason=reason,
                    maintenance=in_episode,
                    nadir=nadir_in_force,
                )
            )
            in_episode = False
            nadir = None
            last_relapse = visit.date
            continue

        notes = []
        if opening:
            notes.append(opening)
        elif in_episode and visit.cdai is not None and nadir_in_force is not None:
            if visit.cdai > remission_below and visit.cdai > nadir_in_force:
                notes.append(
                    f"not a relapse: {visit.cdai - nadir_in_force} above the nadir "
                    f"{nadir_in_force}, not more than {response_drop} (R2.3)"
                )
            elif visit.cdai > remission_below:
                notes.append(f"not a relapse: not above the nadir {nadir_in_force} (R2.3)")
            else:
                notes.append(f"not a relapse: not above {remission_below} (R2.3)")
        elif in_phase and not in_episode:
            notes.append(
                f"the CDAI relapse criterion is suspended since the relapse on "
                f"{last_relapse.isoformat()} until a visit again meets response (R2.3)"
            )
        if event and not in_phase:
            notes.append(
                f"{event_text} before any response: not in the maintenance phase, "
                f"so not a relapse (R2.3)"
            )
        if notes:
            reason = f"{reason}; {'; '.join(notes)}"
        results.append(
            VisitStatus(
                key=visit.key,
                status=status,
                rule="R2.2",
                reason=reason,
                maintenance=in_episode,
                nadir=nadir_in_force,
            )
        )
        if in_episode and visit.cdai is not None:
            # Nadir: the lowest CDAI from the episode's first response up to the
            # previous visit (this visit's CDAI counts for the next one).
            nadir = visit.cdai if nadir is None else min(nadir, visit.cdai)
    return results


# ---------------------------------------------------------------------------
# R2.4 Endoscopic outcomes
# ---------------------------------------------------------------------------


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
        and ENDO_BASELINE_FIRST_DAY <= _day(endo.date, start_date) <= ENDO_BASELINE_LAST_DAY
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda endo: (
            abs(_day(endo.date, start_date)),
            endo.date,
            _dec(getattr(endo, score)),
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
    base_cdeis = baselines["cdeis"]
    base_rutgeerts = baselines["rutgeerts"]
    remission_below = _dec(cdeis_remission_below)

    results = []
    for endo in sorted((e for e in kept if e.date > after), key=lambda e: e.date):
        reasons = []
        cdeis = None if endo.cdeis is None else _dec(endo.cdeis)

        # Endoscopic remission.
        criteria = []
        if cdeis is not None:
            met = cdeis < remission_below
            criteria.append(met)
            reasons.append(
                f"CDEIS {_num(cdeis)}: below {_num(remission_below)} → endoscopic remission (R2.4)"
                if met
                else f"CDEIS {_num(cdeis)}: not below {_num(remission_below)} "
                f"→ no endoscopic remission by CDEIS (R2.4)"
            )
        if base_rutgeerts is not None and base_rutgeerts.rutgeerts >= RUTGEERTS_BASELINE_AT_LEAST:
            if endo.rutgeerts is not None:
                met = endo.rutgeerts <= RUTGEERTS_REMISSION_AT_MOST
                criteria.append(met)
                verdict = (
                    "at most 1 → endoscopic remission"
                    if met
                    else "above 1 → no endoscopic remission by Rutgeerts"
                )
                reasons.append(
                    f"Rutgeerts i{endo.rutgeerts} from baseline i{base_rutgeerts.rutgeerts} "
                    f"(at least 2): {verdict} (R2.4)"
                )
            else:
                reasons.append(
                    "no Rutgeerts score at this endoscopy: the Rutgeerts remission "
                    "criterion is not evaluable (R2.4)"
                )
        elif endo.rutgeerts is not None:
            if base_rutgeerts is None:
                why = "there is no baseline Rutgeerts score"
            else:
                why = f"the baseline Rutgeerts i{base_rutgeerts.rutgeerts} is below 2"
            reasons.append(
                f"Rutgeerts i{endo.rutgeerts}: not used for remission because {why} (R2.4)"
            )
        remission = True if any(criteria) else (False if criteria else None)
        if remission is None:
            reasons.append("no CDEIS and no usable Rutgeerts: remission not evaluable (R2.4)")

        # Endoscopic response (He 2017).
        response = None
        if base_cdeis is None:
            reasons.append("no baseline CDEIS: endoscopic response not evaluable (R2.4)")
        elif _dec(base_cdeis.cdeis) < CDEIS_RESPONSE_BASELINE_AT_LEAST:
            reasons.append(
                f"baseline CDEIS {_num(base_cdeis.cdeis)} is below 6: endoscopic response "
                f"not evaluable (R2.4)"
            )
        elif cdeis is None:
            reasons.append("no CDEIS at this endoscopy: endoscopic response not evaluable (R2.4)")
        else:
            base_value = _dec(base_cdeis.cdeis)
            decrease = base_value - cdeis
            response = decrease > CDEIS_RESPONSE_DECREASE_ABOVE
            if decrease > 0:
                change = f"decrease {_num(decrease)}"
            elif decrease == 0:
                change = "no change"
            else:
                change = f"increase {_num(-decrease)}"
            verdict = (
                "more than 5 → endoscopic response"
                if response
                else "not more than 5 → no endoscopic response"
            )
            reasons.append(
                f"CDEIS {_num(base_value)} at baseline → {_num(cdeis)}: {change}, {verdict} (R2.4)"
            )

        # Complete endoscopic remission (He 2017).
        complete = None
        if cdeis is None:
            reasons.append("no CDEIS: complete endoscopic remission not evaluable (R2.4)")
        else:
            complete = cdeis < CDEIS_COMPLETE_REMISSION_BELOW
            reasons.append(
                f"CDEIS {_num(cdeis)}: below 3 → complete endoscopic remission (R2.4)"
                if complete
                else f"CDEIS {_num(cdeis)}: not below 3 → no complete endoscopic remission (R2.4)"
            )

        # Mucosal healing: the recorded no-ulceration flag.
        if endo.ulceration is None:
            healing = None
            reasons.append("ulceration not recorded: mucosal healing not evaluable (R2.4)")
        elif endo.ulceration:
            healing = False
            reasons.append("ulceration in an explored segment → no mucosal healing (R2.4)")
        else:
            healing = True
            reasons.append("no ulceration in any explored segment → mucosal healing (R2.4)")

        results.append(
            EndoscopicOutcome(
                key=endo.key,
                remission=remission,
                response=response,
                complete_remission=complete,
                mucosal_healing=healing,
                reasons=tuple(reasons),
            )
        )
    return results


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
            reason=f"no HBI on {hbi_date.isoformat()} → not evaluable (R2.5)",
        )
    near = [
        (abs((when - hbi_date).days), when, _dec(value))
        for when, value in calprotectins
        if value is not None and abs((when - hbi_date).days) <= CALPROTECTIN_WINDOW_DAYS
    ]
    if not near:
        return FailureResult(
            status=NOT_EVALUABLE,
            rule="R2.5",
            reason=(
                f"HBI {hbi}, but no faecal calprotectin within 14 days of the HBI visit on "
                f"{hbi_date.isoformat()} → not evaluable (R2.5)"
            ),
        )
    nearest = min(distance for distance, _, _ in near)
    tied = [(when, value) for distance, when, value in near if distance == nearest]
    when, calpro = max(tied, key=lambda item: item[1])
    hbi_high = hbi >= HBI_FAILURE_AT_LEAST
    calpro_high = calpro > CALPROTECTIN_FAILURE_ABOVE
    calpro_note = "above 250" if calpro_high else "not above 250"
    if len(tied) > 1:
        calpro_note += (
            f"; the higher of {len(tied)} results equally near the HBI visit, the safer reading"
        )
    text = (
        f"HBI {hbi} ({'at least 5' if hbi_high else 'below 5'}) and calprotectin "
        f"{_num(calpro)} µg/g on {when.isoformat()} ({calpro_note})"
    )
    if hbi_high and calpro_high:
        return FailureResult(
            status=FAILURE, rule="R2.5", reason=f"{text} → treatment failure (R2.5)"
        )
    return FailureResult(
        status=NO_FAILURE, rule="R2.5", reason=f"{text} → no treatment failure (R2.5)"
    )


def treatment_failure_uc(*, mayo: int | None, mayo_endoscopic: int | None) -> FailureResult:
    """R2.5 (UC): Mayo > 5 AND endoscopic subscore > 1; a missing input → not evaluable."""
    if mayo is None or mayo_endoscopic is None:
        missing = " and ".join(
            name
            for name, value in (("Mayo score", mayo), ("Mayo endoscopic subscore", mayo_endoscopic))
            if value is None
        )
        return FailureResult(
            status=NOT_EVALUABLE, rule="R2.5", reason=f"no {missing} → not evaluable (R2.5)"
        )
    mayo_high = mayo > 5
    endo_high = mayo_endoscopic > 1
    text = (
        f"Mayo {mayo} ({'above 5' if mayo_high else 'not above 5'}) and endoscopic subscore "
        f"{mayo_endoscopic} ({'above 1' if endo_high else 'not above 1'})"
    )
    if mayo_high and endo_high:
        return FailureResult(
            status=FAILURE, rule="R2.5", reason=f"{text} → treatment failure (R2.5)"
        )
    return FailureResult(
        status=NO_FAILURE, rule="R2.5", reason=f"{text} → no treatment failure (R2.5)"
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


def _domain_1(baseline: PaedBaseline, visit: PaedVisit) -> tuple[str, set, str]:
    """D1: activity score lower than baseline, or clinician global "improved".

    When the score and the global assessment disagree, the worse reading wins
    (worse over met over not worse): the safest for the child.
    """
    found = []
    if visit.activity_score is not None and baseline.activity_score is not None:
        now, then = _dec(visit.activity_score), _dec(baseline.activity_score)
        if now < then:
            found.append((MET, f"activity score {_num(now)} below baseline {_num(then)}"))
        elif now > then:
            found.append((WORSE, f"activity score {_num(now)} above baseline {_num(then)}"))
        else:
            found.append((NOT_WORSE, f"activity score {_num(now)} equal to baseline"))
    elif visit.activity_score is not None:
        found.append(
            (UNKNOWN, f"activity score {_num(visit.activity_score)} without a baseline score")
        )
    globals_ = {"improved": MET, "worse": WORSE, "unchanged": NOT_WORSE}
    if visit.global_assessment in globals_:
        found.append(
            (globals_[visit.global_assessment], f"clinician global {visit.global_assessment}")
        )
    known = [value for value, _ in found if value != UNKNOWN]
    text = ", ".join(note for _, note in found) or "no activity score or clinician global"
    for value in (WORSE, MET, NOT_WORSE):
        if value in known:
            return value, _POSSIBLE[value], text
    return UNKNOWN, _POSSIBLE[UNKNOWN], text


def _domain_2(baseline: PaedBaseline, visit: PaedVisit) -> tuple[str, set, str]:
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
        attr: None if getattr(visit, attr) is None else _dec(getattr(visit, attr))
        for _, attr, _, _ in limits
    }
    then = {
        attr: None if getattr(baseline, attr) is None else _dec(getattr(baseline, attr))
        for _, attr, _, _ in limits
    }
    text = ", ".join(
        f"{name} {'not recorded' if now[attr] is None else _num(now[attr]) + ' ' + unit}"
        f" (baseline {'not recorded' if then[attr] is None else _num(then[attr])})"
        for name, attr, _, unit in limits
    )
    normal_now = all(now[attr] is not None and now[attr] <= limit for _, attr, limit, _ in limits)
    if normal_now:
        if any(then[attr] is not None and then[attr] > limit for _, attr, limit, _ in limits):
            return MET, _POSSIBLE[MET], f"{text}: normalised"
        if all(then[attr] is not None for _, attr, _, _ in limits):
            return NOT_WORSE, _POSSIBLE[NOT_WORSE], f"{text}: normal at baseline and still normal"
        return (
            NOT_WORSE,
            {MET, NOT_WORSE},
            f"{text}: normal now, baseline not known, so not counted as met",
        )
    abnormal_now = [
        attr for _, attr, limit, _ in limits if now[attr] is not None and now[attr] > limit
    ]
    if any(then[attr] is not None and now[attr] > then[attr] for attr in abnormal_now):
        return WORSE, _POSSIBLE[WORSE], f"{text}: abnormal and higher than at baseline"
    if not abnormal_now:
        return UNKNOWN, _POSSIBLE[UNKNOWN], f"{text}: not known whether normal"
    if all(now[attr] is not None and then[attr] is not None for _, attr, _, _ in limits):
        return (
            NOT_WORSE,
            _POSSIBLE[NOT_WORSE],
            f"{text}: still abnormal but not higher than at baseline",
        )
    return NOT_MET, _POSSIBLE[NOT_MET], f"{text}: abnormal; not known whether worse"


def _domain_3(visit: PaedVisit) -> tuple[str, set, str]:
    """D3: glucocorticoid, immunosuppressant or biologic reduced or stopped."""
    values = {"stopped": MET, "reduced": MET, "increased": WORSE, "unchanged": NOT_WORSE}
    if visit.background_therapy in values:
        value = values[visit.background_therapy]
        return value, _POSSIBLE[value], f"background therapy {visit.background_therapy}"
    return UNKNOWN, _POSSIBLE[UNKNOWN], "background therapy change not recorded"


_DOMAIN_WORDS = {
    MET: "met",
    NOT_MET: "not met",
    WORSE: "worse",
    NOT_WORSE: "not worse",
    UNKNOWN: "unknown",
}


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
    as_of_day = _day(as_of, start_date)
    results = []
    for month in PAED_MONTHS:
        target = MONTH_DAYS * month
        first_day, last_day = target - PAED_WINDOW_DAYS, target + PAED_WINDOW_DAYS
        in_window = [
            (abs(Decimal(_day(visit.date, start_date)) - target), visit.date, index, visit)
            for index, visit in enumerate(kept)
            if first_day <= _day(visit.date, start_date) <= last_day
        ]
        closed = as_of_day > last_day
        window_text = (
            f"window days {int(first_day.to_integral_value(rounding=ROUND_CEILING))}-"
            f"{int(last_day.to_integral_value(rounding=ROUND_FLOOR))} "
            f"(day {_fmt(target)} ± 14)"
        )
        if not in_window:
            if closed:
                results.append(
                    PaedEfficacy(
                        month=month,
                        visit_date=None,
                        status=NOT_EVALUABLE,
                        domains={"D1": UNKNOWN, "D2": UNKNOWN, "D3": UNKNOWN},
                        rule="R2.6",
                        reason=(
                            f"Month {month}: no clinic visit in the {window_text} "
                            f"→ not evaluable (R2.6)"
                        ),
                    )
                )
            continue
        visit = min(in_window, key=lambda item: item[:3])[3]
        domains, possible, notes = {}, [], []
        for name, (value, options, note) in (
            ("D1", _domain_1(baseline, visit)),
            ("D2", _domain_2(baseline, visit)),
            ("D3", _domain_3(visit)),
        ):
            domains[name] = value
            possible.append(options)
            notes.append(f"{name} {_DOMAIN_WORDS[value]} ({note})")

        # Three-valued verdict: decided only when every possible value of the
        # unknown domains gives the same answer.
        sure_met = sum(1 for options in possible if options == {MET})
        maybe_met = sum(1 for options in possible if MET in options)
        sure_worse = any(options == {WORSE} for options in possible)
        maybe_worse = any(WORSE in options for options in possible)
        if sure_met >= 2 and not maybe_worse:
            status, verdict = "effective", "effective: at least two domains met and none worse"
        elif maybe_met < 2 or sure_worse:
            status = "not_effective"
            verdict = (
                "not effective: a domain is worse"
                if sure_worse
                else "not effective: fewer than two domains met"
            )
        else:
            status = NOT_EVALUABLE
            verdict = "not evaluable: missing data decide it, so not called effective"
        provisional = "" if closed else "; provisional until the window closes"
        reason = (
            f"Month {month} (visit on {visit.date.isoformat()}, day "
            f"{_day(visit.date, start_date)}, {window_text}): {'; '.join(notes)} → {verdict} "
            f"(R2.6){provisional}"
        )
        results.append(
            PaedEfficacy(
                month=month,
                visit_date=visit.date,
                status=status,
                domains=domains,
                rule="R2.6",
                reason=reason,
            )
        )
    return results
