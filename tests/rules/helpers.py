"""Shared inputs of the pure-rule tables in tests/rules (no database, no clock).

Inputs are dated from day 0 = 2024-01-01 (2024 is a leap year), so:

    day −14 = 2023-12-18   day 14 = 2024-01-15   day 84  = 2024-03-25
    day −12 = 2023-12-20   day 21 = 2024-01-22   day 88  = 2024-03-29
    day −10 = 2023-12-22   day 28 = 2024-01-29   day 107 = 2024-04-17
    day −9  = 2023-12-23   day 29 = 2024-01-30   day 114 = 2024-04-24
    day −1  = 2023-12-31   day 39 = 2024-02-09   day 168 = 2024-06-17
    day 0   = 2024-01-01   day 42 = 2024-02-12   day 199 = 2024-07-18
    day 6   = 2024-01-07   day 56 = 2024-02-26   day 249 = 2024-09-06
    day 7   = 2024-01-08   day 60 = 2024-03-01   day 252 = 2024-09-09
    day 13  = 2024-01-14   day 26 = 2024-01-27   day 336 = 2024-12-02
                                                 day 406 = 2025-02-10
"""

from datetime import date, timedelta
from decimal import Decimal

from therapy.rules.doses import DoseRow
from therapy.rules.pregnancy import PregnancyTest
from therapy.rules.thalidomide import ThalidomidePatient

D = Decimal
START = date(2024, 1, 1)


def day(n: int) -> date:
    return START + timedelta(days=n)


def rows(*pairs) -> list[DoseRow]:
    """(day, mg) pairs → dose rows."""
    return [DoseRow(date=day(n), dose_mg=D(str(mg))) for n, mg in pairs]


def row(n: int, mg) -> DoseRow:
    return DoseRow(date=day(n), dose_mg=D(str(mg)))


def negatives(*days) -> tuple[PregnancyTest, ...]:
    return tuple(PregnancyTest(date=day(n), result="negative") for n in days)


def positive(n: int) -> PregnancyTest:
    return PregnancyTest(date=day(n), result="positive")


def grades(*pairs) -> tuple[tuple[date, int], ...]:
    return tuple((day(n), grade) for n, grade in pairs)


def man(**changes) -> ThalidomidePatient:
    """An adult man, neuropathy grade 0 recorded a week before day 0."""
    fields = dict(
        regimen="adult",
        target_dose_mg=None,
        sex="M",
        female_of_reproductive_potential=False,
        irregular_cycles=None,
        contraception_start=None,
        neuropathy=grades((-7, 0)),
    )
    fields.update(changes)
    return ThalidomidePatient(**fields)


def woman(*test_days, **changes) -> ThalidomidePatient:
    """An adult woman of reproductive potential, regular cycles, contraception from day −35,
    negative pregnancy tests on the given days."""
    fields = dict(
        regimen="adult",
        target_dose_mg=None,
        sex="F",
        female_of_reproductive_potential=True,
        irregular_cycles=False,
        contraception_start=day(-35),
        neuropathy=grades((-7, 0)),
        pregnancy_tests=negatives(*test_days),
    )
    fields.update(changes)
    return ThalidomidePatient(**fields)


def child(kg, weighed: int = -1, **changes) -> ThalidomidePatient:
    """A boy on the paediatric regimen weighing ``kg`` on day ``weighed``."""
    fields = dict(
        regimen="paediatric",
        target_dose_mg=None,
        sex="M",
        female_of_reproductive_potential=False,
        irregular_cycles=None,
        contraception_start=None,
        neuropathy=grades((-7, 0)),
        weights=((day(weighed), D(str(kg))),),
    )
    fields.update(changes)
    return ThalidomidePatient(**fields)


BEFORE = (-12, 0)  # the two pre-start tests
WEEKLY = (-12, 0, 7, 14, 21)
