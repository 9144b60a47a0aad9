"""Template filters for clinical values."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import pgettext_lazy

from thalimon import counting, navigation, saying
from thalimon.said import join

register = template.Library()


# Units as the reader's language writes them (the others — mg, kg, cm, % — are the same in both).
UNITS = {"mg/day": pgettext_lazy("unit", "mg/day"), "/min": pgettext_lazy("unit", "/min")}


@register.filter
def num(value, unit=""):
    """A measured value without trailing zeros (12.50 -> 12.5, 164.0 -> 164), with its unit in
    the reader's language; "—" when missing."""
    if value is None or value == "":
        return "—"
    try:
        text = format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return str(value)
    return f"{text} {UNITS.get(unit, unit)}".strip()


@register.filter
def course_day(course, day):
    """Day N of therapy on ``day`` (start = day 0)."""
    return course.day(day)


@register.filter
def code_words(code):
    """A rule code in words: 'first_dose' -> 'first dose'."""
    return str(code or "").replace("_", " ")


@register.filter
def user_label(user, missing="import"):
    """A user's name for pages; records written by an import or a job have none."""
    if user is None:
        return missing
    return user.get_full_name() or user.username


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (None when absent)."""
    return mapping.get(key) if mapping else None


register.filter("with_next", navigation.with_next)
register.filter("own_path", navigation.own_path)


@register.filter
def said(reason):
    """A rule's reason in the reader's language (thalimon.saying.render)."""
    return saying.render(reason)


@register.filter
def day(value):
    """A day as the reader's language writes it (thalimon.saying.day)."""
    return saying.day(value)


@register.filter
def said_list(reasons):
    """A list of words or reasons in the reader's language, joined as that language lists them."""
    return saying.render(join(list(reasons or []), ", "))


@register.filter
def count_shown(count):
    """A count as the inbox and the badge show it: exact up to 1,000, then "1,000+"."""
    return counting.count_shown(count)
