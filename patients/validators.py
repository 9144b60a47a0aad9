"""Range validators whose message names the field and its unit (shared by every app's models)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.functional import lazy
from django.utils.translation import gettext


def _range_message(low, high, unit, label):
    return gettext("%(label)s must be between %(low)s and %(high)s %(unit)s.") % {
        "label": label, "low": low, "high": high, "unit": unit,
    }


range_message = lazy(_range_message, str)


def decimal_range(low, high, unit, label):
    """Min/max validators for ``label`` between ``low`` and ``high`` ``unit`` (the message in
    the reader's language, formed when shown)."""
    message = range_message(low, high, unit, label)
    return [
        MinValueValidator(Decimal(str(low)), message=message),
        MaxValueValidator(Decimal(str(high)), message=message),
    ]


def between(low, high, message):
    """Min/max validators with one message."""
    return [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]
