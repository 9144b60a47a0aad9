"""R9 prescriptions (therapy/rules/prescriptions.py), tables worked by hand from
clinical-rules.md R9.1–R9.4.

Every expected value is a literal worked out on paper from the spec, never computed
by the code under test; the comment of each case gives the arithmetic. Inputs are
dated from day 0 = 2024-01-01 (tests/rules/helpers.py has the calendar).

No database: the rules are pure functions.
"""

from datetime import date
from decimal import Decimal

import pytest

from tests.rules.helpers import D, day, man, negatives, positive, rows, woman
from therapy.rules.prescriptions import (
    NO_OVERRIDE_CODES,
    PRESCRIPTION_CODES,
    RISK_CATEGORIES,
    PrescriptionRow,
    age_on,
    check_prescription,
    is_void,
    max_days_supply,
    prescription_due,
    programme,
    quantity_units,
    run_out_date,
)

EU = programme("eu_ppp")
REMS = programme("us_rems")
EU50 = programme("eu_ppp", unit_mg=D("50"), halves_allowed=False)  # EU 50 mg capsules, not opened
ADULT_BIRTH = date(1980, 5, 1)

COURSE = rows((0, 25))  # one course from day 0 at 25 mg
# Course 1 day 0, stop day 20, restart day 60: 60 − 20 = 40 > 28 days, so a new course from day 60.
RESTART_60 = rows((0, 25), (20, 0), (60, 25))
# Course 1 day 0, stop day 20, restart day 100 (80 > 28 days): a new course from day 100.
RESTART_100 = rows((0, 25), (20, 0), (100, 25))

MAN = man()
FRP = woman(-12, 0)  # negative tests day −12 (in −14…−10) and day 0 (in −1…0); contraception from day −35
FNRP = woman(female_of_reproductive_potential=False)


def rx(issue, dose=25, days=28, *, confirmed=True, dispensed=None, auth=""):
    return PrescriptionRow(
        issue_date=day(issue),
        dose_mg=D(str(dose)),
        days_supply=days,
        contraception_confirmed=confirmed,
        dispensed_date=None if dispensed is None else day(dispensed),
        authorisation=auth,
    )


FIRST = rx(0, dispensed=0)  # the course's first prescription: 28 days from day 0, so tablets to day 27


def check(patient, row, *, others=(), doses=COURSE, prog=EU, birth=ADULT_BIRTH):
    return check_prescription(
        patient, birth_date=birth, doses=doses, prescriptions=list(others), row=row, programme=prog
    )


