"""Load the cohort from the database as plain records for reports/cohort.py.

One query per table for the whole cohort (values_list, no model instances
per row), so the report costs the same number of queries for 10 or 10,000
patients.

Sites (issue 18): every loader takes ``site_ids`` — None for every site (the whole
network), else the ids of the sites whose patients the figures cover. The filter goes
into the queries themselves (``site_id IN (…)`` on the course or patient query; the
other tables follow by patient id), so the number of queries does not depend on the
number of sites. A patient counts for the site they belong to now (``Patient.site``).
Which sites a user may choose: reports/access.py.
"""

import gc
import hashlib
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from patients.demographics import age_in_years
from patients.models import Patient, site_ids_of
from reports import cohort, cohort_blocks, cohort_members
from reports.prescription_figures import CohortPrescription
from reports.statistics import median_iqr, round_half_up
from safety.models import AdverseEvent
from sites.models import Site
from thalimon.protections import CLINICAL_DATA, generation
from thalimon.rules_config import rule_settings, rules_version
from therapy.models import DoseChange, Prescription, TherapyCourse
from therapy.rules.doses import DoseRow, stop_date
from visits.endoscopy_outcomes import EndoObs
from visits.models import Endoscopy, LabResult, Visit

# Reports running with the cyclic collector paused, in this process (threads share it).
_pause_lock = threading.Lock()
_pauses = {"running": 0, "resume": False}


@contextmanager
def cycle_collection_paused():
    """Python's cyclic garbage collector paused while a report builds its records: a network
    of 100,000 patients is several million small records, none of them in a reference
    cycle, and each full collection walks every live object — about a fifth of the network
    report (6 s of 28 s measured). Reference counting still frees everything. The collector
    is process-wide and a web process serves requests on several threads, so the pauses are
    counted: the first report to start pauses it, the last to end resumes it (unless it was
    already paused by someone else, who then resumes it)."""
    with _pause_lock:
        if _pauses["running"] == 0:
            _pauses["resume"] = gc.isenabled()
            gc.disable()
        _pauses["running"] += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses["running"] -= 1
            if _pauses["running"] == 0 and _pauses["resume"]:
                gc.enable()


def _of_diagnosis(diagnosis, field="diagnosis"):
    """The filter of a cohort's diagnosis (none for all diagnoses, R8 cohort in cohort.in_cohort)."""
    return {} if diagnosis == cohort.ALL_DIAGNOSES else {field: diagnosis}


def _of_sites(site_ids, field="site_id"):
    """The filter of the sites a report covers (none for every site: the whole network)."""
    return {} if site_ids is None else {f"{field}__in": sorted(set(site_ids))}


