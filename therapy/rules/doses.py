"""Pure dose-history rules shared by the thalidomide and azathioprine modules.

clinical-rules.md R3.1 (dose records: course start, stop, current dose, what counts
as a change, the kind of each row) and the cumulative dose of R3.4 / R7
``cumulative_dose_review``.

No Django imports and no clock: plain values in (frozen dataclasses, ``Decimal``
doses and weights, explicit dates). Records dated after the date being judged are
ignored everywhere. Only reported figures are rounded, half up.

The number and text helpers below are public because the other rule modules in
this package share them (no module imports another's private names).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from thalimon.said import Said, as_clause, say, say_n

# ---------------------------------------------------------------------------
# Constants (clinical-rules.md defaults)
# ---------------------------------------------------------------------------

# R3.1 / R3.2 / R3.3
MIN_DAYS_BETWEEN_CHANGES = 14
RESTART_AFTER_DAYS = 28  # a non-zero row MORE than this many days after the stop is a new start
# R3.4 / R7 cumulative_dose_review
CUMULATIVE_REVIEW_GRAMS = Decimal("20")

ZERO = Decimal("0")
ONE = Decimal("1")
CENT = Decimal("0.01")


class ChangeKind:
    FIRST_DOSE = "first_dose"
    RESTART = "restart"
    INCREASE = "increase"
    DECREASE = "decrease"
    STOP = "stop"
    CONTINUATION = "continuation"
    ALL = (FIRST_DOSE, RESTART, INCREASE, DECREASE, STOP, CONTINUATION)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRow:
    """One dated dose record of ONE drug; 0 mg = stopped (the first day without it)."""

    date: date
    dose_mg: Decimal


@dataclass(frozen=True)
class Finding:
    """A deviation (R3.5 code) or a warning, with its rule id and reason."""

    code: str
    rule: str
    reason: str
    urgent: bool = False


Deviation = Finding

# ---------------------------------------------------------------------------
# Number and text helpers (shared by the rule modules)
# ---------------------------------------------------------------------------


def decimal_of(value, what: str = "value") -> Decimal:
    """A dose or weight as Decimal (str() first, so a float keeps its written digits)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError) as error:
            raise ValueError(f"{what} must be a number, got {value!r}") from error
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def dose_of(value) -> Decimal:
    """A dose in mg as Decimal; negative doses are refused."""
    dose = decimal_of(value, "dose_mg")
    if dose < 0:
        raise ValueError(f"dose_mg must not be negative, got {value!r}")
    return dose


def fmt(value) -> str:
    """A number as a clinician writes it: 25, 37.5, 0.35 (no exponent, no trailing zeros)."""
    number = decimal_of(value).normalize()
    text = format(number, "f")
    return "0" if text in ("-0", "") else text


def clean_decimal(value: Decimal) -> Decimal:
    """The same number without trailing zeros or exponent (120.000 → 120, 49.50 → 49.5)."""
    if value == value.to_integral_value():
        return value.quantize(ONE)
    return value.normalize()


def iso(day: date) -> str:
    return day.isoformat()


def day_text(number: int) -> Said:
    """Day N of therapy with a real minus sign (day −12), as clinicians read it in print."""
    return say("day −%(number)s", number=-number) if number < 0 else say("day %(number)s", number=number)


def clause(reason, rule: str) -> Said:
    """A reason as a clause of a longer one: no trailing "(rule).", lower-case first letter."""
    return as_clause(reason, rule)


def plural(count: int, word: str) -> Said:
    """``count`` days, in words ("1 day", "3 days"); days are the only counted word of the rules."""
    if word != "day":
        raise ValueError(f"no plural form is written for {word!r}")
    return say_n("%(count)s day", "%(count)s days", count)


def is_multiple(value: Decimal, of: Decimal) -> bool:
    return value % of == 0


def floor_to(value: Decimal, multiple: Decimal) -> Decimal:
    return (value / multiple).to_integral_value(rounding=ROUND_FLOOR) * multiple


def round_half_up_to(value: Decimal, multiple: Decimal) -> Decimal:
    return (value / multiple).to_integral_value(rounding=ROUND_HALF_UP) * multiple


def latest_weight(weights, on: date, max_age_days: int) -> tuple[date, Decimal] | None:
    """The latest weight dated on or before ``on`` and at most ``max_age_days`` old.

    Ambiguity: two weights the same day → the lower (it gives the lower dose limit).
    """
    recent = [
        (when, decimal_of(kg, "weight"))
        for when, kg in weights
        if when <= on and (on - when).days <= max_age_days
    ]
    if not recent:
        return None
    latest = max(when for when, _ in recent)
    return latest, min(kg for when, kg in recent if when == latest)


# ---------------------------------------------------------------------------
# Dose-history helpers (lists of rows in date order)
# ---------------------------------------------------------------------------