# (patient, row, others, doses, programme, codes)
CODE_CASES = [
    # --- both profiles, clean -------------------------------------------------------------------
    # man, EU: 28 ≤ 84 days; 25 mg = the row of day 0; contraception confirmed; no dispense-by.
    pytest.param(MAN, rx(0), (), COURSE, EU, (), id="eu-man-clean"),
    # REMS man with an authorisation number: 28 ≤ 28 days.
    pytest.param(MAN, rx(0, auth="RA-1"), (), COURSE, REMS, (), id="rems-man-clean"),
    # FRP, EU: tests day −12 and 0 (both pre-start windows), day 0 in the window −3…0,
    # contraception from day −35: 35 ≥ 28 days before the start.
    pytest.param(FRP, rx(0), (), COURSE, EU, (), id="eu-frp-clean"),
    pytest.param(FRP, rx(0, auth="RA-1"), (), COURSE, REMS, (), id="rems-frp-clean"),
    # --- supply_too_long: 28 (FRP, REMS everyone) / 84 (EU others) --------------------------------
    pytest.param(MAN, rx(0, days=84), (), COURSE, EU, (), id="eu-man-84-days-ok"),
    pytest.param(MAN, rx(0, days=85), (), COURSE, EU, ("supply_too_long",), id="eu-man-85-days"),
    pytest.param(FNRP, rx(0, days=84), (), COURSE, EU, (), id="eu-fnrp-84-days-ok"),
    pytest.param(FRP, rx(0, days=29), (), COURSE, EU, ("supply_too_long",), id="eu-frp-29-days"),
    pytest.param(MAN, rx(0, days=29, auth="RA-1"), (), COURSE, REMS, ("supply_too_long",), id="rems-man-29"),
    # --- no_recent_negative_test: window edges --------------------------------------------------
    # Second prescription day 21 (first: 0 + 28 − 21 = 7 days left, not early). EU window 21 − 3 = day 18 … 21.
    pytest.param(woman(-12, 0, 18), rx(21), (FIRST,), COURSE, EU, (), id="eu-test-3-days-before"),
    pytest.param(woman(-12, 0, 17), rx(21), (FIRST,), COURSE, EU, ("no_recent_negative_test",),
                 id="eu-test-4-days-before"),
    # REMS window 21 − 7 = day 14 … 21.
    pytest.param(woman(-12, 0, 14), rx(21, auth="RA-1"), (FIRST,), COURSE, REMS, (), id="rems-test-7-days-before"),
    pytest.param(woman(-12, 0, 13), rx(21, auth="RA-1"), (FIRST,), COURSE, REMS, ("no_recent_negative_test",),
                 id="rems-test-8-days-before"),
    # A test the day after the issue date does not count (records on or before the issue date).
    pytest.param(woman(-12, 0, 22), rx(21), (FIRST,), COURSE, EU, ("no_recent_negative_test",),
                 id="eu-test-after-issue-ignored"),
    # (Second read.) A negative test ON the issue date is in the window (both ends inclusive).
    pytest.param(woman(-12, 0, 21), rx(21), (FIRST,), COURSE, EU, (), id="eu-test-on-issue-day"),
    # Not asked of a man or a woman not of reproductive potential.
    pytest.param(MAN, rx(21), (FIRST,), COURSE, EU, (), id="eu-man-no-test-needed"),
    # --- start_not_covered ----------------------------------------------------------------------
    # Only the day 0 test: nothing on day −14…−10.
    pytest.param(woman(0), rx(0), (), COURSE, EU, ("start_not_covered",), id="start-no-early-test"),
    # Contraception from day −20: 0 − (−20) = 20 < 28 days.
    pytest.param(woman(-12, 0, contraception_start=day(-20)), rx(0), (), COURSE, EU, ("start_not_covered",),
                 id="start-contraception-20-days"),
    # From day −28: exactly 28 days, established.
    pytest.param(woman(-12, 0, contraception_start=day(-28)), rx(0), (), COURSE, EU, (),
                 id="start-contraception-28-days"),
    # Breast-feeding recorded day −5, any patient.
    pytest.param(woman(female_of_reproductive_potential=False, breastfeeding=((day(-5), True),)), rx(0), (),
                 COURSE, EU, ("start_not_covered",), id="start-breastfeeding"),
    # Breast-feeding recorded, then "no" on day −2: the latest record before the start says no.
    pytest.param(woman(female_of_reproductive_potential=False, breastfeeding=((day(-5), True), (day(-2), False))),
                 rx(0), (), COURSE, EU, (), id="start-breastfeeding-ended"),
    # Issued day −5 for the course of day 0 (0 − 7 ≤ −5): the day 0 test is after the issue date,
    # so no day −1/0 test is known yet. Window −8…−5 has day −6; dose: day 0 ≤ −5 + 7 → 25 mg.
    pytest.param(woman(-12, -6, 0), rx(-5), (), COURSE, EU, ("start_not_covered",),
                 id="start-issued-before-last-pre-start-test"),
    # Issued day −1 with tests day −12 and −1: covered; dose from day 0 = −1 + 1.
    pytest.param(woman(-12, -1), rx(-1), (), COURSE, EU, (), id="start-issued-day-minus-1"),
    # The second prescription is not judged for the start (window 18…21 has day 18).
    pytest.param(woman(0, 18), rx(21), (FIRST,), COURSE, EU, (), id="start-second-prescription-not-judged"),
    # The first (day 0) was never dispensed: void from day 0 + 7 + 1 = 8, so day 10's is the first again.
    pytest.param(woman(0, 8), rx(10), (rx(0),), COURSE, EU, ("start_not_covered",),
                 id="start-after-void-first-judged-again"),
    # New course day 100: the day 0 prescription is course 1's. Tests day 88 (−12) and 100 (0).
    pytest.param(woman(-12, 0, 88, 100), rx(100), (FIRST,), RESTART_100, EU, (), id="start-new-course-covered"),
    # Without a test on days 86–90 the new course's first prescription is not covered.
    pytest.param(woman(-12, 0, 100), rx(100), (FIRST,), RESTART_100, EU, ("start_not_covered",),
                 id="start-new-course-not-covered"),
    # (Second read.) Pre-start windows' edges (R5.2 via R3.5): day −10 is in −14…−10, day −9 is not.
    pytest.param(woman(-10, 0), rx(0), (), COURSE, EU, (), id="start-early-test-day-minus-10"),
    pytest.param(woman(-9, 0), rx(0), (), COURSE, EU, ("start_not_covered",), id="start-early-test-day-minus-9"),
    # The course's first prescription issued mid-course (day 30): judged against the course start
    # (day 0: tests −12 and 0 known by day 30 → covered). Window 27…30 has day 28; no earlier one.
    pytest.param(woman(-12, 0, 28), rx(30), (), COURSE, EU, (), id="start-first-prescription-mid-course"),
    # Breast-feeding recorded day 25 (after the start, on or before the issue day 30): the latest
    # record on the issue date says yes → start_not_covered (any patient).
    pytest.param(woman(female_of_reproductive_potential=False, breastfeeding=((day(25), True),)), rx(30), (),
                 COURSE, EU, ("start_not_covered",), id="start-breastfeeding-by-issue-date"),
    # Restart day 40 after a stop on day 20: 40 − 20 = 20 ≤ 28, the same course (start day 0), so day 40's
    # prescription after day 0's is not the course's first (not judged for the start; 0 + 28 − 40 < 7).
    pytest.param(woman(0, 38), rx(40), (FIRST,), rows((0, 25), (20, 0), (40, 25)), EU, (),
                 id="start-restart-within-28-days-same-course"),
    # --- positive_test_unresolved ---------------------------------------------------------------
    # Positive day 20, negative day 18 only: unresolved (window 18…21 has day 18).
    pytest.param(woman(pregnancy_tests=negatives(-12, 0, 18) + (positive(20),)), rx(21), (FIRST,), COURSE, EU,
                 ("positive_test_unresolved",), id="positive-unresolved"),
    # Positive day 15, negative day 19: resolved.
    pytest.param(woman(pregnancy_tests=negatives(-12, 0, 19) + (positive(15),)), rx(21), (FIRST,), COURSE, EU,
                 (), id="positive-then-negative"),
    # Negative the same day as the positive does not clear it.
    pytest.param(woman(pregnancy_tests=negatives(-12, 0, 19) + (positive(19),)), rx(21), (FIRST,), COURSE, EU,
                 ("positive_test_unresolved",), id="positive-same-day-negative"),
    # A positive test counts for any patient.
    pytest.param(man(pregnancy_tests=(positive(-3),)), rx(0), (), COURSE, EU, ("positive_test_unresolved",),
                 id="positive-any-patient"),
    # --- dose_mismatch --------------------------------------------------------------------------
    # Change to 50 mg on day 21 = the issue date: the new dose counts (28 − 21 = 7 days left).
    pytest.param(MAN, rx(21, dose=50), (FIRST,), rows((0, 25), (21, 50)), EU, (), id="dose-change-on-issue-new"),
    pytest.param(MAN, rx(21, dose=25), (FIRST,), rows((0, 25), (21, 50)), EU, ("dose_mismatch",),
                 id="dose-change-on-issue-old"),
    # Change to 50 mg on day 22, the day after: on day 21 the dose is still 25.
    pytest.param(MAN, rx(21, dose=25), (FIRST,), rows((0, 25), (22, 50)), EU, (), id="dose-change-day-after"),
    # Stopped day 14 (0 mg), nothing non-zero on days 21–27: always a mismatch.
    pytest.param(MAN, rx(20), (), rows((0, 25), (14, 0)), EU, ("dose_mismatch",), id="dose-stopped"),
    # Resumed day 27 = 20 + 7: the prescription carries that dose.
    pytest.param(MAN, rx(20), (), rows((0, 25), (14, 0), (27, 25)), EU, (), id="dose-resumed-day-27"),
    # Resumed day 28 > 20 + 7: too far.
    pytest.param(MAN, rx(20), (), rows((0, 25), (14, 0), (28, 25)), EU, ("dose_mismatch",),
                 id="dose-resumed-day-28"),
    # (Second read.) A stop ON the issue date is the latest row (0 mg): the first non-zero row of
    # days 21…27 is day 21's 25 mg → matches.
    pytest.param(MAN, rx(20), (), rows((0, 25), (20, 0), (21, 25)), EU, (), id="dose-stop-on-issue-look-ahead"),
    # The FIRST non-zero row of the look-ahead: stopped day 14; 50 mg day 22, 25 mg day 25, issue day 20
    # (window 21…27): the reference is day 22's 50 mg, so 25 mg is a mismatch and 50 mg is not.
    pytest.param(MAN, rx(20, dose=25), (), rows((0, 25), (14, 0), (22, 50), (25, 25)), EU, ("dose_mismatch",),
                 id="dose-look-ahead-first-row-25"),
    pytest.param(MAN, rx(20, dose=50), (), rows((0, 25), (14, 0), (22, 50), (25, 25)), EU, (),
                 id="dose-look-ahead-first-row-50"),
    # Before the first dose: issue day −7 (0 − 7 ≤ −7), first dose day 0 = −7 + 7 at 25 mg.
    pytest.param(MAN, rx(-7), (), COURSE, EU, (), id="dose-first-dose-7-days-after"),
    pytest.param(MAN, rx(-8), (), COURSE, EU, ("dose_mismatch",), id="dose-first-dose-8-days-after"),
    # No thalidomide row at all.
    pytest.param(MAN, rx(0), (), [], EU, ("dose_mismatch",), id="dose-no-rows"),
    # --- early_repeat ---------------------------------------------------------------------------
    # First dispensed day 0, 28 days: first day without = day 28. Day 21: 28 − 21 = 7 → OK.
    pytest.param(MAN, rx(21), (FIRST,), COURSE, EU, (), id="early-7-days-left"),
    # Day 20: 28 − 20 = 8 > 7.
    pytest.param(MAN, rx(20), (FIRST,), COURSE, EU, ("early_repeat",), id="early-8-days-left"),
    # Dispensed day 2: 2 + 28 − 21 = 9 > 7.
    pytest.param(MAN, rx(21), (rx(0, dispensed=2),), COURSE, EU, ("early_repeat",), id="early-from-dispensed"),
    # Dispensed day 25, after this issue date: the issue date counts, 0 + 28 − 21 = 7.
    pytest.param(MAN, rx(21), (rx(0, dispensed=25),), COURSE, EU, (), id="early-dispensed-after-issue"),
    # FRP: day 0's never dispensed, dispense-by day 7; on day 10 it is void → ignored (and day 10's is
    # the first again: pre-start tests −12/0 fine). Window 7…10 has day 8.
    pytest.param(woman(-12, 0, 8), rx(10), (rx(0),), COURSE, EU, (), id="early-void-ignored"),
    # On day 7 (the dispense-by date itself) it is not void yet: 0 + 28 − 7 = 21 > 7. Window 4…7 has day 6.
    pytest.param(woman(-12, 0, 6), rx(7), (rx(0),), COURSE, EU, ("early_repeat",), id="early-not-void-on-last-day"),
    # Dispensed late (day 9 > 7) is not void: 9 + 28 − 10 = 27 > 7.
    pytest.param(woman(-12, 0, 8), rx(10), (rx(0, dispensed=9),), COURSE, EU, ("early_repeat",),
                 id="early-dispensed-late-counts"),
    # Previous course: day 50 < 60 − 7 = 53 belongs to course 1 → ignored on day 60.
    pytest.param(MAN, rx(60), (rx(50),), RESTART_60, EU, (), id="early-previous-course-ignored"),
    # Day 55 ≥ 53 belongs to course 2: 55 + 28 − 60 = 23 > 7.
    pytest.param(MAN, rx(60), (rx(55),), RESTART_60, EU, ("early_repeat",), id="early-same-course-start-minus-7"),
    # A later prescription is not an earlier one.
    pytest.param(MAN, rx(0), (rx(5),), COURSE, EU, (), id="early-later-prescription-ignored"),
    # (Second read, R9.3 early_repeat.) Dispensed ON this issue date counts ("on or before"):
    # 21 + 28 − 21 = 28 > 7.
    pytest.param(MAN, rx(21), (rx(0, dispensed=21),), COURSE, EU, ("early_repeat",), id="early-dispensed-on-issue"),
    # Never dispensed, EU man (no dispense-by, never void): from its issue date, 0 + 28 − 20 = 8 > 7.
    pytest.param(MAN, rx(20), (rx(0),), COURSE, EU, ("early_repeat",), id="early-never-dispensed-man"),
    # The MAX over the earlier ones, not the latest issued: day 0 for 84 days and day 21 for 14 days,
    # judged day 50: max(0 + 84, 21 + 14) − 50 = 84 − 50 = 34 > 7.
    pytest.param(MAN, rx(50), (rx(0, days=84), rx(21, days=14)), COURSE, EU, ("early_repeat",),
                 id="early-max-over-earlier"),
    # Same two judged day 77: 84 − 77 = 7, not more than 7.
    pytest.param(MAN, rx(77), (rx(0, days=84), rx(21, days=14)), COURSE, EU, (), id="early-max-7-left"),
    # Issued exactly day 53 = 60 − 7: course 2's (start − 7 ≤ issue), 53 + 28 − 60 = 21 > 7.
    pytest.param(MAN, rx(60), (rx(53),), RESTART_60, EU, ("early_repeat",), id="early-course-edge-start-minus-7"),
    # REMS man: dispense-by 0 + 30 = day 30; day 0's never dispensed is void from day 31, so day 31's
    # is judged alone (0 + 28 − 31 < 7 anyway; the void one also frees start_not_covered: none for a man).
    pytest.param(MAN, rx(31, auth="RA-1"), (rx(0, auth="RA-1"),), COURSE, REMS, (), id="early-rems-man-void-day-31"),
    # Void vs a LATE dispensing recorded after this issue date (R9.1 "every check uses the records
    # dated on or before the issue date"): FRP day 0's dispense-by is day 7; dispensed day 12 (late),
    # the prescription judged was issued day 10. On day 10 day 0's has no dispensed date known and
    # 10 > 7: void, ignored (and day 10's is the course's first again: pre-start −12/0 fine; window
    # 7…10 has day 8). Without the as-of reading it counted from its issue date: 0 + 28 − 10 = 18 > 7.
    pytest.param(woman(-12, 0, 8), rx(10), (rx(0, dispensed=12),), COURSE, EU, (),
                 id="early-late-dispensing-after-issue-void-then"),
    # The same dispensing judged from day 13 (dispensed day 12 ≤ 13: not void, counts from day 12):
    # 12 + 28 − 13 = 27 > 7. Window 10…13 has day 11.
    pytest.param(woman(-12, 0, 11), rx(13), (rx(0, dispensed=12),), COURSE, EU, ("early_repeat",),
                 id="early-late-dispensing-before-issue-counts"),
    # --- contraception_not_confirmed ------------------------------------------------------------
    pytest.param(MAN, rx(0, confirmed=False), (), COURSE, EU, ("contraception_not_confirmed",), id="man-unconfirmed"),
    pytest.param(FRP, rx(0, confirmed=False), (), COURSE, EU, ("contraception_not_confirmed",), id="frp-unconfirmed"),
    pytest.param(FNRP, rx(0, confirmed=False), (), COURSE, EU, (), id="fnrp-not-asked"),
    # --- dispensed_too_late ---------------------------------------------------------------------
    # FRP: dispense by day 0 + 7 = 7.
    pytest.param(FRP, rx(0, dispensed=7), (), COURSE, EU, (), id="frp-dispensed-last-day"),
    pytest.param(FRP, rx(0, dispensed=8), (), COURSE, EU, ("dispensed_too_late",), id="frp-dispensed-day-after"),
    # EU, other patients: not checked.
    pytest.param(MAN, rx(0, dispensed=200), (), COURSE, EU, (), id="eu-man-not-checked"),
    # REMS, other patients: day 0 + 30.
    pytest.param(MAN, rx(0, dispensed=30, auth="RA-1"), (), COURSE, REMS, (), id="rems-man-dispensed-day-30"),
    pytest.param(MAN, rx(0, dispensed=31, auth="RA-1"), (), COURSE, REMS, ("dispensed_too_late",),
                 id="rems-man-dispensed-day-31"),
    # --- authorisation_missing ------------------------------------------------------------------
    pytest.param(MAN, rx(0), (), COURSE, REMS, ("authorisation_missing",), id="rems-no-authorisation"),
    pytest.param(MAN, rx(0, auth="  "), (), COURSE, REMS, ("authorisation_missing",), id="rems-blank-authorisation"),
    # --- dose_not_dispensable (25 mg tablets, halves: multiples of 12.5 mg a day) ----------------
    pytest.param(MAN, rx(0, dose=37.5), (), rows((0, 37.5)), EU, (), id="dose-37.5-halves"),
    pytest.param(MAN, rx(0, dose=30), (), rows((0, 30)), EU, ("dose_not_dispensable",), id="dose-30"),
    # 50 mg capsules, no halves: 25 = 0.5 capsule a day.
    pytest.param(MAN, rx(0, dose=25), (), rows((0, 25)), EU50, ("dose_not_dispensable",), id="dose-25-capsules-50"),
    pytest.param(MAN, rx(0, dose=100), (), rows((0, 100)), EU50, (), id="dose-100-capsules-50"),
    # --- combined -------------------------------------------------------------------------------
    # REMS FRP, first prescription: 35 > 28 days; only a test on day −20 (not in −7…0, not pre-start);
    # contraception from day −10 (10 < 28); 30 mg ≠ 25 mg and 30/12.5 = 2.4; not confirmed; dispensed
    # day 9 > 0 + 7; no authorisation.
    pytest.param(woman(-20, contraception_start=day(-10)), rx(0, dose=30, days=35, confirmed=False, dispensed=9),
                 (), COURSE, REMS,
                 ("supply_too_long", "no_recent_negative_test", "start_not_covered", "dose_mismatch",
                  "contraception_not_confirmed", "dispensed_too_late", "authorisation_missing",
                  "dose_not_dispensable"),
                 id="combined-first-prescription"),
    # EU FRP, second prescription day 10: no negative test on days 7–10, positive day 5, 28 − 10 = 18 days left.
    pytest.param(woman(pregnancy_tests=negatives(-12, 0) + (positive(5),)), rx(10), (FIRST,), COURSE, EU,
                 ("no_recent_negative_test", "positive_test_unresolved", "early_repeat"),
                 id="combined-second-prescription"),
]


