"""Which sites a user's cohort report may cover (issue 18): the one rule for the report
page, its downloads and its drill-downs.

* A network lead (the permission ``reports.view_network_report``) may choose the whole
  network (the default) or any one site.
* Everyone else (clinic leads) may choose only the sites they are a member of
  (``patients.models.site_ids_of``): all of them (the default) or one. Their figures
  never include another site's patients.

The command line (``cohort_report --site CODE``) is the operator's tool and may report
on any site or the whole network.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from patients.models import site_ids_of
from sites.models import Site

NETWORK_REPORT_PERMISSION = "reports.view_network_report"


@dataclass(frozen=True)
class SiteChoice:
    """One choice of the report's Site filter.

    ``value``: what the filter sends ("" for the default choice, else a site code);
    ``site_ids``: the sites the figures cover (None: every site, the whole network);
    ``own``: the default of a user who is not a network lead (all the sites they are a
    member of), which the page calls "your sites"."""

    value: str
    label: str
    site_ids: tuple | None
    own: bool = False


def report_site_choices(user):
    """The Site filter's choices for ``user``, the default first (one query, beside the
    user's site ids that every page reads once; never one query a site)."""
    if user.has_perm(NETWORK_REPORT_PERMISSION):
        sites = list(Site.objects.order_by("code").values_list("pk", "code", "name"))
        default = SiteChoice("", _("All sites (the whole network)"), None)
    else:
        sites = list(Site.objects.filter(pk__in=site_ids_of(user)).order_by("code").values_list("pk", "code", "name"))
        codes = ", ".join(code for _pk, code, _name in sites) or _("none")
        default = SiteChoice("", _("All my sites (%(codes)s)") % {"codes": codes},
                             tuple(pk for pk, _code, _name in sites), own=True)
    return [default] + [SiteChoice(code, f"{code} — {name}", (pk,)) for pk, code, name in sites]


def site_choice(choices, value):
    """The choice of ``choices`` that ``value`` names (a site code, compared ignoring case,
    as in a datasheet; "" or None: the default), or None when it names none of them."""
    wanted = (value or "").strip()
    exact = next((choice for choice in choices if choice.value == wanted), None)
    return exact or next((choice for choice in choices if choice.value.lower() == wanted.lower()), None)
