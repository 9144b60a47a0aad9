"""Load the cohort from the database as plain records for reports/cohort.py.

One query per table for the whole cohort (values_list, no model instances
per row), so the report costs the same number of queries for 10 or 10,000
patients.
"""

from collections import Counter, defaultdict
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from patients.demographics import age_in_years
from patients.models import Patient
from reports import cohort
from safety.models import AdverseEvent
from thalimon.protections import CLINICAL_DATA, generation
from thalimon.rules_config import rule_settings, rules_version
from therapy.models import DoseChange, TherapyCourse
from therapy.rules.doses import DoseRow, stop_date
from visits.endoscopy_outcomes import EndoObs
from visits.models import Endoscopy, LabResult, Visit


def cohort_patients(*, as_of, diagnosis="CD"):
    """CohortPatient records of the patients with ``diagnosis`` and a course started by ``as_of``."""
    courses = dict(
        TherapyCourse.objects.filter(patient__diagnosis=diagnosis, start_date__lte=as_of).values_list(
            "patient_id", "start_date"
        )
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
                thalidomide_doses=tuple(doses[pid]),
            )
        )
    return patients


def _stop_as_of(rows, recorded_stop, as_of):
    """The stop in force on ``as_of`` from the dose rows up to it (R8: later records are ignored)."""
    if rows:
        return stop_date(rows, as_of)
    return recorded_stop if recorded_stop and recorded_stop <= as_of else None


def baseline_characteristics(*, as_of, diagnosis="CD"):
    """Li 2020 Table 1 style: who the cohort is at therapy start (an added key)."""
    rows = list(
        Patient.objects.filter(diagnosis=diagnosis, course__start_date__lte=as_of).values(
            "sex", "birth_date", "course__start_date", "montreal_location", "montreal_behavior", "upper_gi",
            "perianal", "smoker", "prior_biologic", "ileocolic_resection",
        )
    )
    n = len(rows)

    def share(count):
        return {"n": count, "pct": cohort.round_half_up(Decimal(count) * 100 / n, 1) if n else None}

    ages = [age_in_years(r["birth_date"], r["course__start_date"]) for r in rows]
    location = Counter(r["montreal_location"] or "unknown" for r in rows)
    behaviour = Counter(r["montreal_behavior"] or "unknown" for r in rows)
    return {
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
        Patient, TherapyCourse, Visit, LabResult, Endoscopy, DoseChange, AdverseEvent,
    )]
    sql = "SELECT " + ", ".join(f"(SELECT MAX(history_id) FROM {t})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return "-".join(str(v or 0) for v in cursor.fetchone())


def cached_cohort_report(*, as_of=None, diagnosis="CD"):
    """cohort_report() for the pages, cached per (as_of, diagnosis, rules, data fingerprint)."""
    as_of = as_of or timezone.localdate()
    # The generation is bumped when clinical data commits (safety.actions, the import): a
    # write that committed after a later history id was read can never leave a stale report.
    commits = generation(CLINICAL_DATA)
    if commits is None:  # the cache is down: computed, not cached
        return cohort_report(as_of=as_of, diagnosis=diagnosis)
    key = f"cohort-report:{as_of:%Y-%m-%d}:{diagnosis}:{rules_version()}:{commits}:{data_fingerprint()}"
    report = cache.get(key)
    if report is None:
        report = cohort_report(as_of=as_of, diagnosis=diagnosis)
        cache.set(key, report, timeout=6 * 3600)
    return report
