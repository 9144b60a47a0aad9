"""The date argument the report and scan commands share, parsed and refused alike."""

from datetime import date

from django.core.management.base import CommandError
from django.utils import timezone


def as_of_date(value):
    """``--as-of``: a date as YYYY-MM-DD, or a CommandError naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--as-of: expected a date as YYYY-MM-DD, got '{value}'.") from error


def refuse_future(as_of):
    """A report as of a day to come counts what has not happened: refused."""
    if as_of and as_of > timezone.localdate():
        raise CommandError(
            f"--as-of: {as_of:%Y-%m-%d} is in the future; the report cannot count what has not happened."
        )
