from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator, MaxValueValidator, MinValueValidator
from django.forms.utils import pretty_name
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from thalimon import saying


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "Username or password is not correct. After 5 failed attempts the account "
            "is locked for an hour."
        ),
    }


def run_action(form, call):
    """Call an action for a bound, valid form; a refusal (ValidationError) becomes the
    form's errors — on the field it names, else on the form — and nothing is saved.

    An edit conflict (optimistic locking) keeps what was typed and lets the next save
    go through against the version stored now.
    """
    try:
        return call()
    except ValidationError as error:
        if getattr(error, "current_version", None) is not None:
            form.data = form.data.copy()
            form.data["expected_version"] = str(error.current_version)
        if hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return None


def not_in_future(day, label):
    """A date field's value, refused when after today in the clinic's time zone (the
    same words as the model's check, so the form says it before any rule is judged)."""
    today = timezone.localdate()
    if day is not None and day > today:
        raise ValidationError(
            gettext("%(label)s cannot be in the future (today is %(today)s).")
            % {"label": label, "today": saying.day(today)},
            code="future",
        )
    return day


def _limit(validator):
    value = validator.limit_value() if callable(validator.limit_value) else validator.limit_value
    return format(Decimal(str(value)).normalize(), "f") if isinstance(value, (int, float, Decimal)) else str(value)


def _own_message(validator):
    """A model's range validator already written with its own words (patients.validators)."""
    return validator.message != type(validator).message


def _range_text(low, high):
    if low is not None and high is not None:
        return gettext("from %(low)s to %(high)s") % {"low": low, "high": high}
    if low is not None:
        return gettext("of at least %(low)s") % {"low": low}
    return gettext("of at most %(high)s") % {"high": high}


def _labelled(text, label, accepted=""):
    """A translated field message with the field's label (and accepted range) put in; Django's
    own placeholders (%(limit_value)d …) are left for Django to fill."""
    return text.replace("%(label)s", label).replace("%(range)s", accepted)


def name_field_limits(form):
    """Number fields say which field is wrong and what it accepts ("Weight (kg): enter a
    value from 1 to 400."), not Django's generic "Ensure this value is greater than or
    equal to 0". The range is read from the field's own validators (form or model)."""
    for name, field in form.fields.items():
        label = str(field.label or pretty_name(name)).replace("%", "%%")
        if isinstance(field, forms.CharField):
            field.error_messages = {
                **field.error_messages,
                "min_length": _labelled(
                    gettext("%(label)s: write at least %(limit_value)d characters (now %(show_value)d)."), label
                ),
                "max_length": _labelled(
                    gettext("%(label)s: at most %(limit_value)d characters (now %(show_value)d)."), label
                ),
            }
        if isinstance(field, forms.ChoiceField):
            field.error_messages = {
                **field.error_messages,
                "invalid_choice": _labelled(
                    gettext("%(label)s: choose one of the options listed (“%(value)s” is not one)."), label
                ),
            }
        if not isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField)):
            continue
        low = next((_limit(v) for v in field.validators if isinstance(v, MinValueValidator)), None)
        high = next((_limit(v) for v in field.validators if isinstance(v, MaxValueValidator)), None)
        messages = {}
        whole = isinstance(field, forms.IntegerField) and not isinstance(field, forms.DecimalField)
        if low is not None or high is not None:
            accepted = _range_text(low, high)
            invalid = (
                gettext("%(label)s: enter a whole number %(range)s.") if whole
                else gettext("%(label)s: enter a number %(range)s.")
            )
            messages["invalid"] = _labelled(invalid, label, accepted)
            if not all(_own_message(v) for v in field.validators if isinstance(v, (MinValueValidator, MaxValueValidator))):
                value = _labelled(gettext("%(label)s: enter a value %(range)s."), label, accepted)
                messages.update(min_value=value, max_value=value)
        else:
            invalid = gettext("%(label)s: enter a whole number.") if whole else gettext("%(label)s: enter a number.")
            messages["invalid"] = _labelled(invalid, label)
        if any(isinstance(v, DecimalValidator) for v in field.validators) or isinstance(field, forms.DecimalField):
            messages.update(
                max_decimal_places=_labelled(gettext("%(label)s: at most %(max)s decimal place(s)."), label),
                max_digits=_labelled(gettext("%(label)s: at most %(max)s digits in total."), label),
                max_whole_digits=_labelled(
                    gettext("%(label)s: at most %(max)s digits before the decimal point."), label
                ),
            )
        field.error_messages = {**field.error_messages, **messages}