def cohort_patients(*, as_of, diagnosis="CD", site_ids=None):
    """CohortPatient records of the patients with ``diagnosis`` (or any, for ``all``) and a
    course started by ``as_of``, of the sites ``site_ids`` (None: every site)."""
    in_cohort = TherapyCourse.objects.filter(
        **_of_diagnosis(diagnosis, "patient__diagnosis"), **_of_sites(site_ids, "patient__site_id"),
        start_date__lte=as_of,
    )
    courses, stops = {}, {}
    for pid, start, stop in in_cohort.values_list("patient_id", "start_date", "stop_date"):
        courses[pid], stops[pid] = start, stop
    # The other tables are read by a subquery of the same patients, not a list of their ids:
    # a network's 100,000 ids sent with each query would cost more than the rows.
    ids = in_cohort.values("patient_id")
    # Visits and labs are built positionally (a network has a million of each; keywords
    # cost a quarter more): CohortVisit(date, contact, cdai, relapse_event), CohortLab(date, test, value).
    visits = defaultdict(list)
    for pid, day, contact, cdai, event in (
        Visit.objects.filter(patient_id__in=ids, date__lte=as_of)
        .order_by("date").values_list("patient_id", "date", "contact", "cdai", "relapse_event")
    ):
        visits[pid].append(cohort.CohortVisit(day, contact, cdai, event))
    labs = defaultdict(list)
    for pid, day, test, value in (
        LabResult.objects.filter(patient_id__in=ids, date__lte=as_of, test__in=["crp", "esr"])
        .values_list("patient_id", "date", "test", "value")
    ):
        labs[pid].append(cohort.CohortLab(day, test, value))
    endoscopies = defaultdict(list)
    for pk, pid, day, cdeis, ses, rutgeerts, ulceration in (
        Endoscopy.objects.filter(patient_id__in=ids, date__lte=as_of)
        .values_list("pk", "patient_id", "date", "cdeis", "ses_cd", "rutgeerts", "ulceration")
    ):
        endoscopies[pid].append(
            EndoObs(key=pk, date=day, cdeis=cdeis, ses_cd=ses, rutgeerts=rutgeerts, ulceration=ulceration)
        )
    events = defaultdict(list)
    for pid, onset, term, drug, act_t, act_a, hospitalised in (
        AdverseEvent.objects.filter(patient_id__in=ids, onset__lte=as_of).values_list(
            "patient_id", "onset", "term", "drug", "action_thalidomide", "action_azathioprine", "hospitalised"
        )
    ):
        events[pid].append(
            cohort.CohortAdverseEvent(
                onset=onset, term=term, drug=drug, action_thalidomide=act_t,
                action_azathioprine=act_a, hospitalised=hospitalised,
            )
        )
    doses = defaultdict(list)
    thalidomide_rows = defaultdict(list)
    for pid, day, dose, deviations, override in (
        DoseChange.objects.filter(patient_id__in=ids, drug="thalidomide", date__lte=as_of)
        .order_by("date").values_list("patient_id", "date", "dose_mg", "deviations", "override_reason")
    ):
        doses[pid].append(
            cohort.CohortDose(date=day, dose_mg=dose, deviations=tuple(deviations or ()), overridden=bool(override))
        )
        thalidomide_rows[pid].append(DoseRow(date=day, dose_mg=dose))
    prescriptions = _prescriptions_of(ids, as_of)
    patients = []
    for row in Patient.objects.filter(pk__in=ids).order_by("code").values(
        "pk", "code", "diagnosis", "status", "status_date", "baseline_cdai", "crp_at_lor", "esr_at_lor", "site__code"
    ):
        pid = row["pk"]
        if pid not in courses:
            continue  # a course begun while these queries ran: in the next report, whole
        patients.append(
            cohort.CohortPatient(
                code=row["code"], diagnosis=row["diagnosis"], start=courses[pid], stop=_stop_as_of(
                    thalidomide_rows[pid], stops[pid], as_of
                ),
                status=row["status"], status_date=row["status_date"],
                recorded_baseline_cdai=row["baseline_cdai"], crp_at_lor=row["crp_at_lor"],
                esr_at_lor=row["esr_at_lor"], visits=tuple(visits[pid]), labs=tuple(labs[pid]),
                endoscopies=tuple(endoscopies[pid]), adverse_events=tuple(events[pid]),
                thalidomide_doses=tuple(doses[pid]), prescriptions=tuple(prescriptions[pid]),
                site=row["site__code"],
            )
        )
    return patients


def _prescriptions_of(ids, as_of):
    """{patient id: [CohortPrescription]} issued on or before ``as_of`` (one query)."""
    prescriptions = defaultdict(list)
    for pid, issued, deviations, dispensed, dispense_by, override in (
        Prescription.objects.filter(patient_id__in=ids, issue_date__lte=as_of).order_by("issue_date").values_list(
            "patient_id", "issue_date", "deviations", "dispensed_date", "dispense_by", "override_reason"
        )
    ):
        prescriptions[pid].append(CohortPrescription(
            issue_date=issued, deviations=tuple(deviations or ()), dispensed_date=dispensed, dispense_by=dispense_by,
            overridden=bool(override),
        ))
    return prescriptions


