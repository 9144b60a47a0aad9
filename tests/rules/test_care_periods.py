"""Pure: a patient's periods of care at the sites of a network (issue 18), worked by hand."""

from datetime import date

import pytest

from patients.periods import Move, Period, care_periods, first_care

D = date


@pytest.mark.parametrize(
    "created, first_visit, expected",
    [
        (D(2026, 3, 1), None, D(2026, 3, 1)),  # no visit yet: the day the record was made
        (D(2026, 3, 1), D(2024, 1, 5), D(2024, 1, 5)),  # imported with past visits: the first visit
        (D(2024, 1, 1), D(2024, 1, 5), D(2024, 1, 1)),  # registered before the first visit
        (None, None, None),
    ],
)
def test_first_care_is_the_earlier_of_creation_and_first_visit(created, first_visit, expected):
    assert first_care(created, first_visit) == expected


@pytest.mark.parametrize(
    "current, start, moves, expected",
    [
        # Never transferred: one open period.
        ("MAIN", D(2024, 1, 5), [], [Period("MAIN", D(2024, 1, 5), None)]),
        # MAIN → EAST on 2026-03-02: MAIN's period closes the day EAST's opens.
        ("EAST", D(2024, 1, 5), [Move("MAIN", "EAST", D(2026, 3, 2))],
         [Period("MAIN", D(2024, 1, 5), D(2026, 3, 2)), Period("EAST", D(2026, 3, 2), None)]),
        # MAIN → EAST → MAIN: the same site twice, each stay its own period.
        ("MAIN", D(2024, 1, 5), [Move("MAIN", "EAST", D(2025, 1, 1)), Move("EAST", "MAIN", D(2025, 6, 30))],
         [Period("MAIN", D(2024, 1, 5), D(2025, 1, 1)), Period("EAST", D(2025, 1, 1), D(2025, 6, 30)),
          Period("MAIN", D(2025, 6, 30), None)]),
        # Two moves on one day (recorded in this order): EAST held the patient for no day at all.
        ("WEST", D(2024, 1, 5), [Move("MAIN", "EAST", D(2025, 1, 1)), Move("EAST", "WEST", D(2025, 1, 1))],
         [Period("MAIN", D(2024, 1, 5), D(2025, 1, 1)), Period("EAST", D(2025, 1, 1), D(2025, 1, 1)),
          Period("WEST", D(2025, 1, 1), None)]),
        # A first care after the first move (older data): the period starts on the move, never after its end.
        ("EAST", D(2026, 5, 1), [Move("MAIN", "EAST", D(2026, 3, 2))],
         [Period("MAIN", D(2026, 3, 2), D(2026, 3, 2)), Period("EAST", D(2026, 3, 2), None)]),
        # Unknown first care: the first period has no start.
        ("EAST", None, [Move("MAIN", "EAST", D(2026, 3, 2))],
         [Period("MAIN", None, D(2026, 3, 2)), Period("EAST", D(2026, 3, 2), None)]),
    ],
)
def test_care_periods(current, start, moves, expected):
    assert care_periods(current_site=current, first_care=start, moves=moves) == expected