@pytest.mark.parametrize("patient, row, others, doses, prog, codes", CODE_CASES)
def test_r9_3_codes(patient, row, others, doses, prog, codes):
    assert check(patient, row, others=others, doses=doses, prog=prog).codes == codes


def test_codes_are_listed_in_the_table_order():
    for param in CODE_CASES:
        codes = param.values[-1]
        assert list(codes) == sorted(codes, key=PRESCRIPTION_CODES.index)
    assert set(PRESCRIPTION_CODES) == {code for param in CODE_CASES for code in param.values[-1]}


@pytest.mark.parametrize(
    "patient, row, doses, overridable",
    [
        pytest.param(MAN, rx(0, confirmed=False), COURSE, True, id="contraception-overridable"),
        pytest.param(man(pregnancy_tests=(positive(-3),)), rx(0), COURSE, False, id="positive-never"),
        pytest.param(MAN, rx(0, dose=30), rows((0, 30)), False, id="not-dispensable-never"),
        pytest.param(MAN, rx(0), COURSE, True, id="clean"),
    ],
)
def test_overridable(patient, row, doses, overridable):
    result = check(patient, row, doses=doses)
    assert result.overridable is overridable
    assert result.blocking == result.deviations
    assert NO_OVERRIDE_CODES == ("positive_test_unresolved", "dose_not_dispensable")


