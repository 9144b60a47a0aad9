"""Range validators whose message names the field and its unit (shared by every app's models)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator


def decimal_range(low, high, unit, label):
    """Min/max validators for ``label`` between ``low`` and ``high`` ``unit``."""
    message = f"{label} must be between {low} and {high} {unit}."
    return [
        MinValueValidator(Decimal(str(low)), message=message),
        MaxValueValidator(Decimal(str(high)), message=message),
    ]


def between(low, high, message):
    """Min/max validators with one message."""
    return [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]
