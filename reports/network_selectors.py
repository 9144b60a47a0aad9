"""The network report from the database (issue 18): the cohort read once, grouped by site.

The cohort is loaded once (``reports.selectors.cohort_patients``: one query per table,
each patient with the code of their site) and the sites in one more query, so the report
costs the same number of queries for 2 sites or 50. The figures are reports/network.py's.

Each patient counts at the site they belong to now (``Patient.site``); a patient
transferred between sites counts wholly at the new one, also in a report as of an
earlier date.
"""

import hashlib
from collections import defaultdict

from django.utils import timezone

from reports import network
from reports.selectors import cached, cohort_patients, cycle_collection_paused
from sites.models import Site
from thalimon.rules_config import rule_settings, rules_version

CACHE_PREFIX = "network-report-v1"


def network_report(*, as_of=None, diagnosis="CD"):
    """The network report dict (reports/network.py) of the data as it is now, cached like
    the cohort report (per as_of, diagnosis, rules version and data state) and per the sites'
    codes and names as they are now (a site renamed or added is never served stale)."""
    as_of = as_of or timezone.localdate()
    sites = list(Site.objects.order_by("code").values_list("pk", "code", "name"))
    state = hashlib.sha256(repr(sites).encode()).hexdigest()[:16]
    return cached(f"{CACHE_PREFIX}:{as_of:%Y-%m-%d}:{diagnosis}:{state}",
                  lambda: _compute(as_of=as_of, diagnosis=diagnosis, sites=sites))


def _compute(*, as_of, diagnosis, sites):
    with cycle_collection_paused():
        return _report(as_of=as_of, diagnosis=diagnosis, sites=sites)


def _report(*, as_of, diagnosis, sites):
    groups = defaultdict(list, {code: [] for _, code, _ in sites})
    for patient in cohort_patients(as_of=as_of, diagnosis=diagnosis):
        groups[patient.site].append(patient)
    rules = rule_settings()
    return network.network_report(
        groups, as_of=as_of, diagnosis=diagnosis, rules_version=rules_version(),
        remission_below=rules.remission_cdai_below, response_drop=rules.response_cdai_drop,
        cdeis_remission_below=rules.cdeis_remission_below, names={code: name for _, code, name in sites},
    )