# --- R9.2 category, R9.1 dispense-by, R9.3 quantity --------------------------------------------


@pytest.mark.parametrize(
    "patient, prog, birth, category, text",
    [
        pytest.param(FRP, EU, ADULT_BIRTH, "female_reproductive_potential", "Female of reproductive potential",
                     id="eu-frp"),
        pytest.param(FNRP, EU, ADULT_BIRTH, "female_not_reproductive_potential",
                     "Female not of reproductive potential", id="eu-fnrp"),
        pytest.param(MAN, EU, date(2010, 1, 1), "male", "Male", id="eu-no-age"),
        # Born 2006-01-01: 18 on 2024-01-01 (the issue date) → adult.
        pytest.param(MAN, REMS, date(2006, 1, 1), "male", "Male, adult", id="rems-18-today-adult"),
        # Born 2006-01-02: 17 on 2024-01-01 → child.
        pytest.param(MAN, REMS, date(2006, 1, 2), "male", "Male, child", id="rems-17-child"),
        pytest.param(FRP, REMS, date(2008, 6, 1), "female_reproductive_potential",
                     "Female of reproductive potential, child", id="rems-frp-child"),
        pytest.param(MAN, REMS, None, "male", "Male, age unknown", id="rems-no-birth-date"),
    ],
)
def test_r9_2_category(patient, prog, birth, category, text):
    result = check(patient, rx(0, auth="RA-1"), prog=prog, birth=birth)
    assert (result.risk_category, result.category_text) == (category, text)
    assert result.risk_category in RISK_CATEGORIES


