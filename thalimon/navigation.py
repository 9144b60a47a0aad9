"""Where a page returns after a save: the page the user came from (``next``), when it is
a path on this site, else the page's own default."""

from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request, default):
    """The safe ``next`` of the request (POST, then GET), else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
