"""Pure demographic rules (Conventions: age; R5.1), worked by hand."""

from datetime import date

import pytest

from patients.demographics import age_in_years, female_of_reproductive_potential


@pytest.mark.parametrize(
    "birth, on, expected",
    [
        (date(1990, 3, 14), date(2026, 3, 13), 35),  # day before the birthday
        (date(1990, 3, 14), date(2026, 3, 14), 36),  # on the birthday
        (date(2000, 2, 29), date(2023, 2, 28), 22),  # 29 Feb counts on 1 March ...
        (date(2000, 2, 29), date(2023, 3, 1), 23),  # ... in a non-leap year
        (date(2000, 2, 29), date(2024, 2, 29), 24),  # and on 29 Feb in a leap year
        (date(2010, 12, 31), date(2026, 1, 1), 15),
        (date(2010, 1, 1), date(2026, 1, 1), 16),  # 16 on the day: adult regimen (R3.1)
    ],
)
def test_age_in_whole_years(birth, on, expected):
    assert age_in_years(birth, on) == expected


@pytest.mark.parametrize(
    "sex, recorded, exemption, premenarchal, expected",
    [
        ("F", None, "", False, True),
        ("F", False, "", False, True),  # a bare "no" is not trusted (safe reading of R5.1)
        ("F", False, "hysterectomy", False, False),
        ("F", None, "", True, False),
        ("M", True, "", False, False),
    ],
)
def test_r5_1_female_of_reproductive_potential(sex, recorded, exemption, premenarchal, expected):
    assert (
        female_of_reproductive_potential(
            sex=sex, recorded=recorded, exemption=exemption, premenarchal=premenarchal
        )
        is expected
    )