def _stop_as_of(rows, recorded_stop, as_of):
    """The stop in force on ``as_of`` from the dose rows up to it (R8: later records are ignored)."""
    if rows:
        return stop_date(rows, as_of)
    return recorded_stop if recorded_stop and recorded_stop <= as_of else None


def baseline_characteristics(*, as_of, diagnosis="CD", site_ids=None):
    """Li 2020 Table 1 style: who the cohort is at therapy start (an added key). Montreal
    codes are Crohn's disease codes: another diagnosis counts as ``not_applicable``; the
    all-diagnoses report adds the share of each diagnosis. ``site_ids`` as cohort_patients."""
    rows = list(
        Patient.objects.filter(
            **_of_diagnosis(diagnosis), **_of_sites(site_ids), course__start_date__lte=as_of
        ).values(
            "diagnosis", "sex", "birth_date", "course__start_date", "montreal_location", "montreal_behavior", "upper_gi",
            "perianal", "smoker", "prior_biologic", "ileocolic_resection",
        )
    )
    n = len(rows)

    def share(count):
        return {"n": count, "pct": round_half_up(Decimal(count) * 100 / n, 1) if n else None}

    ages = [age_in_years(r["birth_date"], r["course__start_date"]) for r in rows]
    location = Counter(_montreal(r, "montreal_location") for r in rows)
    behaviour = Counter(_montreal(r, "montreal_behavior") for r in rows)
    shares = {
        "n": n,
        "male": share(sum(r["sex"] == "M" for r in rows)),
        "age_median_iqr": median_iqr(ages),
        "montreal_location": {k: share(v) for k, v in sorted(location.items())},
        "upper_gi": share(sum(r["upper_gi"] for r in rows)),
        "montreal_behavior": {k: share(v) for k, v in sorted(behaviour.items())},
        "perianal": share(sum(r["perianal"] for r in rows)),
        "smoker": share(sum(r["smoker"] for r in rows)),
        "prior_biologic": share(sum(r["prior_biologic"] for r in rows)),
        "ileocolic_resection": share(sum(r["ileocolic_resection"] for r in rows)),
    }
    if diagnosis == cohort.ALL_DIAGNOSES:
        counts = Counter(r["diagnosis"] for r in rows)
        shares["diagnosis"] = {code: share(counts[code]) for code in ("CD", "UC", "AID") if counts[code]}
    return shares


def _montreal(row, field):
    if row["diagnosis"] != cohort.ACTIVITY_DIAGNOSIS:
        return "not_applicable"
    return row[field] or "unknown"


def cohort_report(*, as_of=None, diagnosis="CD", site_ids=None):
    """The R8 report (interfaces.md §3) for the database as of ``as_of``, over the patients
    of the sites ``site_ids`` (None: every site, the whole network).

    Added keys (issue 18): ``site``, the code of the one site the figures cover, or null
    (the whole network, or several sites); ``sites``, the sites covered
    (``[{"code", "name"}]``, by code), or null for the whole network."""
    as_of = as_of or timezone.localdate()
    rules = rule_settings()
    with cycle_collection_paused():
        report = cohort_blocks.cohort_report(
            cohort_patients(as_of=as_of, diagnosis=diagnosis, site_ids=site_ids),
            as_of=as_of,
            diagnosis=diagnosis,
            rules_version=rules_version(),
            remission_below=rules.remission_cdai_below,
            response_drop=rules.response_cdai_drop,
            cdeis_remission_below=rules.cdeis_remission_below,
        )
    report["baseline"] = baseline_characteristics(as_of=as_of, diagnosis=diagnosis, site_ids=site_ids)
    report.update(sites_covered(site_ids))
    return report


def sites_covered(site_ids):
    """The report's ``site`` and ``sites`` keys for ``site_ids`` (one query; none for the
    whole network)."""
    if site_ids is None:
        return {"site": None, "sites": None}
    sites = [{"code": code, "name": name}
             for code, name in Site.objects.filter(pk__in=sorted(set(site_ids))).order_by("code").values_list(
                 "code", "name")]
    return {"site": sites[0]["code"] if len(sites) == 1 else None, "sites": sites}


