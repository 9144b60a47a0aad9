"""Reverse a URL once for a whole list: pages with many rows link every row."""

from urllib.parse import quote

from django.urls import reverse

_SENTINEL = "90817263544536271809"  # digits: it must also fit <int:pk>


def url_pattern(name):
    """A function of one argument (a pk or a code) that builds ``name``'s URL the way
    ``reverse(name, args=[value])`` would, after reversing only once."""
    template = reverse(name, args=[_SENTINEL])

    def build(value):
        return template.replace(_SENTINEL, quote(str(value), safe=""))

    return build
