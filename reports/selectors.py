"""Load the cohort from the database as plain records for reports/cohort.py.

One query per table for the whole cohort (values_list, no model instances
per row), so the report costs the same number of queries for 10 or 10,000
patients.
"""

import time
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from patients.demographics import age_in_years
from patients.models import Patient
from reports import cohort, cohort_members
from reports.prescription_figures import CohortPrescription
from safety.models import AdverseEvent
from thalimon.protections import CLINICAL_DATA, generation
from thalimon.rules_config import rule_settings, rules_version
from therapy.models import DoseChange, Prescription, TherapyCourse
from therapy.rules.doses import DoseRow, stop_date
from visits.endoscopy_outcomes import EndoObs
from visits.models import Endoscopy, LabResult, Visit


def _of_diagnosis(diagnosis, field="diagnosis"):
    """The filter of a cohort's diagnosis (none for all diagnoses, R8 cohort in cohort.in_cohort)."""
    return {} if diagnosis == cohort.ALL_DIAGNOSES else {field: diagnosis}


def cohort_patients(*, as_of, diagnosis="CD"):
    """CohortPatient records of the patients with ``diagnosis`` (or any, for ``all``) and a
    course started by ``as_of``."""
    courses = dict(
        TherapyCourse.objects.filter(
            **_of_diagnosis(diagnosis, "patient__diagnosis"), start_date__lte=as_of
        ).values_list("patient_id", "start_date")
    )
    stops = dict(
        TherapyCourse.objects.filter(patient_id__in=list(courses)).values_list("patient_id", "stop_date")
    )
    ids = list(courses)
    visits = defaultdict(list)
    for pid, day, contact, cdai, event in (
        Visit.objects.filter(patient_id__in=ids, date__lte=as_of)
        .order_by("date").values_list("patient_id", "date", "contact", "cdai", "relapse_event")
    ):
        visits[pid].append(cohort.CohortVisit(date=day, contact=contact, cdai=cdai, relapse_event=event))
    labs = defaultdict(list)
    for pid, day, test, value in (
        LabResult.objects.filter(patient_id__in=ids, date__lte=as_of, test__in=["crp", "esr"])
        .values_list("patient_id", "date", "test", "value")
    ):
        labs[pid].append(cohort.CohortLab(date=day, test=test, value=value))
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
        "pk", "code", "diagnosis", "status", "status_date", "baseline_cdai", "crp_at_lor", "esr_at_lor"
    ):
        pid = row["pk"]
        patients.append(
            cohort.CohortPatient(
                code=row["code"], diagnosis=row["diagnosis"], start=courses[pid], stop=_stop_as_of(
                    thalidomide_rows[pid], stops.get(pid), as_of
                ),
                status=row["status"], status_date=row["status_date"],
                recorded_baseline_cdai=row["baseline_cdai"], crp_at_lor=row["crp_at_lor"],
                esr_at_lor=row["esr_at_lor"], visits=tuple(visits[pid]), labs=tuple(labs[pid]),
                endoscopies=tuple(endoscopies[pid]), adverse_events=tuple(events[pid]),
                thalidomide_doses=tuple(doses[pid]), prescriptions=tuple(prescriptions[pid]),
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


def baseline_characteristics(*, as_of, diagnosis="CD"):
    """Li 2020 Table 1 style: who the cohort is at therapy start (an added key). Montreal
    codes are Crohn's disease codes: another diagnosis counts as ``not_applicable``; the
    all-diagnoses report adds the share of each diagnosis."""
    rows = list(
        Patient.objects.filter(**_of_diagnosis(diagnosis), course__start_date__lte=as_of).values(
            "diagnosis", "sex", "birth_date", "course__start_date", "montreal_location", "montreal_behavior", "upper_gi",
            "perianal", "smoker", "prior_biologic", "ileocolic_resection",
        )
    )
    n = len(rows)

    def share(count):
        return {"n": count, "pct": cohort.round_half_up(Decimal(count) * 100 / n, 1) if n else None}

    ages = [age_in_years(r["birth_date"], r["course__start_date"]) for r in rows]
    location = Counter(_montreal(r, "montreal_location") for r in rows)
    behaviour = Counter(_montreal(r, "montreal_behavior") for r in rows)
    shares = {
        "n": n,
        "male": share(sum(r["sex"] == "M" for r in rows)),
        "age_median_iqr": cohort.median_iqr(ages),
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


def cohort_report(*, as_of=None, diagnosis="CD"):
    """The R8 report (interfaces.md §3) for the database as of ``as_of``."""
    as_of = as_of or timezone.localdate()
    rules = rule_settings()
    report = cohort.cohort_report(
        cohort_patients(as_of=as_of, diagnosis=diagnosis),
        as_of=as_of,
        diagnosis=diagnosis,
        rules_version=rules_version(),
        remission_below=rules.remission_cdai_below,
        response_drop=rules.response_cdai_drop,
        cdeis_remission_below=rules.cdeis_remission_below,
    )
    report["baseline"] = baseline_characteristics(as_of=as_of, diagnosis=diagnosis)
    return report


def data_fingerprint():
    """The latest history row of every table the report reads, in one query.

    Every write to clinical data (form, import, admin, deletion) adds a history
    row, so a report cached under this fingerprint can never be stale.
    """
    tables = [m.history.model._meta.db_table for m in (
        Patient, TherapyCourse, Visit, LabResult, Endoscopy, DoseChange, AdverseEvent, Prescription,
    )]
    sql = "SELECT " + ", ".join(f"(SELECT MAX(history_id) FROM {t})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return "-".join(str(v or 0) for v in cursor.fetchone())


def _cached(prefix, compute, *, recent=None, fresh=False):
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


def cached_cohort_report(*, as_of=None, diagnosis="CD"):
    """cohort_report() of the data as it is now, cached per (as_of, diagnosis, rules, data
    fingerprint): for the downloads, the command and the JSON."""
    as_of = as_of or timezone.localdate()
    return _cached(
        f"cohort-report:{as_of:%Y-%m-%d}:{diagnosis}", lambda: cohort_report(as_of=as_of, diagnosis=diagnosis)
    )


def recent_cohort_report(*, as_of=None, diagnosis="CD", fresh=False):
    """For the report page: ``(report, computed_at)``. While clinical data keeps changing
    (a clinic at work), the report computed less than ``THALIMON_REPORT_RECENT_SECONDS``
    (300) ago is shown, with its time (``computed_at``), rather than computing the whole
    cohort again for every view; ``fresh`` computes it now. None: the data as it is now."""
    as_of = as_of or timezone.localdate()
    recent = timedelta(seconds=getattr(settings, "THALIMON_REPORT_RECENT_SECONDS", 300))
    return _cached(f"cohort-report:{as_of:%Y-%m-%d}:{diagnosis}",
                   lambda: cohort_report(as_of=as_of, diagnosis=diagnosis), recent=recent, fresh=fresh)


def figure_members(*, as_of, diagnosis, key):
    """The patients behind one count of the report (reports/cohort_members.py), cached like
    the report; None for a key that names no count."""
    if not cohort_members.is_figure_key(key):
        return None  # refused before any data is read

    def compute():
        rules = rule_settings()
        figure = cohort_members.figure_members(
            cohort_patients(as_of=as_of, diagnosis=diagnosis), key=key, as_of=as_of, diagnosis=diagnosis,
            remission_below=rules.remission_cdai_below, response_drop=rules.response_cdai_drop,
        )
        return figure or False  # a cached "no such figure" is False, never a miss

    return _cached(f"cohort-figure-v1:{as_of:%Y-%m-%d}:{diagnosis}:{key}", compute) or None


# What a drill-down counts (cohort_members' units), as its page says it.
UNIT_WORDS = {"events": gettext_lazy("events"), "dose rows": gettext_lazy("dose rows"),
              "prescriptions": gettext_lazy("prescriptions")}


def figure_listing(figure, user):
    """The codes of ``figure`` that ``user`` may see, and what the others add up to.

    A patient restricted to a care team the user is not in stays in the count (as in the
    report) but is not named, not even by code: ``hidden`` says how many such patients
    there are and what they add to the figure. Names are never listed, for any role.
    """
    # Of another site, or restricted to a care team the user is not in (issue 18).
    restricted = set(Patient.objects.hidden_from(user).filter(code__in=list(figure.counts)).values_list("code", flat=True))
    may_open = user.has_perm("patients.view_patient")
    rows = [
        {"code": code, "count": count, "link": may_open, "diagnosis": figure.diagnoses.get(code, "")}
        for code, count in figure.counts.items() if code not in restricted
    ]
    hidden = [count for code, count in figure.counts.items() if code in restricted]
    return {"rows": rows, "hidden_patients": len(hidden), "hidden_count": sum(hidden),
            "unit": UNIT_WORDS.get(figure.unit, figure.unit)}


# The cache of the reports, under a prefix of the caller's: the network report
# (reports/network_selectors.py) is cached as the cohort report is.
cached = _cached