def sites_key(site_ids):
    """The part of a cache key that names the sites a report covers: two choices of sites
    never share a cached value. ``all`` for the whole network; else the sorted ids (a
    digest of them once the list is long, so that a key stays short)."""
    if site_ids is None:
        return "all"
    ids = "-".join(str(pk) for pk in sorted(set(site_ids)))
    return f"s{ids}" if len(ids) <= 64 else "h" + hashlib.sha256(ids.encode()).hexdigest()[:32]


def data_fingerprint():
    """The latest history row of every table the report reads, in one query.

    Every write to clinical data (form, import, admin, deletion) adds a history
    row, so a report cached under this fingerprint can never be stale.
    """
    tables = [m.history.model._meta.db_table for m in (
        Patient, TherapyCourse, Visit, LabResult, Endoscopy, DoseChange, AdverseEvent, Prescription,
        Site,  # the report names the sites it covers
    )]
    sql = "SELECT " + ", ".join(f"(SELECT MAX(history_id) FROM {t})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return "-".join(str(v or 0) for v in cursor.fetchone())


def cached(prefix, compute, *, recent=None, fresh=False):
    """compute(), cached under ``prefix`` and the rules version and the data's state.

    With ``recent`` (a timedelta), returns ``(value, computed_at)``: ``computed_at`` is
    None for the value of the data as it is now; otherwise it is the time of the latest
    value computed (from older data) less than ``recent`` ago, served instead of computing
    again — the page says so. One process computes a given prefix at a time: the others
    wait for its value (at most ``COMPUTE_WAIT``) instead of computing it too."""
    # The generation is bumped when clinical data commits (safety.actions, the import): a
    # write that committed after a later history id was read can never leave a stale value.
    commits = generation(CLINICAL_DATA)
    if commits is None:  # the cache is down: computed, not cached
        return (compute(), None) if recent is not None else compute()
    key = f"{prefix}:{rules_version()}:{commits}:{data_fingerprint()}"
    latest_key = f"{prefix}:{rules_version()}:latest"
    value = cache.get(key)
    if value is None and recent is not None and not fresh:
        latest = cache.get(latest_key)
        if latest and latest["at"] > timezone.now() - recent:
            return latest["value"], latest["at"]
    if value is None:
        value, computed_at = _compute_once(key, latest_key, compute, accept_latest=recent is not None)
        return (value, computed_at) if recent is not None else value
    return (value, None) if recent is not None else value


COMPUTE_WAIT = 60  # seconds a request waits for another process computing the same report


def _compute_once(key, latest_key, compute, *, accept_latest):
    """``(value, computed_at)``: computed here, or by the process already computing it
    (its value for this data; or, where ``accept_latest``, whatever it finished after this
    request began, with its time)."""
    lock = f"{latest_key}:computing"
    began = timezone.now()
    if not cache.add(lock, 1, timeout=COMPUTE_WAIT * 2):
        deadline = time.monotonic() + COMPUTE_WAIT
        while time.monotonic() < deadline:  # another process computes it: wait for its value
            time.sleep(0.25)
            value = cache.get(key)
            if value is not None:
                return value, None
            latest = cache.get(latest_key) if accept_latest else None
            if latest and latest["at"] >= began:
                return latest["value"], latest["at"]
            if not cache.get(lock):
                break
    try:
        value = compute()
        cache.set(key, value, timeout=6 * 3600)
        cache.set(latest_key, {"value": value, "at": timezone.now()}, timeout=6 * 3600)
    finally:
        cache.delete(lock)
    return value, None


def _report_prefix(as_of, diagnosis, site_ids):
    return f"cohort-report-v2:{as_of:%Y-%m-%d}:{diagnosis}:{sites_key(site_ids)}"


def cached_cohort_report(*, as_of=None, diagnosis="CD", site_ids=None):
    """cohort_report() of the data as it is now, cached per (as_of, diagnosis, sites, rules,
    data fingerprint): for the downloads, the command and the JSON."""
    as_of = as_of or timezone.localdate()
    return cached(_report_prefix(as_of, diagnosis, site_ids),
                   lambda: cohort_report(as_of=as_of, diagnosis=diagnosis, site_ids=site_ids))


def recent_cohort_report(*, as_of=None, diagnosis="CD", site_ids=None, fresh=False):
    """For the report page: ``(report, computed_at)``. While clinical data keeps changing
    (a clinic at work), the report computed less than ``THALIMON_REPORT_RECENT_SECONDS``
    (300) ago is shown, with its time (``computed_at``), rather than computing the whole
    cohort again for every view; ``fresh`` computes it now. None: the data as it is now.
    The recent report is one of the same sites: the sites are part of its key."""
    as_of = as_of or timezone.localdate()
    recent = timedelta(seconds=getattr(settings, "THALIMON_REPORT_RECENT_SECONDS", 300))
    return cached(_report_prefix(as_of, diagnosis, site_ids),
                   lambda: cohort_report(as_of=as_of, diagnosis=diagnosis, site_ids=site_ids),
                   recent=recent, fresh=fresh)


def figure_members(*, as_of, diagnosis, key, site_ids=None):
    """The patients behind one count of the report (reports/cohort_members.py) of the sites
    ``site_ids`` (None: every site), cached like the report; None for a key that names no
    count."""
    if not cohort_members.is_figure_key(key):
        return None  # refused before any data is read

    def compute():
        rules = rule_settings()
        with cycle_collection_paused():
            figure = cohort_members.figure_members(
                cohort_patients(as_of=as_of, diagnosis=diagnosis, site_ids=site_ids), key=key, as_of=as_of,
                diagnosis=diagnosis, remission_below=rules.remission_cdai_below,
                response_drop=rules.response_cdai_drop,
            )
        return figure or False  # a cached "no such figure" is False, never a miss

    prefix = f"cohort-figure-v2:{as_of:%Y-%m-%d}:{diagnosis}:{sites_key(site_ids)}:{key}"
    return cached(prefix, compute) or None


# What a drill-down counts (cohort_members' units), as its page says it.
UNIT_WORDS = {"events": gettext_lazy("events"), "dose rows": gettext_lazy("dose rows"),
              "prescriptions": gettext_lazy("prescriptions")}


def figure_listing(figure, user):
    """The codes of ``figure`` that ``user`` may see, and what the others add up to.

    A patient restricted to a care team the user is not in stays in the count (as in the
    report) but is not named, not even by code: ``hidden`` says how many such patients
    there are and what they add to the figure. Names are never listed, for any role.
    A patient of a site the user is not a member of (a network lead's figure of another
    site) is not named either; ``other_site_*`` and ``care_team_*`` split the hidden ones
    by the reason, so the page says the right one.
    """
    # Of another site, or restricted to a care team the user is not in (issue 18): one query.
    restricted = dict(
        Patient.objects.hidden_from(user).filter(code__in=list(figure.counts)).values_list("code", "site_id")
    )
    mine = set(site_ids_of(user))
    may_open = user.has_perm("patients.view_patient")
    rows = [
        {"code": code, "count": count, "link": may_open, "diagnosis": figure.diagnoses.get(code, "")}
        for code, count in figure.counts.items() if code not in restricted
    ]
    hidden = [count for code, count in figure.counts.items() if code in restricted]
    elsewhere = [count for code, count in figure.counts.items() if code in restricted and restricted[code] not in mine]
    return {"rows": rows, "hidden_patients": len(hidden), "hidden_count": sum(hidden),
            "other_site_patients": len(elsewhere), "other_site_count": sum(elsewhere),
            "care_team_patients": len(hidden) - len(elsewhere), "care_team_count": sum(hidden) - sum(elsewhere),
            "unit": UNIT_WORDS.get(figure.unit, figure.unit)}
