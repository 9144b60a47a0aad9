"""The navbar's language switcher: each language in its own name (never translated)."""

from django import template

from accounts.models import BROWSER, LANGUAGE_CHOICES

register = template.Library()


@register.simple_tag
def own_language_names():
    """[(code, the language's own name)], e.g. ("zh-hans", "简体中文")."""
    return [(code, name) for code, name in LANGUAGE_CHOICES if code != BROWSER]
