"""Pure outcome rules: R2.1 baseline CDAI, R2.2 clinical status, R2.3 relapse and
R2.7 relapse-risk flags (clinical-rules.md R2), with the helpers the other R2
modules share: ``visits.endoscopy_outcomes`` (R2.4) and ``visits.efficacy`` (R2.5,
R2.6).

No Django imports and no clock: plain values in, results carrying the rule
id and a plain-language reason out.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from thalimon.said import Said, join, say

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

_ONE = Decimal("1")


def as_decimal(value) -> Decimal:
    """A measured value as Decimal (str() first so a float keeps its written digits)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def as_written(value) -> str:
    """A measured value as written: Decimal("7.0") stays "7.0" (CDEIS has one decimal)."""
    return format(as_decimal(value), "f")


def plain_number(value) -> str:
    """A number without trailing zeros: Decimal("10.0") → "10"."""
    value = Decimal(str(value)).normalize()
    return format(value, "f")


def therapy_day(when: date, start_date: date) -> int:
    """Day N of therapy: days since the thalidomide start date (start = day 0)."""
    return (when - start_date).days


def _half_up(value) -> int:
    return int(as_decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP))


def _joined(parts, sep: str = "; "):
    """Reasons joined by ``sep``: "" for none, the reason itself for one."""
    parts = list(parts)
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else join(parts, sep)


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


def _baseline_window_visit(
    visits: list[VisitObs], start_date: date | None
) -> tuple[VisitObs | None, list[str]]:
    """The latest clinic visit with a CDAI from day -14 to day 0 inclusive, and warnings."""
    if start_date is None:
        return None, []
    in_window = [
        visit
        for visit in visits
        if visit.contact == "clinic"
        and visit.cdai is not None
        and BASELINE_WINDOW_FIRST_DAY
        <= therapy_day(visit.date, start_date)
        <= BASELINE_WINDOW_LAST_DAY
    ]
    if not in_window:
        return None, []
    latest = max(visit.date for visit in in_window)
    same_day = [visit for visit in in_window if visit.date == latest]
    # Ambiguity: two clinic CDAIs on the same latest date. Safest reading: the
    # LOWER one (a lower baseline makes response/remission harder to claim, so
    # efficacy is never overstated), and the clinician is warned.
    window_visit = min(same_day, key=lambda visit: visit.cdai)
    warnings = []
    if len({visit.cdai for visit in same_day}) > 1:
        values = join([str(visit.cdai) for visit in same_day], ", ")
        warnings.append(
            say(
                "Several clinic CDAIs on %(date)s (%(values)s): the lowest, "
                "%(cdai)s, is taken as the baseline visit's CDAI (R2.1)",
                date=latest, values=values, cdai=window_visit.cdai,
            )
        )
    return window_visit, warnings


def _window_visit_text(visit: VisitObs, start_date: date) -> Said:
    return say(
        "the clinic CDAI %(cdai)s on %(date)s (day %(day)s)",
        cdai=visit.cdai, date=visit.date, day=therapy_day(visit.date, start_date),
    )


def _recorded_baseline(
    recorded, window_visit: VisitObs | None, start_date: date | None, warnings: list[str]
) -> Baseline:
    raw = as_decimal(recorded)
    value = _half_up(raw)
    if raw == value:
        reason = say("Baseline CDAI %(cdai)s: the patient's recorded baseline CDAI (R2.1)", cdai=value)
    else:
        reason = say(
            "Baseline CDAI %(cdai)s: the patient's recorded baseline CDAI "
            "(recorded %(recorded)s, rounded half up) (R2.1)",
            cdai=value, recorded=as_written(raw),
        )
    # "Differ" is judged on the whole number actually used, as CDAI classification
    # uses whole numbers (R1.1): 224.4 recorded vs 224 at the visit is no conflict.
    if window_visit is not None and window_visit.cdai != value:
        warnings = warnings + [
            say(
                "Recorded baseline CDAI %(cdai)s differs from %(visit)s; "
                "the recorded value is used (R2.1)",
                cdai=value, visit=_window_visit_text(window_visit, start_date),
            )
        ]
    return Baseline(
        cdai=value,
        source="recorded",
        visit_key=window_visit.key if window_visit is not None else None,
        warning=_joined(warnings),
        reason=reason,
    )


