"""Pure demographic rules: age in whole years and reproductive potential.

No Django, no clock: callers pass the date (clinical-rules.md conventions).
"""

from datetime import date


def age_in_years(birth_date: date, on: date) -> int:
    """Age in completed years on ``on``.

    A 29 February birthday counts on 1 March in non-leap years
    (clinical-rules.md, Conventions).
    """
    years = on.year - birth_date.year
    try:
        birthday_this_year = birth_date.replace(year=on.year)
    except ValueError:  # 29 February in a non-leap year
        birthday_this_year = date(on.year, 3, 1)
    if on < birthday_this_year:
        years -= 1
    return years


def female_of_reproductive_potential(*, sex, recorded, exemption, premenarchal) -> bool:
    """R5.1: every female patient unless an exemption is recorded.

    ``recorded`` is the clinician's explicit flag (True/False/None). For a
    female patient the answer is False only when an exemption (hysterectomy,
    bilateral oophorectomy, >= 24 months without menses) or premenarchal
    status is recorded; a bare "no" without a reason is not trusted (the
    safer reading of R5.1). Males are never "female of reproductive
    potential" (the condom rule of R5.3 applies to every male separately).
    """
    if sex != "F":
        return False
    # A recorded "no" without an exemption (refused by Patient.clean, but
    # possible in legacy data) is treated the safe way: still of potential.
    return not (exemption or premenarchal)
