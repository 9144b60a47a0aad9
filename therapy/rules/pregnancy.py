"""Pure pregnancy-prevention rules for thalidomide (clinical-rules.md R5).

R5.1 (who the rules apply to, breast-feeding), R5.2 (pregnancy tests before the
start and on therapy, coverage of a dose, the R7 ``pregnancy_test_due`` date) and
R5.3 (contraception established before the first dose).

No Django imports and no clock: plain values in, results carrying the rule id and
a plain-language reason with the dates out. Records dated after the date being
judged are ignored everywhere.

Readings chosen where the spec is open are marked "Ambiguity" below; each is the
reading safest for the patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from thalimon.said import Said, join, say
from therapy.rules.doses import clause, day_text, iso, plural

# ---------------------------------------------------------------------------
# Constants (clinical-rules.md defaults)
# ---------------------------------------------------------------------------

# R5.2 / R5.3
PRE_START_EARLY_WINDOW = (-14, -10)
PRE_START_LATE_WINDOW = (-1, 0)
PREGNANCY_EARLY_INTERVAL_DAYS = 7
PREGNANCY_EARLY_UNTIL_DAY = 28  # a test on day 28 or later uses the 28/14-day interval
PREGNANCY_REGULAR_INTERVAL_DAYS = 28
PREGNANCY_IRREGULAR_INTERVAL_DAYS = 14
PREGNANCY_AFTER_STOP_DAYS = 28
CONTRACEPTION_LEAD_DAYS = 28

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PregnancyTest:
    date: date
    result: str  # "negative" | "positive"


@dataclass(frozen=True)
class PregnancyCoverage:
    covered: bool
    due_date: date | None  # when the next test is due
    rule: str  # "R5.2"
    reason: str
    positive_unresolved: bool = False


# ---------------------------------------------------------------------------
# R5.1 who the rules apply to, breast-feeding
# ---------------------------------------------------------------------------


def check_sex(sex: str) -> str:
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    return sex


def pregnancy_rules_apply(*, sex: str, female_of_reproductive_potential) -> bool:
    """R5.2 tests are for females of reproductive potential only (males are never tested)."""
    return check_sex(sex) == "F" and bool(female_of_reproductive_potential)


def breastfeeding_record(
    records: Iterable[tuple[date, bool]], on: date
) -> tuple[date, bool] | None:
    """The latest breast-feeding record on or before ``on``.

    Ambiguity: two records the same day that disagree → "yes" (safest).
    """
    recorded = [(when, bool(flag)) for when, flag in records if when <= on]
    if not recorded:
        return None
    latest = max(when for when, _ in recorded)
    return latest, any(flag for when, flag in recorded if when == latest)


# ---------------------------------------------------------------------------
# R5.2 pregnancy tests
# ---------------------------------------------------------------------------


def _result(test: PregnancyTest) -> str:
    result = str(test.result).strip().lower()
    if result not in ("negative", "positive"):
        raise ValueError(
            f"pregnancy test result on {iso(test.date)} must be 'negative' or 'positive', "
            f"got {test.result!r}"
        )
    return result


def tests_until(tests: Iterable[PregnancyTest], on: date) -> list[tuple[date, str]]:
    """(date, "negative"/"positive") of the tests dated on or before ``on``, in date order."""
    return sorted((test.date, _result(test)) for test in tests if test.date <= on)


def _latest_test(tests: list[tuple[date, str]]) -> tuple[date, str] | None:
    """The most recent test. Ambiguity: a positive and a negative the same day → positive."""
    if not tests:
        return None
    latest = tests[-1][0]
    results = {result for when, result in tests if when == latest}
    return latest, "positive" if "positive" in results else "negative"


def unresolved_positive(tests: list[tuple[date, str]]) -> date | None:
    """The latest positive test with no negative test on a LATER date (same day does not clear)."""
    positives = [when for when, result in tests if result == "positive"]
    if not positives:
        return None
    last_positive = max(positives)
    if any(result == "negative" and when > last_positive for when, result in tests):
        return None
    return last_positive


def pregnancy_test_interval_days(*, last_test: date, start: date, irregular_cycles) -> int:
    """R5.2: 7 days while the last test is before day 28; from day 28, 28 (regular) or 14.

    Irregular or unknown (None) cycles give 14 days.
    """
    if (last_test - start).days < PREGNANCY_EARLY_UNTIL_DAY:
        return PREGNANCY_EARLY_INTERVAL_DAYS
    if irregular_cycles is False:
        return PREGNANCY_REGULAR_INTERVAL_DAYS
    return PREGNANCY_IRREGULAR_INTERVAL_DAYS


def _interval_text(last_test: date, start: date, irregular_cycles) -> Said:
    day = (last_test - start).days
    interval = pregnancy_test_interval_days(
        last_test=last_test, start=start, irregular_cycles=irregular_cycles
    )
    if day < PREGNANCY_EARLY_UNTIL_DAY:
        why = say("the test is before day 28")
    elif irregular_cycles is False:
        why = say("the test is on day 28 or later, regular cycles")
    elif irregular_cycles is None:
        why = say("the test is on day 28 or later, cycles unknown (counted as irregular)")
    else:
        why = say("the test is on day 28 or later, irregular cycles")
    return say(
        "%(day)s, interval %(interval)s days as %(why)s",
        day=day_text(day),
        interval=interval,
        why=why,
    )


def _negatives_within(
    recorded: list[tuple[date, str]], start: date, window: tuple[int, int]
) -> list[date]:
    first, last = window
    return [
        when
        for when, result in recorded
        if result == "negative" and first <= (when - start).days <= last
    ]


def _window_part(found: list[date], start: date, window_text: Said) -> Said:
    if not found:
        return say("no negative test within %(window)s", window=window_text)
    return say(
        "negative test on %(date)s (%(day)s) within %(window)s",
        date=found[-1],
        day=day_text((found[-1] - start).days),
        window=window_text,
    )


def pre_start_tests_ok(tests: Iterable[PregnancyTest], start: date) -> tuple[bool, Said]:
    """R5.2: a negative test dated day −14 to −10 and one dated day −1 or 0 of ``start``."""
    recorded = tests_until(tests, start)
    early_first, early_last = PRE_START_EARLY_WINDOW
    late_first, late_last = PRE_START_LATE_WINDOW
    early = _negatives_within(recorded, start, PRE_START_EARLY_WINDOW)
    late = _negatives_within(recorded, start, PRE_START_LATE_WINDOW)
    early_window = say(
        "day −14 to −10 (%(first)s to %(last)s)",
        first=start + timedelta(days=early_first),
        last=start + timedelta(days=early_last),
    )
    late_window = say(
        "day −1 or 0 (%(first)s or %(last)s)",
        first=start + timedelta(days=late_first),
        last=start + timedelta(days=late_last),
    )
    parts = join(
        [_window_part(early, start, early_window), _window_part(late, start, late_window)], "; "
    )
    ok = bool(early) and bool(late)
    if ok:
        return ok, say(
            "Pre-start pregnancy tests for the start on %(start)s complete: %(tests)s (R5.2).",
            start=start,
            tests=parts,
        )
    return ok, say(
        "Pre-start pregnancy tests for the start on %(start)s incomplete: %(tests)s (R5.2).",
        start=start,
        tests=parts,
    )


def _latest_test_problems(
    latest: tuple[date, str] | None, *, start: date, on: date, irregular_cycles
) -> tuple[list[Said], date | None, Said | str]:
    """(problems, due date, text on the latest negative test) for the coverage of ``on``."""
    if latest is None:
        return [say("no pregnancy test recorded on or before %(date)s", date=on)], on, ""
    if latest[1] == "positive":
        return (
            [
                say(
                    "the latest test, on %(date)s, is positive with no later negative "
                    "test: thalidomide must stop at once",
                    date=latest[0],
                )
            ],
            None,
            "",
        )
    interval = pregnancy_test_interval_days(
        last_test=latest[0], start=start, irregular_cycles=irregular_cycles
    )
    due = latest[0] + timedelta(days=interval)
    latest_text = say(
        "latest negative test on %(date)s (%(interval)s) covers up to %(due)s",
        date=latest[0],
        interval=_interval_text(latest[0], start, irregular_cycles),
        due=due,
    )
    problems = []
    if on > due:
        problems.append(
            say(
                "%(latest)s, so %(date)s is not covered (test overdue)", latest=latest_text, date=on
            )
        )
    return problems, due, latest_text


def pregnancy_coverage(
    *,
    tests: Iterable[PregnancyTest],
    start: date,
    on: date,
    irregular_cycles,
    first_dose_or_restart: bool,
) -> PregnancyCoverage:
    """R5.2: is a dose on ``on`` covered by the pregnancy tests recorded on or before it?

    Covered when the most recent test on or before ``on`` is negative and ``on`` is
    on or before that test's due date (test + interval); a first dose or restart
    (``start`` = its date) also needs both pre-start tests. ``start`` is the start of
    the current course (day 0), from which the 7-day interval is counted.
    """
    tests = list(tests)
    recorded = tests_until(tests, on)
    positive = unresolved_positive(recorded)
    problems, due, latest_text = _latest_test_problems(
        _latest_test(recorded), start=start, on=on, irregular_cycles=irregular_cycles
    )
    pre_start_text = ""
    if first_dose_or_restart:
        ok, pre_start_text = pre_start_tests_ok(tests, start)
        if not ok:
            problems.append(clause(pre_start_text, "R5.2"))
    if problems:
        reason = say(
            "Not covered on %(date)s: %(problems)s (R5.2).", date=on, problems=join(problems, "; ")
        )
        return PregnancyCoverage(
            covered=False,
            due_date=due,
            rule="R5.2",
            reason=reason,
            positive_unresolved=positive is not None,
        )
    if first_dose_or_restart:
        reason = say(
            "Covered on %(date)s: %(latest)s; %(pre_start)s (R5.2).",
            date=on,
            latest=latest_text,
            pre_start=clause(pre_start_text, "R5.2"),
        )
    else:
        reason = say("Covered on %(date)s: %(latest)s (R5.2).", date=on, latest=latest_text)
    return PregnancyCoverage(covered=True, due_date=due, rule="R5.2", reason=reason)


def next_pregnancy_test_due(
    *,
    tests: Iterable[PregnancyTest],
    start: date | None,
    stop: date | None,
    as_of: date,
    irregular_cycles,
) -> date | None:
    """R7 ``pregnancy_test_due`` (R5.2) for a female of reproductive potential.

    ``start`` = start of the current course, ``stop`` = its stop date if stopped.
    On therapy: last negative test + interval (the start date itself if there is no
    test at all). Stopped: the one test at stop + 28 days, None once a test dated on
    or after that day is recorded. None before any start.

    Ambiguities (safest readings):
    * only a test on or after stop + 28 closes the post-stop test (an earlier one
      cannot show a pregnancy conceived in the last weeks of therapy);
    * with an unresolved positive test while still on therapy, the test is due on the
      positive test's date (a stable, immediately overdue date; the positive test
      itself raises the urgent alert elsewhere) until a later negative test clears it.
    """
    recorded = tests_until(tests, as_of)
    if stop is not None and stop <= as_of and (start is None or stop >= start):
        due = stop + timedelta(days=PREGNANCY_AFTER_STOP_DAYS)
        if any(when >= due for when, _ in recorded):
            return None
        return due
    if start is None or start > as_of:
        return None
    latest = _latest_test(recorded)
    if latest is None:
        return start
    if latest[1] == "positive":
        return unresolved_positive(recorded)
    interval = pregnancy_test_interval_days(
        last_test=latest[0], start=start, irregular_cycles=irregular_cycles
    )
    return latest[0] + timedelta(days=interval)


# ---------------------------------------------------------------------------
# R5.3 contraception
# ---------------------------------------------------------------------------


def contraception_shortfall(contraception_start: date | None, start: date) -> Said | None:
    """R5.3: why contraception is not established for a first dose on ``start`` (None if it is).

    Two methods are needed from at least 28 days before the start. No recorded
    contraception start counts as not established.
    """
    if contraception_start is None:
        return say(
            "no contraception start is recorded; two methods are needed from at least "
            "%(lead)s days before the start (R5.3).",
            lead=CONTRACEPTION_LEAD_DAYS,
        )
    days = (start - contraception_start).days
    if days < CONTRACEPTION_LEAD_DAYS:
        return say(
            "contraception started on %(date)s, %(days)s before; it must start at least "
            "%(lead)s days before the first dose (R5.3).",
            date=contraception_start,
            days=plural(days, "day"),
            lead=CONTRACEPTION_LEAD_DAYS,
        )
    return None
