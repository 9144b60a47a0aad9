"""Where a page returns after a save: the page the user came from (``next``), when it is
a path on this site, else the page's own default."""

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.utils.http import url_has_allowed_host_and_scheme


def next_url(request, default):
    """The safe ``next`` of the request (POST, then GET), else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def with_next(url, back):
    """``url`` with ``next=back`` in its query (before any #part), so the page it opens
    returns to ``back`` after its save (``next_url`` checks it). A filter in templates."""
    if not url or not back:
        return url
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode({"next": back})) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def own_path(request):
    """The page's path and query without its own ``next``: where a control on the page (the
    language switcher) returns to, never carrying on an address the page was given."""
    query = request.GET.copy()
    query.pop("next", None)
    return f"{request.path}?{query.urlencode()}" if query else request.path
