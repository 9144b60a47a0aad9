"""How far a page counts rows before it says "more than …" (issue 15).

The inbox's sections and the navigation badge count reminders exactly up to
``COUNT_SHOWN_UP_TO``; above it they read "1000+". A badge that says 1000+ tells a
nurse as much as 11,234 does, and counting stops at the 1,001st row instead of reading
every open reminder of the clinic on every page. Every row stays reachable ("show more",
filters); only the number stops.
"""

COUNT_SHOWN_UP_TO = 1000


def count_shown(count):
    """``count`` as a page shows it: the number, or "1000+" above the cap."""
    if count is None:
        return ""
    if count > COUNT_SHOWN_UP_TO:
        return f"{COUNT_SHOWN_UP_TO}+"
    return str(count)