def rows_until(history: Iterable[DoseRow], *, on: date, inclusive: bool = True) -> list[DoseRow]:
    """Rows dated on or before ``on`` (or strictly before), in date order.

    The sort is stable: two rows on the same date (which the stored natural key
    patient + drug + date rules out) keep their given order, the later one wins.
    """
    kept = [row for row in history if (row.date <= on if inclusive else row.date < on)]
    kept.sort(key=lambda row: row.date)
    return [DoseRow(date=row.date, dose_mg=dose_of(row.dose_mg)) for row in kept]


def dose_changes(rows: list[DoseRow]) -> list[DoseRow]:
    """Rows that changed the dose in force (the first non-zero row included).

    A row at the same dose as the one in force is a continuation, not a change
    (R3.1); a 0 mg row after a 0 mg row changes nothing either.
    """
    changes = []
    in_force = ZERO
    for row in rows:
        if row.dose_mg != in_force:
            changes.append(row)
        in_force = row.dose_mg
    return changes


def stop_of(rows: list[DoseRow]) -> date | None:
    """The stop date (first day without drug) if the latest row is 0 after a non-zero row."""
    if not rows or rows[-1].dose_mg != 0:
        return None
    stop = None
    for row in reversed(rows):
        if row.dose_mg > 0:
            return stop
        stop = row.date
    return None  # only 0 mg rows: never started


def course_starts_of(rows: list[DoseRow]) -> list[date]:
    """R3.1: every course start of rows in date order: the first non-zero row, and each
    non-zero row MORE than 28 days after a stop (a restart), in date order."""
    starts: list[date] = []
    stop = None
    in_force = ZERO
    for row in rows:
        if row.dose_mg > 0 and in_force == 0:
            if not starts or (stop is not None and (row.date - stop).days > RESTART_AFTER_DAYS):
                starts.append(row.date)
            stop = None
        elif row.dose_mg == 0 and in_force > 0:
            stop = row.date
        in_force = row.dose_mg
    return starts


def course_start_of(rows: list[DoseRow]) -> date | None:
    """R3.1: first non-zero row, or the latest non-zero row MORE than 28 days after a stop."""
    starts = course_starts_of(rows)
    return starts[-1] if starts else None


def last_nonzero(rows: list[DoseRow]) -> Decimal | None:
    for row in reversed(rows):
        if row.dose_mg > 0:
            return row.dose_mg
    return None


# ---------------------------------------------------------------------------
# R3.1 dose records
# ---------------------------------------------------------------------------


def current_dose(history: Iterable[DoseRow], on: date) -> Decimal:
    """R3.1: the dose of the latest row on or before ``on``; 0 if there is none."""
    rows = rows_until(history, on=on)
    return rows[-1].dose_mg if rows else ZERO


def last_change(history: Iterable[DoseRow], on: date) -> DoseRow | None:
    """The latest row on or before ``on`` that changed the dose (continuations don't count).

    Starts, restarts, increases, decreases and stops are all changes, so each of
    them restarts the 14-day clock of R3.2/R3.3.
    """
    changes = dose_changes(rows_until(history, on=on))
    return changes[-1] if changes else None


def thalidomide_active(history: Iterable[DoseRow], on: date) -> bool:
    """R3.1: active on ``on`` when start ≤ on and the latest row on or before it is above 0."""
    return current_dose(history, on) > 0


def course_start(history: Iterable[DoseRow], on: date) -> date | None:
    """Start of the current (or latest) course on ``on``: the first row, or the latest restart.

    A non-zero row within 28 days of a stop resumes the same course (R3.1).
    Ambiguity: a leading 0 mg row (nothing to stop) is not a course start; the first
    non-zero row is.
    """
    return course_start_of(rows_until(history, on=on))


def stop_date(history: Iterable[DoseRow], on: date) -> date | None:
    """If stopped on ``on``: the first day without drug of the latest stop (its first 0 row)."""
    return stop_of(rows_until(history, on=on))


