from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
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
        raise ValidationError(f"{label} cannot be in the future (today is {today:%Y-%m-%d}).", code="future")
    return day
