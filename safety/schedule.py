"""Pure R7 reminder schedule for the care team.

clinical-rules.md R7 ("Reminders for the care team"), with the underlying rules it
points to: R3.2/R3.3 (14-day titration steps), R3.4 (neuropathy, 20 g cumulative
dose), R4.3 (azathioprine blood counts), R5.2 (pregnancy tests), R5.3
(contraception after the stop), R6 (adverse events) and R9.4 (prescriptions).

No Django imports and no clock: a frozen ``PatientRecord`` and an explicit ``as_of``
date in, ``DueReminder`` values out, each carrying its rule id and a plain-language
reason with the dates and numbers a nurse needs. Records dated after ``as_of`` are
ignored everywhere. Dose, pregnancy-test, blood-count and cumulative-dose logic is
reused from ``therapy.rules``, never re-implemented here.

Readings chosen where the spec is open are marked "Ambiguity" below; each is the
reading safest for the patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from thalimon.said import Said, join, say
from therapy.rules.azathioprine import (
    BLOOD_CHECKPOINT_DAYS,
    BLOOD_CHECKPOINT_EVERY_DAYS,
    next_blood_test_due,
)
from therapy.rules.doses import (
    CUMULATIVE_REVIEW_GRAMS,
    MIN_DAYS_BETWEEN_CHANGES,
    DoseRow,
    course_start,
    current_dose,
    date_cumulative_reached,
    day_text,
    fmt,
    iso,
    last_change,
    plural,
    stop_date,
    thalidomide_active,
)
from therapy.rules.pregnancy import (
    PREGNANCY_AFTER_STOP_DAYS,
    PregnancyTest,
    next_pregnancy_test_due,
    pregnancy_test_interval_days,
)
from therapy.rules.prescriptions import (
    EU_PPP,
    PrescriptionRow,
    Programme,
    category_patient,
    prescription_due_reminder,
    programme,
    run_out_supply,
)
from therapy.rules.thalidomide import (
    ADULT,
    ADULT_MAX_MG,
    ThalidomidePatient,
    latest_neuropathy_grade,
)
from therapy.rules.urgent import WITHHOLD, LatestLab

# ---------------------------------------------------------------------------
# Constants (clinical-rules.md R7 defaults)
# ---------------------------------------------------------------------------

# The nine kinds in the order of the R7 table (results are sorted in this order).
KINDS = (
    "dose_step_due",
    "neuropathy_review",
    "pregnancy_test_due",
    "contraception_follow_up",
    "ae_follow_up",
    "blood_test_due",
    "visit_due",
    "cumulative_dose_review",
    "prescription_due",
)
# What resolves each kind.
ACTIONS = {
    "dose_step_due": "dose_change",
    "neuropathy_review": "visit",
    "pregnancy_test_due": "pregnancy_test",
    "contraception_follow_up": "contraception",
    "ae_follow_up": "ae_follow_up",
    "blood_test_due": "blood_test",
    "visit_due": "visit",
    "cumulative_dose_review": "visit",  # closed by a visit recording neurological_review (R3.4)
    "prescription_due": "prescription",  # closed by the next prescription (R9.4)
}
RULE = "R7"

STATUSES = ("active", "died", "transferred", "lost")
CLOSED_STATUSES = ("died", "transferred", "lost")
CONTACTS = ("clinic", "phone")
SEXES = ("M", "F")

OVERDUE_AFTER_DAYS = 7  # overdue when due + 7 days < as_of
# neuropathy_review (R3.4)
NEUROPATHY_REVIEW_GRADE1_DAYS = 28
NEUROPATHY_REVIEW_GRADE2_DAYS = 14  # grade ≥ 2
# contraception_follow_up (R5.3)
CONTRACEPTION_CHECKPOINT_EVERY_DAYS = 30
CONTRACEPTION_COVER_DAYS = 7
# ae_follow_up (R6)
AE_SEVERE_GRADE = 3
AE_FOLLOW_UP_SEVERE_DAYS = 7  # grade ≥ 3
AE_FOLLOW_UP_DAYS = 14  # grade ≤ 2
# visit_due
VISIT_CHECKPOINT_DAYS = (28, 56, 84, 168)
VISIT_CHECKPOINT_EVERY_DAYS = 84
VISIT_COVER_DAYS = 7
# blood_test_due after an R4.4 alert-tier result ("repeat within a week")
REPEAT_WITHIN_DAYS = 7

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitInfo:
    date: date
    contact: str  # "clinic" | "phone"
    neuropathy_grade: int | None = None
    contraception_confirmed: bool | None = None
    neurological_review: bool = False
    breastfeeding: bool | None = None


@dataclass(frozen=True)
class AdverseEventInfo:
    key: str  # the stored AE's id as text; becomes the reminder subject
    term: str
    onset: date
    grade: int  # CTCAE 1–5
    resolved: date | None = None
    follow_up_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class PatientRecord:
    patient: str  # patient code
    sex: str  # "M" | "F"
    female_of_reproductive_potential: bool
    irregular_cycles: bool | None  # None = unknown = irregular (R5.2)
    status: str = "active"  # "active" | "died" | "transferred" | "lost"
    status_date: date | None = None  # no reminders from that date (R7)
    # The effective target (R3.2 adult: recorded, default 100; R3.3 child: the cap), as the
    # dose page computes it; None when it cannot be set (a child without a recent weight).
    target_dose_mg: Decimal | None = None
    thalidomide: tuple[DoseRow, ...] = ()
    azathioprine: tuple[DoseRow, ...] = ()
    visits: tuple[VisitInfo, ...] = ()
    pregnancy_tests: tuple[PregnancyTest, ...] = ()
    blood_count_dates: tuple[date, ...] = ()  # dates with a WBC result (R4.3)
    adverse_events: tuple[AdverseEventInfo, ...] = ()
    # The latest result of each R4.4 test with its alert tier (repeat reminders, urgent events).
    latest_labs: tuple[LatestLab, ...] = ()
    # R9.4: the thalidomide prescriptions and the programme profile in force (None: eu_ppp).
    prescriptions: tuple[PrescriptionRow, ...] = ()
    prescription_programme: Programme | None = None
    # R5.3 P (configurable: RuleSettings.contraception_period_days), required keyword
    contraception_period_days: int = field(kw_only=True)


@dataclass(frozen=True)
class DueReminder:
    patient: str
    kind: str  # one of KINDS
    due: date
    subject: str  # the AE key for ae_follow_up, "" otherwise
    rule: str  # "R7" (the underlying rule is named in the reason, e.g. R5.2)
    reason: str  # a ``Said`` (thalimon.said): English as text, said in the reader's language
    action: str  # what resolves it: one of ACTIONS' values


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def validate_record(record: PatientRecord) -> None:
    """Refuse values that would silently change a schedule (a typo must never drop one)."""
    if record.sex not in SEXES:
        raise ValueError(f"sex must be 'M' or 'F', got {record.sex!r}")
    if record.status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {record.status!r}")
    period = record.contraception_period_days
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise ValueError(f"contraception_period_days must be a positive integer, got {period!r}")
    for visit in record.visits:
        if visit.contact not in CONTACTS:
            raise ValueError(
                f"contact of the visit on {iso(visit.date)} must be 'clinic' or 'phone', "
                f"got {visit.contact!r}"
            )
        grade = visit.neuropathy_grade
        if grade is not None and not 0 <= int(grade) <= 4:
            raise ValueError(f"neuropathy grade on {iso(visit.date)} must be 0–4, got {grade}")
    for event in record.adverse_events:
        if not 1 <= int(event.grade) <= 5:
            raise ValueError(
                f"CTCAE grade of adverse event {event.key} must be 1–5, got {event.grade}"
            )


def record_as_of(record: PatientRecord, as_of: date) -> PatientRecord:
    """The record as it stood on ``as_of``: everything dated after it is dropped.

    An adverse event with an onset after ``as_of`` is dropped; a resolution date after
    ``as_of`` is not yet known, so the event is still open.
    """
    events = []
    for event in record.adverse_events:
        if event.onset > as_of:
            continue
        resolved = event.resolved if event.resolved is not None and event.resolved <= as_of else None
        follow_ups = tuple(when for when in event.follow_up_dates if when <= as_of)
        events.append(replace(event, resolved=resolved, follow_up_dates=follow_ups))
    return replace(
        record,
        thalidomide=tuple(row for row in record.thalidomide if row.date <= as_of),
        azathioprine=tuple(row for row in record.azathioprine if row.date <= as_of),
        visits=tuple(visit for visit in record.visits if visit.date <= as_of),
        pregnancy_tests=tuple(test for test in record.pregnancy_tests if test.date <= as_of),
        blood_count_dates=tuple(when for when in record.blood_count_dates if when <= as_of),
        adverse_events=tuple(events),
        latest_labs=tuple(lab for lab in record.latest_labs if lab.date <= as_of),
        prescriptions=tuple(p for p in record.prescriptions if p.issue_date <= as_of),
    )


def clinic_visits(record: PatientRecord) -> list[VisitInfo]:
    return [visit for visit in record.visits if visit.contact == "clinic"]


def latest_grade(record: PatientRecord, as_of: date) -> tuple[date, int] | None:
    """R3.4 latest neuropathy grade on ``as_of`` and the date of that clinic visit.

    Reuses ``thalidomide.latest_neuropathy_grade`` (two the same day → the higher). Only
    clinic visits are graded (Conventions, R3.4; the visit form refuses a grade at a
    phone contact), so a grade passed in on a phone contact is not an assessment.
    The ThalidomidePatient is built only to carry the grades: the regimen and the
    other fields are not read by ``latest_neuropathy_grade``.
    """
    grades = tuple(
        (visit.date, int(visit.neuropathy_grade))
        for visit in clinic_visits(record)
        if visit.neuropathy_grade is not None
    )
    patient = ThalidomidePatient(
        regimen=ADULT,
        target_dose_mg=record.target_dose_mg,
        sex=record.sex,
        female_of_reproductive_potential=record.female_of_reproductive_potential,
        irregular_cycles=record.irregular_cycles,
        contraception_start=None,
        neuropathy=grades,
        pregnancy_tests=record.pregnancy_tests,
    )
    grade = latest_neuropathy_grade(patient, as_of)
    if grade is None:
        return None
    return max(when for when, _ in grades if when <= as_of), grade


def _target_mg(record: PatientRecord) -> Decimal | None:
    """The effective target dose given by the caller, never above the 100 mg maximum (R3.2).

    None (a child's cap cannot be set without a recent weight) prompts no step: the safer
    reading — the ``visit_due`` reminder brings the child in to be weighed.
    """
    if record.target_dose_mg is None:
        return None
    return min(Decimal(str(record.target_dose_mg)), ADULT_MAX_MG)


def _first_checkpoint_after(
    anchor: date, days, every: int, latest: date | None, cover_days: int
) -> date:
    """The first checkpoint anchor + day more than ``cover_days`` after ``latest``."""
    day = 0
    for day in days:
        checkpoint = anchor + timedelta(days=day)
        if latest is None or (checkpoint - latest).days > cover_days:
            return checkpoint
    while True:
        day += every
        checkpoint = anchor + timedelta(days=day)
        if latest is None or (checkpoint - latest).days > cover_days:
            return checkpoint


# ---------------------------------------------------------------------------
# The eight kinds (each takes the record already cut at as_of)
# ---------------------------------------------------------------------------


def _dose_step_due(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Thalidomide active, current dose below target, latest neuropathy grade 0.

    Due = last thalidomide dose change + 14 days (a continuation is not a change).
    Ambiguity: with no neuropathy grade ever recorded there is no reminder: "no grade"
    is not grade 0, and a step-up before neuropathy is assessed is exactly what R3.4
    guards against (as in ``thalidomide.suggest_next_step``). The ``visit_due`` reminder
    brings the patient to a clinic visit, where the grade is recorded.
    """
    rows = record.thalidomide
    if not thalidomide_active(rows, as_of):
        return []
    dose = current_dose(rows, as_of)
    target = _target_mg(record)
    if target is None or dose >= target:
        return []
    latest = latest_grade(record, as_of)
    if latest is None or latest[1] != 0:
        return []
    change = last_change(rows, as_of)
    due = change.date + timedelta(days=MIN_DAYS_BETWEEN_CHANGES)
    return [(due, "", say(
        "Dose step due: last dose change %(change)s at %(dose)s mg; target %(target)s mg; "
        "step allowed from %(due)s (last change + %(days)s, R3.2/R3.3); latest neuropathy "
        "grade 0 at the clinic visit of %(visit)s (R3.4) (R7).",
        change=change.date, dose=fmt(change.dose_mg), target=fmt(target), due=due,
        days=plural(MIN_DAYS_BETWEEN_CHANGES, "day"), visit=latest[0],
    ))]


def _neuropathy_review(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Latest grade ≥ 1 (not resolved: resolved means latest grade 0).

    Due = that assessment + 28 days (grade 1) or + 14 days (grade ≥ 2). Thalidomide
    need not be active: an unresolved neuropathy is followed after the stop too.
    """
    latest = latest_grade(record, as_of)
    if latest is None or latest[1] == 0:
        return []
    when, grade = latest
    interval = NEUROPATHY_REVIEW_GRADE1_DAYS if grade == 1 else NEUROPATHY_REVIEW_GRADE2_DAYS
    due = when + timedelta(days=interval)
    why = say("grade 1: 28 days") if grade == 1 else say("grade ≥ 2: 14 days")
    consequence = (say("thalidomide must be stopped at grade ≥ 3") if grade >= 3
                   else say("no dose increase and an adult dose ≤ 50 mg until grade 0"))
    return [(due, "", say(
        "Neuropathy review due %(due)s: latest neuropathy grade %(grade)s at the clinic "
        "visit of %(visit)s, not resolved (resolved = grade 0); review %(interval)s "
        "after that assessment (%(why)s); %(consequence)s (R3.4) (R7).",
        due=due, grade=grade, visit=when, interval=plural(interval, "day"), why=why,
        consequence=consequence,
    ))]


def _pregnancy_test_due(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Female of reproductive potential, thalidomide active or stopped (one test at stop + 28).

    The due date is ``pregnancy.next_pregnancy_test_due`` (R5.2); once the due test is
    recorded it moves to the next one. Only female patients are tested (R3.5: males are
    never tested; the test form refuses them), so a record with sex "M" gets none.
    """
    if record.sex != "F" or not record.female_of_reproductive_potential:
        return []
    rows = record.thalidomide
    start = course_start(rows, as_of)
    stop = stop_date(rows, as_of)
    due = next_pregnancy_test_due(
        tests=record.pregnancy_tests,
        start=start,
        stop=stop,
        as_of=as_of,
        irregular_cycles=record.irregular_cycles,
    )
    if due is None:
        return []
    if stop is not None:
        return [(due, "", say(
            "Pregnancy test due %(due)s: thalidomide stopped %(stop)s (first day without the "
            "drug); one more test is due %(days)s after the stop, on %(due)s (R5.2) (R7).",
            due=due, stop=stop, days=plural(PREGNANCY_AFTER_STOP_DAYS, "day"),
        ))]
    tests = sorted((test.date, str(test.result).strip().lower()) for test in record.pregnancy_tests)
    if not tests:
        return [(due, "", say(
            "Pregnancy test due %(due)s: thalidomide course started %(start)s and no "
            "pregnancy test is recorded; a test is due at the start (R5.2) (R7).",
            due=due, start=start,
        ))]
    latest = tests[-1][0]
    if any(result == "positive" for when, result in tests if when == latest):
        return [(due, "", say(
            "Pregnancy test due %(due)s: the test of %(test)s is positive with no later "
            "negative test; thalidomide must stop at once and the clinician is alerted "
            "(R5.2) (R7).", due=due, test=latest,
        ))]
    interval = pregnancy_test_interval_days(
        last_test=latest, start=start, irregular_cycles=record.irregular_cycles
    )
    day = (latest - start).days
    if day < 28:
        why = say("weekly while the last test is before day 28")
    elif record.irregular_cycles is False:
        why = say("from day 28, regular cycles")
    elif record.irregular_cycles is None:
        why = say("from day 28, cycles unknown (counted as irregular)")
    else:
        why = say("from day 28, irregular cycles")
    return [(due, "", say(
        "Pregnancy test due %(due)s: last negative test %(test)s (%(day)s of the course "
        "started %(start)s) + %(interval)s (%(why)s) (R5.2) (R7).",
        due=due, test=latest, day=day_text(day), start=start,
        interval=plural(interval, "day"), why=why,
    ))]


def _contraception_follow_up(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Female of reproductive potential or any male, thalidomide stopped less than P days ago.

    Checkpoints stop + 30k days while 30k ≤ P; due = the first checkpoint more than 7 days
    after the last contraception confirmation on or after the stop (clinic or phone),
    the first checkpoint with none; no reminder when no checkpoint is left.
    Ambiguity: only a "yes" (``contraception_confirmed is True``) is a confirmation. A
    "no" means contraception is not in place, so it must not close or postpone the
    follow-up: the reminder stays on its (usually already passed) checkpoint and
    escalates, and its reason names the "no". Not recorded (None) is no confirmation.
    """
    is_female_at_risk = record.sex == "F" and record.female_of_reproductive_potential
    if record.sex != "M" and not is_female_at_risk:
        return []
    stop = stop_date(record.thalidomide, as_of)
    if stop is None:
        return []
    period = record.contraception_period_days
    if (as_of - stop).days >= period:
        return []
    after_stop = [visit for visit in record.visits if visit.date >= stop]
    confirmed = [visit.date for visit in after_stop if visit.contraception_confirmed is True]
    last = max(confirmed) if confirmed else None
    due = None
    k = 1
    while CONTRACEPTION_CHECKPOINT_EVERY_DAYS * k <= period:
        checkpoint = stop + timedelta(days=CONTRACEPTION_CHECKPOINT_EVERY_DAYS * k)
        if last is None or (checkpoint - last).days > CONTRACEPTION_COVER_DAYS:
            due = checkpoint
            break
        k += 1
    if due is None:
        return []
    methods = say("two methods, one highly effective") if record.sex == "F" else say("condoms")
    confirmation = (say("no contraception confirmation recorded since the stop") if last is None
                    else say("last contraception confirmed %(date)s", date=last))
    refused = [visit for visit in after_stop
               if visit.contraception_confirmed is False and (last is None or visit.date > last)]
    if refused:
        latest_no = max(refused, key=lambda visit: visit.date)
        refusal = (say("contraception NOT confirmed at the clinic visit of %(date)s (a 'no' is not "
                       "a confirmation): follow up now", date=latest_no.date)
                   if latest_no.contact == "clinic" else
                   say("contraception NOT confirmed at the phone contact of %(date)s (a 'no' is not "
                       "a confirmation): follow up now", date=latest_no.date))
        confirmation = join([confirmation, refusal], "; ")
    return [(due, "", say(
        "Contraception follow-up due %(due)s (stop + %(elapsed)s): thalidomide stopped "
        "%(stop)s; contraception (%(methods)s) continues for %(period)s after the stop, "
        "checked every %(every)s; %(confirmation)s (R5.3) (R7).",
        due=due, elapsed=plural((due - stop).days, "day"), stop=stop, methods=methods,
        period=plural(period, "day"), every=plural(CONTRACEPTION_CHECKPOINT_EVERY_DAYS, "day"),
        confirmation=confirmation,
    ))]


def _ae_follow_up(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """One per adverse event not resolved as of ``as_of`` (subject = its key).

    Due = max(onset, its latest follow-up note, the latest clinic visit on or after
    onset) + 7 days (grade ≥ 3) or + 14 days (grade ≤ 2). A phone contact is not a
    "visit" (Conventions); a phone follow-up is recorded as a follow-up note.
    """
    found = []
    clinic_dates = [visit.date for visit in clinic_visits(record)]
    for event in record.adverse_events:
        if event.resolved is not None:
            continue
        grade = int(event.grade)
        anchors = [(event.onset, say("onset"))]
        if event.follow_up_dates:
            anchors.append((max(event.follow_up_dates), say("follow-up note")))
        visits = [when for when in clinic_dates if when >= event.onset]
        if visits:
            anchors.append((max(visits), say("clinic visit")))
        # max() keeps the first of equal dates: onset, then note, then visit.
        anchor, what = max(anchors, key=lambda pair: pair[0])
        interval = AE_FOLLOW_UP_SEVERE_DAYS if grade >= AE_SEVERE_GRADE else AE_FOLLOW_UP_DAYS
        due = anchor + timedelta(days=interval)
        why = say("grade ≥ 3: 7 days") if grade >= AE_SEVERE_GRADE else say("grade ≤ 2: 14 days")
        found.append((due, str(event.key), say(
            "Adverse event follow-up due %(due)s: %(term)s (grade %(grade)s, onset %(onset)s) "
            "not resolved; last follow-up: %(what)s %(anchor)s, + %(interval)s (%(why)s) "
            "(R6) (R7).",
            due=due, term=event.term, grade=grade, onset=event.onset, what=what, anchor=anchor,
            interval=plural(interval, "day"), why=why,
        )))
    return found


def _blood_test_due(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Azathioprine active: ``azathioprine.next_blood_test_due`` (R4.3); and the R4.4
    repeats: a result at an alert tier whose test has no later result is repeated
    within a week (due on its date + 7 days; one reminder per due date)."""
    found = {due: reason for due, _, reason in _blood_test_schedule(record, as_of)}
    for due, reason in _blood_test_repeats(record, as_of).items():
        found[due] = join([found[due], reason], " ") if due in found else reason
    return [(due, "", found[due]) for due in sorted(found)]


def _repeat_text(lab: LatestLab) -> Said:
    """One R4.4 result to repeat, at its tier ("review" or "withhold")."""
    if lab.tier == WITHHOLD:
        return say("%(test)s of %(date)s at the withhold level", test=lab.test.upper(), date=lab.date)
    return say("%(test)s of %(date)s at the review level", test=lab.test.upper(), date=lab.date)


def _blood_test_repeats(record: PatientRecord, as_of: date) -> dict[date, Said]:
    """R4.4 "repeat within a week": {due date: reason} for the latest results at an alert tier,
    while azathioprine is active (R7's condition for ``blood_test_due``); the repeat
    result of the same test resolves it.
    """
    if not thalidomide_active(record.azathioprine, as_of):  # the generic "drug active on d" rule
        return {}
    repeats: dict[date, list[LatestLab]] = {}
    for lab in record.latest_labs:
        if lab.tier is not None:
            repeats.setdefault(lab.date + timedelta(days=REPEAT_WITHIN_DAYS), []).append(lab)
    return {
        due: say(
            "Repeat blood test due %(due)s: %(results)s — repeat within %(days)s (R4.4) (R7).",
            due=due, results=join([_repeat_text(lab) for lab in labs], "; "),
            days=plural(REPEAT_WITHIN_DAYS, "day"),
        )
        for due, labs in repeats.items()
    }


def _blood_test_schedule(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Azathioprine active: ``azathioprine.next_blood_test_due`` (R4.3)."""
    rows = record.azathioprine
    due = next_blood_test_due(
        aza_history=rows, blood_count_dates=record.blood_count_dates, as_of=as_of
    )
    if due is None:
        return []
    anchor = last_change(rows, as_of)
    earlier = [row for row in rows if row.date < anchor.date and Decimal(str(row.dose_mg)) > 0]
    dose = fmt(anchor.dose_mg)
    anchor_text = (
        say("last azathioprine dose change %(date)s to %(dose)s mg", date=anchor.date, dose=dose)
        if earlier
        else say("azathioprine started %(date)s at %(dose)s mg", date=anchor.date, dose=dose)
    )
    counts = [when for when in record.blood_count_dates if when >= anchor.date]
    count_text = (say("last blood count %(date)s", date=max(counts)) if counts
                  else say("no blood count since then"))
    return [(due, "", say(
        "Blood test due %(due)s (day %(day)s after the %(anchor)s): checkpoints day "
        "%(checkpoints)s, then every %(every)s; %(blood_count)s (R4.3) (R7).",
        due=due, day=(due - anchor.date).days, anchor=anchor_text,
        checkpoints=join([str(day) for day in BLOOD_CHECKPOINT_DAYS], ", "),
        every=plural(BLOOD_CHECKPOINT_EVERY_DAYS, "day"), blood_count=count_text,
    ))]


def _visit_due(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Thalidomide active: checkpoints day 28, 56, 84, 168, then every 84 days of the course.

    Due = the first checkpoint more than 7 days after the last clinic visit (phone
    contacts do not count); the first checkpoint with none. Day 0 is the start of the
    current course (a restart more than 28 days after a stop starts a new one, R3.1).
    """
    rows = record.thalidomide
    if not thalidomide_active(rows, as_of):
        return []
    start = course_start(rows, as_of)
    clinic_dates = [visit.date for visit in clinic_visits(record)]
    last = max(clinic_dates) if clinic_dates else None
    due = _first_checkpoint_after(start, VISIT_CHECKPOINT_DAYS, VISIT_CHECKPOINT_EVERY_DAYS, last,
                                  VISIT_COVER_DAYS)
    last_text = (say("last clinic visit %(date)s", date=last) if last is not None
                 else say("no clinic visit recorded"))
    return [(due, "", say(
        "Clinic visit due %(due)s (%(day)s of the thalidomide course started %(start)s): "
        "checkpoints day %(checkpoints)s, then every %(every)s; %(last_visit)s "
        "(phone contacts do not count) (R7).",
        due=due, day=day_text((due - start).days), start=start,
        checkpoints=join([str(day) for day in VISIT_CHECKPOINT_DAYS], ", "),
        every=plural(VISIT_CHECKPOINT_EVERY_DAYS, "day"), last_visit=last_text,
    ))]


def _cumulative_dose_review(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Cumulative thalidomide ≥ 20 g and no neurological review since reaching it (R3.4).

    Due = ``doses.date_cumulative_reached`` (each daily dose from its change date,
    that day included; lifetime total over all courses). The review is a clinic visit
    recording ``neurological_review`` (a phone contact cannot review nerves).
    Ambiguity: a review ON the date 20 g is reached counts as "after reaching it":
    that date is by definition the day on which the total taken is 20 g.
    """
    reached = date_cumulative_reached(record.thalidomide, CUMULATIVE_REVIEW_GRAMS, as_of=as_of)
    if reached is None:
        return []
    if any(visit.neurological_review and visit.date >= reached for visit in clinic_visits(record)):
        return []
    return [(reached, "", say(
        "Neurological review due: cumulative thalidomide reached %(grams)s g on %(date)s and "
        "no clinic visit since then records a neurological review (nerve conduction study at "
        "the clinician's discretion) (R3.4) (R7).",
        grams=fmt(CUMULATIVE_REVIEW_GRAMS), date=reached,
    ))]


def _prescription_due(record: PatientRecord, as_of: date) -> list[tuple[date, str, str]]:
    """Thalidomide active and a prescription in the course: R9.4, run-out date − 7 days
    (``prescriptions.run_out_supply``; the next prescription resolves it)."""
    patient = category_patient(
        sex=record.sex, female_of_reproductive_potential=record.female_of_reproductive_potential
    )
    latest = run_out_supply(
        patient, doses=record.thalidomide, prescriptions=record.prescriptions,
        programme=record.prescription_programme or programme(EU_PPP), as_of=as_of,
    )
    found = prescription_due_reminder(latest, as_of)
    return [] if found is None else [(found[0], "", found[1])]


_BUILDERS = {
    "dose_step_due": _dose_step_due,
    "neuropathy_review": _neuropathy_review,
    "pregnancy_test_due": _pregnancy_test_due,
    "contraception_follow_up": _contraception_follow_up,
    "ae_follow_up": _ae_follow_up,
    "blood_test_due": _blood_test_due,
    "visit_due": _visit_due,
    "cumulative_dose_review": _cumulative_dose_review,
    "prescription_due": _prescription_due,
}

# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------


def reminders(record: PatientRecord, as_of: date) -> list[DueReminder]:
    """R7: every reminder whose condition holds as of ``as_of``, with its due date.

    The due date may lie after ``as_of`` (the inbox also shows the next 7 days). One
    per kind per patient, except ``ae_follow_up``: one per unresolved adverse event.
    Sorted by (kind in the R7 table's order, due, subject).

    No reminders at all when the patient is died/transferred/lost with a status date
    on or before ``as_of``. Ambiguity: such a status without a status date (the
    patient form requires one) keeps the reminders: a missing date must never
    silence them.
    """
    validate_record(record)
    closed = record.status in CLOSED_STATUSES and record.status_date is not None
    if closed and record.status_date <= as_of:
        return []
    seen = record_as_of(record, as_of)
    found = []
    for kind in KINDS:
        found += [
            DueReminder(record.patient, kind, due, subject, RULE, reason, ACTIONS[kind])
            for due, subject, reason in _BUILDERS[kind](seen, as_of)
        ]
    found.sort(key=lambda reminder: (KINDS.index(reminder.kind), reminder.due, reminder.subject))
    return found


def is_due(reminder: DueReminder, as_of: date) -> bool:
    """R7: due when its due date ≤ ``as_of``."""
    return reminder.due <= as_of


def is_overdue(reminder: DueReminder, as_of: date) -> bool:
    """R7: overdue when due date + 7 days < ``as_of`` (escalated to the clinician)."""
    return reminder.due + timedelta(days=OVERDUE_AFTER_DAYS) < as_of


def overdue_before(as_of: date) -> date:
    """R7: reminders due before this date are overdue on ``as_of`` (due + 7 days < as_of)."""
    return as_of - timedelta(days=OVERDUE_AFTER_DAYS)