def test_age_on_29_february_birthday_counts_on_1_march():
    # Born 2008-02-29: 2026 is not a leap year, so the 18th birthday is 2026-03-01.
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18


@pytest.mark.parametrize(
    "patient, prog, dispense_by",
    [
        pytest.param(FRP, EU, date(2024, 1, 8), id="eu-frp-issue-plus-7"),  # 2024-01-01 + 7
        pytest.param(MAN, EU, None, id="eu-man-none"),
        pytest.param(FNRP, EU, None, id="eu-fnrp-none"),
        pytest.param(FRP, REMS, date(2024, 1, 8), id="rems-frp-plus-7"),
        pytest.param(MAN, REMS, date(2024, 1, 31), id="rems-man-plus-30"),  # 2024-01-01 + 30
    ],
)
def test_r9_1_dispense_by(patient, prog, dispense_by):
    result = check(patient, rx(0, auth="RA-1"), prog=prog)
    assert result.dispense_by == dispense_by
    assert result.course_start == date(2024, 1, 1)


@pytest.mark.parametrize(
    "dose, days, prog, quantity",
    [
        pytest.param("25", 28, EU, D("28"), id="25mg-28d"),  # 25 × 28 / 25
        pytest.param("37.5", 28, EU, D("42"), id="37.5mg-halves"),  # 37.5 × 28 / 25 = 1050 / 25
        pytest.param("12.5", 7, EU, D("3.5"), id="12.5mg-7d-half-tablets"),  # 12.5 × 7 / 25
        pytest.param("30", 28, EU, None, id="30mg-not-a-half-multiple"),  # 30 / 12.5 = 2.4
        pytest.param("25", 28, EU50, None, id="25mg-capsules-50-no-halves"),  # 25 / 50 = 0.5
        pytest.param("100", 28, EU50, D("56"), id="100mg-capsules-50"),  # 100 × 28 / 50
        pytest.param("75", 14, EU50, None, id="75mg-capsules-50"),  # 75 / 50 = 1.5; 1.5 × 14 = 21 whole but daily not
    ],
)
def test_r9_3_quantity(dose, days, prog, quantity):
    assert quantity_units(D(dose), days, prog) == quantity


