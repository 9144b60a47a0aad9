"""Reverse a URL once for a whole list: pages with many rows link every row."""

from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

_SENTINEL = "90817263544536271809"  # digits: it must also fit <int:pk>


_BUILDERS = {}  # (urlconf, script prefix, name) -> build


def url_pattern(name):
    """A function of one argument (a pk or a code) that builds ``name``'s URL the way
    ``reverse(name, args=[value])`` would, after reversing only once per process (per URL
    configuration and script prefix, as ``reverse`` itself depends on them)."""
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), name)
    build = _BUILDERS.get(key)
    if build is None:
        template = reverse(name, args=[_SENTINEL])

        def build(value):
            return template.replace(_SENTINEL, quote(str(value), safe=""))

        _BUILDERS[key] = build
    return build
