"""The inbox's and patient list's cells are written by patients/templatetags/clinic_columns.py with
its own ``format_html`` (no lazy-text wrappers: the inbox's time); it must escape exactly as
Django's does, so a patient's name or a reason can never inject markup."""

import pytest
from django.utils.html import format_html as django_format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from patients.templatetags.clinic_columns import format_html

CASES = [
    ("<script>alert('x')</script>",),
    ("O'Brien & \"Sons\" <b>",),
    (mark_safe("<b>kept</b>"), 5, None, 12.5),
    (gettext_lazy("Name"), "José Müller"),
    (django_format_html("<i>{}</i>", "<x>"), "<y>"),
]


@pytest.mark.parametrize("args", CASES)
def test_cells_escape_as_django_does(args):
    template = "<p>" + " | ".join("{}" for _ in args) + "</p>"
    assert format_html(template, *args) == django_format_html(template, *args)
    assert "<script>" not in format_html(template, *args) or not isinstance(args[0], str)