@pytest.mark.parametrize(
    "category, prog, days",
    [
        ("female_reproductive_potential", EU, 28),
        ("female_not_reproductive_potential", EU, 84),
        ("male", EU, 84),
        ("female_reproductive_potential", REMS, 28),
        ("male", REMS, 28),
    ],
)
def test_r9_1_max_days_supply(category, prog, days):
    assert max_days_supply(category, prog) == days


def test_r9_1_profiles_and_overrides():
    assert (EU.test_window_days, EU.dispense_days_other, EU.authorisation_required) == (3, None, False)
    assert (REMS.test_window_days, REMS.dispense_days_other, REMS.authorisation_required) == (7, 30, True)
    assert (EU.unit_mg, EU.halves_allowed) == (Decimal("25"), True)
    custom = programme("eu_ppp", max_days_other=56, dispense_days_other=14)
    assert (custom.max_days_other, custom.dispense_days_other, custom.max_days_reproductive_potential) == (56, 14, 28)
    with pytest.raises(ValueError, match="eu_ppp, us_rems"):
        programme("nhs")
    with pytest.raises(ValueError, match="max_days"):
        programme("eu_ppp", max_days=10)
    with pytest.raises(ValueError, match="test_window_days"):
        programme("eu_ppp", test_window_days=0)