def baseline_cdai(*, recorded, visits: list[VisitObs], start_date: date) -> Baseline:
    """R2.1: the course's baseline CDAI.

    The patient's recorded ``baseline_cdai`` if given (rounded half up to a whole
    number), else the latest clinic CDAI from day -14 to day 0 inclusive. A warning
    when both exist and differ; with neither the CDAI is None (statuses are empty).
    ``visit_key`` names the latest clinic visit with a CDAI in the window whenever
    there is one (its labs give week-0 CRP/ESR when none were recorded at loss of
    response).
    """
    window_visit, warnings = _baseline_window_visit(visits, start_date)
    if recorded is not None:
        return _recorded_baseline(recorded, window_visit, start_date, warnings)
    if window_visit is not None:
        return Baseline(
            cdai=window_visit.cdai,
            source="visit",
            visit_key=window_visit.key,
            warning=_joined(warnings),
            reason=say(
                "Baseline CDAI %(cdai)s: no recorded baseline CDAI, so the latest "
                "clinic CDAI from day -14 to day 0 is used (%(visit)s) (R2.1)",
                cdai=window_visit.cdai, visit=_window_visit_text(window_visit, start_date),
            ),
        )
    return Baseline(
        cdai=None,
        source="",
        reason=say(
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


def status_of(cdai, baseline, remission_below, response_drop) -> str:
    """R2.2 for one CDAI against the course baseline: the status alone (the rule itself;
    ``clinical_status`` gives it with its reason)."""
    if baseline - cdai >= response_drop:
        return REMISSION if cdai < remission_below else RESPONSE
    return NO_RESPONSE


def clinical_status(cdai, baseline, remission_below, response_drop) -> tuple[str, Said]:
    """R2.2 for one CDAI against the course baseline: (status, reason)."""
    status = status_of(cdai, baseline, remission_below, response_drop)
    delta = baseline - cdai
    if status == REMISSION:
        return REMISSION, say(
            "CDAI %(cdai)s: below %(below)s and %(delta)s below baseline %(baseline)s "
            "→ remission (R2.2)",
            cdai=cdai, below=remission_below, delta=delta, baseline=baseline,
        )
    if status == RESPONSE:
        return RESPONSE, say(
            "CDAI %(cdai)s: %(delta)s below baseline %(baseline)s (at least %(drop)s) "
            "but not below %(below)s → response (R2.2)",
            cdai=cdai, delta=delta, baseline=baseline, drop=response_drop, below=remission_below,
        )
    if delta > 0:
        return NO_RESPONSE, say(
            "CDAI %(cdai)s: only %(delta)s below baseline %(baseline)s (less than %(drop)s) "
            "→ no response (R2.2)",
            cdai=cdai, delta=delta, baseline=baseline, drop=response_drop,
        )
    if delta == 0:
        return NO_RESPONSE, say(
            "CDAI %(cdai)s: equal to baseline %(baseline)s → no response (R2.2)",
            cdai=cdai, baseline=baseline,
        )
    return NO_RESPONSE, say(
        "CDAI %(cdai)s: %(delta)s above baseline %(baseline)s → no response (R2.2)",
        cdai=cdai, delta=-delta, baseline=baseline,
    )


# R2.3 relapse events (VisitObs.relapse_event codes) as the reasons name them.
_RELAPSE_EVENT_WORDS = {
    "fistula": say("fistula"),
    "abscess": say("abscess"),
    "obstruction": say("obstruction"),
    "endoscopic": say("endoscopic"),
}


def _event_word(event: str):
    """A relapse event code in words (an unknown code is named as it is)."""
    return _RELAPSE_EVENT_WORDS.get(event, event)


def _unjudged(visit: VisitObs, day: int, explain: bool = True) -> VisitStatus | None:
    """R2.1: no status for a non-clinic contact or a visit before day 1 (None: judge it)."""
    event = visit.relapse_event or ""
    if not explain and (visit.contact != "clinic" or day < 1):
        return VisitStatus(key=visit.key, status="", rule="R2.1", reason="")
    if visit.contact != "clinic":
        if visit.contact == "phone":
            reason = say("phone contact: statuses are given to clinic visits only (R2.1)")
        elif not visit.contact:
            reason = say("non-clinic contact: statuses are given to clinic visits only (R2.1)")
        else:
            reason = say(
                "%(contact)s contact: statuses are given to clinic visits only (R2.1)",
                contact=visit.contact,
            )
        if event:
            reason = join([reason, say(
                "Relapse event recorded (%(event)s) at this contact: "
                "record it at a clinic visit to judge it",
                event=_event_word(event),
            )], "; ")
        return VisitStatus(key=visit.key, status="", rule="R2.1", reason=reason)
    if day < 1:
        reason = say("day %(day)s: statuses are given to clinic visits from day 1 on (R2.1)", day=day)
        if event:
            reason = join([reason, say(
                "Relapse event recorded (%(event)s) before day 1 is not judged",
                event=_event_word(event),
            )], "; ")
        return VisitStatus(key=visit.key, status="", rule="R2.1", reason=reason)
    return None


class _StatusWalk:
    """R2.2 and R2.3 for one course's judged clinic visits, taken in date order.

    Holds the R2.3 state between visits: the maintenance phase (from the first
    response on, never ending), the current episode (closed by a relapse, reopened
    by a later response) and its nadir.
    """

    def __init__(self, baseline: int, remission_below: int, response_drop: int, explain: bool = True):
        self.explain = explain  # False: statuses without their reasons (reason "")
        self.baseline = baseline
        self.remission_below = remission_below
        self.response_drop = response_drop
        self.in_phase = False  # on or after the first response visit
        self.in_episode = False  # a maintenance episode is open (CDAI criterion active)
        self.episode_start: date | None = None
        self.nadir: int | None = None
        self.last_relapse: date | None = None

    def judge(self, visit: VisitObs) -> VisitStatus:
        event = visit.relapse_event or ""
        if visit.cdai is None:
            status, reason = "", self._say("no CDAI recorded at this clinic visit: no status (R2.2)")
        elif self.explain:
            status, reason = clinical_status(visit.cdai, self.baseline, self.remission_below, self.response_drop)
        else:
            status, reason = status_of(visit.cdai, self.baseline, self.remission_below, self.response_drop), ""
        nadir_in_force = self.nadir if self.in_episode else None
        opening = ""
        if not self.in_episode and status in (RESPONSE, REMISSION):
            opening = self._open_episode(visit.date)
            nadir_in_force = None
        cdai_relapse = (
            self.in_episode
            and visit.cdai is not None
            and nadir_in_force is not None
            and visit.cdai > self.remission_below
            and visit.cdai > nadir_in_force + self.response_drop
        )
        event_relapse = self.in_phase and bool(event)
        if cdai_relapse or event_relapse:
            if self.explain:
                reason = self._relapse_reason(visit, nadir_in_force, cdai_relapse, event, opening)
            return self._relapse(visit, reason, nadir_in_force)
        notes = self._notes(visit, nadir_in_force, opening, event) if self.explain else []
        if notes:
            reason = join([reason, *notes], "; ")
        result = VisitStatus(
            key=visit.key,
            status=status,
            rule="R2.2",
            reason=reason,
            maintenance=self.in_episode,
            nadir=nadir_in_force,
        )
        if self.in_episode and visit.cdai is not None:
            # Nadir: the lowest CDAI from the episode's first response up to the
            # previous visit (this visit's CDAI counts for the next one).
            self.nadir = visit.cdai if self.nadir is None else min(self.nadir, visit.cdai)
        return result

    def _open_episode(self, when: date) -> Said:
        """R2.3: the first response opens the maintenance phase; after a relapse, a
        visit meeting R2.2 response (against the course baseline) opens a new
        episode and resets the nadir. Returns the note saying which."""
        if self.last_relapse is None:
            opening = self._say("the maintenance phase starts at this first response (R2.3)")
        else:
            opening = self._say(
                "a new maintenance episode starts at this response after the relapse on "
                "%(date)s and the nadir is reset (R2.3)",
                date=self.last_relapse,
            )
        self.in_phase = True
        self.in_episode = True
        self.episode_start = when
        self.nadir = None
        return opening

    def _say(self, msgid: str, **params) -> Said | str:
        """``say``, or "" when the walk is not explaining."""
        return say(msgid, **params) if self.explain else ""

    def _relapse_reason(self, visit, nadir_in_force, cdai_relapse, event, opening) -> Said:
        parts = []
        if cdai_relapse:
            parts.append(say(
                "CDAI %(cdai)s: above %(below)s and %(excess)s above the nadir %(nadir)s "
                "since the response on %(date)s",
                cdai=visit.cdai, below=self.remission_below, excess=visit.cdai - nadir_in_force,
                nadir=nadir_in_force, date=self.episode_start,
            ))
        if event and self.in_phase:
            if self.in_episode:
                parts.append(say(
                    "Relapse event recorded (%(event)s) in the maintenance phase",
                    event=_event_word(event),
                ))
            else:
                parts.append(say(
                    "Relapse event recorded (%(event)s) in the maintenance phase "
                    "(CDAI criterion suspended since the relapse on %(date)s)",
                    event=_event_word(event), date=self.last_relapse,
                ))
        reason = say("%(why)s → relapse (R2.3)", why=_joined(parts))
        if opening:
            reason = join([reason, say(
                "CDAI %(cdai)s meets response (R2.2), so %(opening)s",
                cdai=visit.cdai, opening=opening,
            )], "; ")
        return reason

    def _relapse(self, visit: VisitObs, reason: str, nadir_in_force) -> VisitStatus:
        """The relapse status; the episode closes and the CDAI criterion is suspended."""
        result = VisitStatus(
            key=visit.key,
            status=RELAPSE,
            rule="R2.3",
            reason=reason,
            maintenance=self.in_episode,
            nadir=nadir_in_force,
        )
        self.in_episode = False
        self.nadir = None
        self.last_relapse = visit.date
        return result

    def _notes(self, visit, nadir_in_force, opening, event) -> list[Said]:
        """Why a visit that is not a relapse is not one (R2.3), if it needs saying."""
        notes = []
        if opening:
            notes.append(opening)
        elif self.in_episode and visit.cdai is not None and nadir_in_force is not None:
            if visit.cdai > self.remission_below and visit.cdai > nadir_in_force:
                notes.append(say(
                    "not a relapse: %(excess)s above the nadir %(nadir)s, "
                    "not more than %(drop)s (R2.3)",
                    excess=visit.cdai - nadir_in_force, nadir=nadir_in_force,
                    drop=self.response_drop,
                ))
            elif visit.cdai > self.remission_below:
                notes.append(say(
                    "not a relapse: not above the nadir %(nadir)s (R2.3)", nadir=nadir_in_force
                ))
            else:
                notes.append(say(
                    "not a relapse: not above %(below)s (R2.3)", below=self.remission_below
                ))
        elif self.in_phase and not self.in_episode:
            notes.append(say(
                "the CDAI relapse criterion is suspended since the relapse on "
                "%(date)s until a visit again meets response (R2.3)",
                date=self.last_relapse,
            ))
        if event and not self.in_phase:
            notes.append(say(
                "Relapse event recorded (%(event)s) before any response: "
                "not in the maintenance phase, so not a relapse (R2.3)",
                event=_event_word(event),
            ))
        return notes


def clinical_statuses(**kwargs) -> list[VisitStatus]:
    """R2.2 status and R2.3 relapse for each visit dated on or before ``as_of``: the
    list of ``iter_clinical_statuses`` (its arguments and readings)."""
    return list(iter_clinical_statuses(**kwargs))


def iter_clinical_statuses(
    *,
    visits: list[VisitObs],
    baseline: Baseline,
    start_date: date | None,
    as_of: date,
    remission_below: int,
    response_drop: int,
    explain: bool = True,
):
    """R2.2 status and R2.3 relapse for each visit dated on or before ``as_of``, yielded
    visit by visit (a caller that needs only the first relapse stops there).

    ``explain=False`` gives the same statuses, maintenance flags and nadirs with every
    reason "" (for the cohort report, which reads only the statuses: saying why for each
    visit of a whole network would be most of its work).

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
    if start_date is None or baseline.cdai is None:
        if not explain:
            reason = ""
        elif start_date is None:
            reason = say("no thalidomide start date: statuses are empty (R2.1)")
        else:
            reason = say("no baseline CDAI: statuses are empty (R2.1)")
        for visit in ordered:
            yield VisitStatus(key=visit.key, status="", rule="R2.1", reason=reason)
        return
    walk = _StatusWalk(baseline.cdai, remission_below, response_drop, explain)
    for visit in ordered:
        yield _unjudged(visit, therapy_day(visit.date, start_date), explain) or walk.judge(visit)


# ---------------------------------------------------------------------------
# R2.7 Relapse-risk flags at therapy start
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskFlag:
    rule: str
    code: str
    reason: str


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
                reason=say(
                    "CRP %(crp)s mg/L at loss of response is above %(above)s mg/L: "
                    "higher relapse risk (adjusted HR 4.72, Li 2020) (R2.7)",
                    crp=plain_number(crp_at_lor), above=plain_number(crp_above),
                ),
            )
        )
    if tgn_on_aza_mono is not None and Decimal(str(tgn_on_aza_mono)) >= Decimal(str(tgn_at_least)):
        flags.append(
            RiskFlag(
                rule="R2.7",
                code="tgn_at_least_235_on_aza_monotherapy",
                reason=say(
                    "6-TGN %(tgn)s pmol/8×10⁸ RBC on azathioprine monotherapy is at or above "
                    "%(at_least)s: higher relapse risk (adjusted HR 5.32, Li 2020) (R2.7)",
                    tgn=plain_number(tgn_on_aza_mono), at_least=plain_number(tgn_at_least),
                ),
            )
        )
    return flags