def classify_change(prior: list[DoseRow], proposed: DoseRow) -> tuple[str, Decimal | None, Said]:
    """R3.1: (kind, reference dose for the step, plain-language description) of a
    dose row against the rows dated before it (``prior``, in date order).

    Ambiguity: after a stop, a non-zero row within 28 days is "checked as an increase
    from the last non-zero dose" (kind ``increase``) whatever its size. The step rules
    judge only the amount above that last dose (resuming at or below it steps nothing
    up), but, as the patient goes from no drug to drug, it needs pregnancy-test cover
    like any increase and it restarts the 14-day clock.
    """
    dose, on = proposed.dose_mg, proposed.date
    in_force = prior[-1].dose_mg if prior else ZERO
    previous_nonzero = last_nonzero(prior)
    mg, was = fmt(dose), fmt(in_force)
    if dose == 0 and in_force > 0:
        said = say("Stop from %(dose)s mg on %(date)s", dose=was, date=on)
        return ChangeKind.STOP, in_force, said
    if dose == 0:
        return ChangeKind.CONTINUATION, in_force, say("0 mg on %(date)s: already stopped", date=on)
    if previous_nonzero is None:
        said = say("First dose %(dose)s mg on %(date)s", dose=mg, date=on)
        return ChangeKind.FIRST_DOSE, None, said
    if in_force == 0:
        return _after_stop(prior, proposed, previous_nonzero)
    if dose == in_force:
        said = say("Continuation at %(dose)s mg on %(date)s (not a change)", dose=mg, date=on)
        return ChangeKind.CONTINUATION, in_force, said
    if dose < in_force:
        said = say(
            "Decrease from %(previous)s to %(dose)s mg on %(date)s", previous=was, dose=mg, date=on
        )
        return ChangeKind.DECREASE, in_force, said
    said = say(
        "Increase from %(previous)s to %(dose)s mg on %(date)s", previous=was, dose=mg, date=on
    )
    return ChangeKind.INCREASE, in_force, said


def _after_stop(
    prior: list[DoseRow], proposed: DoseRow, previous_nonzero: Decimal
) -> tuple[str, Decimal, Said]:
    """R3.1: a non-zero row after a stop: a restart (> 28 days) or an increase (≤ 28 days)."""
    dose, on = proposed.dose_mg, proposed.date
    stop = stop_of(prior)
    gap = (on - stop).days
    if gap > RESTART_AFTER_DAYS:
        said = say(
            "Restart at %(dose)s mg on %(date)s, %(gap)s days after the stop on %(stop)s "
            "(more than %(limit)s days: checked as a new start)",
            dose=fmt(dose),
            date=on,
            gap=gap,
            stop=stop,
            limit=RESTART_AFTER_DAYS,
        )
        return ChangeKind.RESTART, ZERO, said
    said = say(
        "Resumed at %(dose)s mg on %(date)s, %(gap)s after the stop on %(stop)s "
        "(within %(limit)s days: checked as an increase from the last dose, "
        "%(previous)s mg)",
        dose=fmt(dose),
        date=on,
        gap=plural(gap, "day"),  # "1 day" (a resumption the day after the stop)
        stop=stop,
        limit=RESTART_AFTER_DAYS,
        previous=fmt(previous_nonzero),
    )
    return ChangeKind.INCREASE, previous_nonzero, said


# ---------------------------------------------------------------------------
# Cumulative dose (R3.4, R7 cumulative_dose_review)
# ---------------------------------------------------------------------------


def _segments(rows: list[DoseRow], until: date | None) -> Iterator[tuple[DoseRow, int | None]]:
    """(row, number of days its dose is taken) — that day included, up to the next row.

    ``None`` days = open-ended (last row, no ``until``).
    """
    for index, row in enumerate(rows):
        if index + 1 < len(rows):
            end = rows[index + 1].date - timedelta(days=1)
        elif until is not None:
            end = until
        else:
            yield row, None
            return
        yield row, max((end - row.date).days + 1, 0)


def cumulative_dose_g(history: Iterable[DoseRow], up_to: date) -> Decimal:
    """R3.4/R7: grams taken, each daily dose from its row's date (that day included)
    up to and including ``up_to``. Exact (not rounded): round only for display."""
    total_mg = sum(
        (row.dose_mg * days for row, days in _segments(rows_until(history, on=up_to), up_to)),
        ZERO,
    )
    return total_mg.scaleb(-3)


def date_cumulative_reached(
    history: Iterable[DoseRow],
    grams: Decimal = CUMULATIVE_REVIEW_GRAMS,
    as_of: date | None = None,
) -> date | None:
    """R7 ``cumulative_dose_review``: the first date on which the total reaches ``grams``.

    With ``as_of``, only rows on or before it count and the date must be on or before
    it (None otherwise). Without it, the last dose is projected forward (None if the
    drug is stopped before the total is reached).
    """
    threshold_mg = decimal_of(grams, "grams").scaleb(3)
    if threshold_mg <= 0:
        raise ValueError(f"grams must be positive, got {grams!r}")
    rows = sorted(history, key=lambda row: row.date)
    if as_of is not None:
        rows = rows_until(rows, on=as_of)
    else:
        rows = [DoseRow(date=row.date, dose_mg=dose_of(row.dose_mg)) for row in rows]
    total = ZERO
    for row, days in _segments(rows, as_of):
        if row.dose_mg <= 0:
            continue
        days_needed = int(((threshold_mg - total) / row.dose_mg).to_integral_value(ROUND_CEILING))
        if days is None or days_needed <= days:
            return row.date + timedelta(days=days_needed - 1)
        total += row.dose_mg * days
    return None