def test_is_void():
    never = rx(0)
    assert not is_void(never, dispense_by=day(7), on=day(7))  # the last valid day
    assert is_void(never, dispense_by=day(7), on=day(8))  # from the day after
    assert not is_void(rx(0, dispensed=9), dispense_by=day(7), on=day(20))  # dispensed late: not void
    assert not is_void(never, dispense_by=None, on=day(400))  # no dispense-by: never void
    # (Second read.) Dispensed late on day 9: on day 8 that dispensing is not known yet (a record
    # dated after day 8), so day 8 > 7 is void; from day 9 it is not.
    assert is_void(rx(0, dispensed=9), dispense_by=day(7), on=day(8))
    assert not is_void(rx(0, dispensed=9), dispense_by=day(7), on=day(9))
    # Dispensed in time (day 5) after the day judged (day 3 ≤ 7): not void either way.
    assert not is_void(rx(0, dispensed=5), dispense_by=day(7), on=day(3))


def test_bad_rows_are_refused():
    with pytest.raises(ValueError, match="before the issue date"):
        check(MAN, PrescriptionRow(issue_date=day(5), dose_mg=D("25"), days_supply=28,
                                   contraception_confirmed=True, dispensed_date=day(4)))
    with pytest.raises(ValueError, match="days_supply"):
        check(MAN, rx(0, days=0))
    with pytest.raises(ValueError, match="sex"):
        check(man(sex="X"), rx(0))


# --- reasons: plain sentences with the numbers and dates ----------------------------------------


def _reason(patient, row, code, **kwargs):
    return next(f.reason for f in check(patient, row, **kwargs).deviations if f.code == code)


def test_reasons_say_the_numbers_and_dates():
    # Day 20 = 2024-01-21; the first supply lasts to day 27 = 2024-01-28; 28 − 20 = 8 days;
    # the next may be issued from day 28 − 7 = 21 = 2024-01-22.
    assert _reason(MAN, rx(20), "early_repeat", others=(FIRST,)) == (
        "The prescription of 2024-01-01 (dispensed 2024-01-01, 28 days of supply) lasts up to 2024-01-28: "
        "8 days of tablets are left on 2024-01-21, more than 7; the next prescription may be issued from "
        "2024-01-22 (R9.3)."
    )
    assert _reason(MAN, rx(0, days=85), "supply_too_long") == (
        "85 days of supply is more than the 84-day limit for a male patient under the EU "
        "pregnancy-prevention programme (R9.3)."
    )
    # Window 2024-01-19 … 2024-01-22 (day 18 … 21); latest negative day 17 = 2024-01-18.
    assert _reason(woman(-12, 0, 17), rx(21), "no_recent_negative_test", others=(FIRST,)) == (
        "No negative pregnancy test dated 2024-01-19 to 2024-01-22 (the issue date and the 3 days before it, "
        "the EU pregnancy-prevention programme); the latest negative test is of 2024-01-18 (R9.3)."
    )
    assert _reason(MAN, rx(0, dose=30), "dose_not_dispensable", doses=rows((0, 30))) == (
        "30 mg/day cannot be made from 25 mg units (halves allowed): the daily dose must be a multiple "
        "of 12.5 mg, and no override can pass this (R9.3)."
    )
    assert _reason(MAN, rx(21, dose=25), "dose_mismatch", others=(FIRST,), doses=rows((0, 25), (21, 50))) == (
        "Prescribed 25 mg/day, but the thalidomide dose in force on 2024-01-22 is 50 mg/day "
        "(from 2024-01-22) (R9.3)."
    )
    # Dispense-by day 7 = 2024-01-08; dispensed day 8 = 2024-01-09, 1 day late.
    assert _reason(FRP, rx(0, dispensed=8), "dispensed_too_late") == (
        "Dispensed on 2024-01-09, 1 day after the dispense-by date 2024-01-08 (issue date + 7 days for a "
        "female of reproductive potential patient, the EU pregnancy-prevention programme) (R9.3)."
    )
    start = _reason(woman(0, contraception_start=day(-20)), rx(0), "start_not_covered")
    assert start.startswith("First prescription of the course starting 2024-01-01: the first dose would be refused")
    assert "no negative test within day −14 to −10 (2023-12-18 to 2023-12-22)" in start
    assert "contraception started on 2023-12-12, 20 days before" in start
    positive_reason = _reason(man(pregnancy_tests=(positive(-3),)), rx(0), "positive_test_unresolved")
    assert "2023-12-29 is positive" in positive_reason


# --- R9.4 run-out date and prescription_due ---------------------------------------------------


def _due(patient, prescriptions, as_of, doses=COURSE, prog=EU):
    facts = dict(birth_date=ADULT_BIRTH, doses=doses, prescriptions=prescriptions, programme=prog, as_of=day(as_of))
    return run_out_date(patient, **facts), prescription_due(patient, **facts)


# (patient, prescriptions, doses, as of day, run-out day, due day)
RUN_OUT_CASES = [
    # Issued day 0, not dispensed (EU man: never void): 0 + 28 = day 28; due 28 − 7 = 21.
    pytest.param(MAN, [rx(0)], COURSE, 10, 28, 21, id="issue-date-start"),
    # Dispensed day 3: 3 + 28 = 31; due 24.
    pytest.param(MAN, [rx(0, dispensed=3)], COURSE, 10, 31, 24, id="dispensed-date-start"),
    # Two: 0 + 28 = 28 and 22 + 28 = 50 (dispensed day 22 ≤ 30) → 50; due 43.
    pytest.param(MAN, [rx(0), rx(21, dispensed=22)], COURSE, 30, 50, 43, id="latest-of-two"),
    # As of day 21 the second is not dispensed yet: 21 + 28 = 49; due 42.
    pytest.param(MAN, [rx(0), rx(21, dispensed=22)], COURSE, 21, 49, 42, id="dispensed-after-as-of"),
    # A prescription issued after the as-of date does not count yet.
    pytest.param(MAN, [rx(0), rx(21)], COURSE, 20, 28, 21, id="later-issue-ignored"),
    # FRP: day 21's never dispensed; on day 25 (≤ 21 + 7) not void: 21 + 28 = 49.
    pytest.param(FRP, [rx(0, dispensed=0), rx(21)], COURSE, 25, 49, 42, id="not-yet-void"),
    # On day 29 (> 28) it is void: only day 0's, 0 + 28 = 28; due 21 (already overdue).
    pytest.param(FRP, [rx(0, dispensed=0), rx(21)], COURSE, 29, 28, 21, id="void-excluded"),
    # Only a void prescription: no reminder.
    pytest.param(FRP, [rx(0)], COURSE, 10, None, None, id="only-void"),
    # None before the first prescription of the course.
    pytest.param(MAN, [], COURSE, 10, None, None, id="no-prescription"),
    # Stopped day 20: none on day 25; still active on day 19.
    pytest.param(MAN, [rx(0)], rows((0, 25), (20, 0)), 25, None, None, id="stopped"),
    pytest.param(MAN, [rx(0)], rows((0, 25), (20, 0)), 19, 28, 21, id="before-stop"),
    # Not started yet on day −3 (first dose day 0), though a prescription of day −5 exists.
    pytest.param(MAN, [rx(-5)], COURSE, -3, None, None, id="before-first-dose"),
    # Course 2 from day 60: day 0's belongs to course 1 → none on day 70.
    pytest.param(MAN, [rx(0)], RESTART_60, 70, None, None, id="previous-course-ignored"),
    # Day 52 < 60 − 7 = 53: course 1's → none; day 55 ≥ 53: course 2's, 55 + 28 = 83, due 76.
    pytest.param(MAN, [rx(52)], RESTART_60, 70, None, None, id="issued-8-days-before-new-course"),
    pytest.param(MAN, [rx(52), rx(55)], RESTART_60, 70, 83, 76, id="issued-5-days-before-new-course"),
    # (Second read.) Issued day −5 for the course of day 0 (0 − 7 ≤ −5), dispensed day −3: as of day 10
    # the supply runs from day −3, −3 + 28 = day 25; due 25 − 7 = 18.
    pytest.param(MAN, [rx(-5, dispensed=-3)], COURSE, 10, 25, 18, id="issued-before-start-counts"),
    # FRP, day 0's dispensed late on day 12 (dispense-by day 7): as of day 10 it has no dispensed date
    # known (records after as_of are ignored) and is void → no reminder; as of day 12 it counts from
    # day 12: 12 + 28 = 40, due 33.
    pytest.param(FRP, [rx(0, dispensed=12)], COURSE, 10, None, None, id="late-dispensing-not-yet-known-void"),
    pytest.param(FRP, [rx(0, dispensed=12)], COURSE, 12, 40, 33, id="late-dispensing-counts-from-then"),
    # Nominal days: a dose change does not recompute them.
    pytest.param(MAN, [rx(0)], rows((0, 25), (10, 50)), 12, 28, 21, id="dose-change-nominal"),
]


@pytest.mark.parametrize("patient, prescriptions, doses, as_of, run_out, due", RUN_OUT_CASES)
def test_r9_4_run_out_and_due(patient, prescriptions, doses, as_of, run_out, due):
    expected = (None if run_out is None else day(run_out), None if due is None else day(due))
    assert _due(patient, prescriptions, as_of, doses=doses) == expected


@pytest.mark.parametrize(
    "as_of, run_out, due",
    [
        # (Second read, R9.1 + R9.4.) REMS man: dispense-by 0 + 30 = day 30; never dispensed: on day 30
        # the supply still runs from its issue date, 0 + 28 = day 28 (due 21); void from day 31, so
        # no run-out and no reminder. (Under EU the same man's prescription is never void.)
        pytest.param(30, 28, 21, id="rems-man-day-30-not-void"),
        pytest.param(31, None, None, id="rems-man-day-31-void"),
    ],
)
def test_r9_4_rems_other_patient_void_after_30_days(as_of, run_out, due):
    expected = (None if run_out is None else day(run_out), None if due is None else day(due))
    assert _due(MAN, [rx(0, auth="RA-1")], as_of, prog=REMS) == expected
    assert _due(MAN, [rx(0)], as_of, prog=EU) == (day(28), day(21))
