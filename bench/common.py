"""Shared set-up of the benchmarks: a separate PostgreSQL database and a
realistic synthetic cohort built from the demo generator (patients/demo.py),
inserted in bulk (the benchmarks time the reads and scans, not the seeding)."""

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thalimon.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thalimon_bench")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")


def setup():
    import django

    django.setup()
    _ensure_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    vacuum_analyze()


def vacuum_analyze():
    """Planner statistics and visibility maps as autovacuum keeps them on a live database
    (a bulk-loaded table has none until then)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _ensure_database():
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql":
        return
    import psycopg

    params = dict(connection.get_connection_params())
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def timed(label, results):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start


N_PATIENTS = 10_000
VISITS_PER_PATIENT = 30
VISIT_INTERVAL_DAYS = 28


def generate_cohort(n_patients=N_PATIENTS, *, visits_per_patient=VISITS_PER_PATIENT, seed_label="bench",
                    sites=1, copy=False, processes=1):
    """Insert ``n_patients`` demo-like patients (default 10,000) with courses, doses,
    ``visits_per_patient`` monthly clinic visits each (default 30: 300,000 visits, about
    2.2 years of therapy), WBC and CRP counts, pregnancy tests and a few adverse events,
    then compute every visit's outcome status with the services' own function.
    ``sites`` > 1 spreads the patients over that many sites (S01, S02, …) in turn;
    ``copy`` writes with PostgreSQL COPY (``copy_insert``) and computes the statuses in
    this process with the same function, in ``processes`` forked processes, for the
    network-sized database.
    Returns the number created (0 if the cohort is already there)."""
    from django.utils import timezone

    from patients.models import Patient

    prefix = f"{seed_label.upper()}-"
    if Patient.objects.filter(code__startswith=prefix).count() >= n_patients:
        return 0  # already generated in this benchmark database
    today = timezone.localdate()
    site_rows = _sites(sites)
    chunks = [range(first, min(first + 1000, n_patients + 1)) for first in range(1, n_patients + 1, 1000)]
    job = (prefix, site_rows, today, visits_per_patient, copy)
    if copy and processes > 1:  # chunks are independent: build them in forked processes
        from multiprocessing import get_context

        from django.db import connections

        connections.close_all()
        with get_context("fork").Pool(processes) as pool:
            created = sum(pool.starmap(_generate_chunks, [(chunks[i::processes], job) for i in range(processes)]))
    else:
        created = _generate_chunks(chunks, job)
    if not copy:
        # Outcome status of every visit (R2), with the function every saved visit goes through.
        from visits.actions import statuses_refresh

        for patient in Patient.objects.filter(code__startswith=prefix).select_related("course"):
            statuses_refresh(patient)
    vacuum_analyze()
    return created


def _generate_chunks(chunks, job):
    from django.db import transaction

    created = 0
    for indexes in chunks:
        with transaction.atomic():
            created += _generate_chunk(indexes, *job)
    return created


def _sites(count):
    from sites.models import MAIN_CODE, MAIN_NAME, Site

    if count <= 1:
        return [Site.objects.get_or_create(code=MAIN_CODE, defaults={"name": MAIN_NAME})[0]]
    return [Site.objects.get_or_create(code=f"S{number:02d}", defaults={"name": f"Clinic {number:02d}"})[0]
            for number in range(1, count + 1)]


def _generate_chunk(indexes, prefix, sites, today, visits_per_patient, copy):
    """Long: one chunk of patients with all their rows, built the one way and written by
    bulk_create or COPY."""
    import random
    from datetime import timedelta

    from patients.demo import demo_doses, demo_history, demo_patient_fields
    from patients.models import Patient
    from safety.models import AdverseEvent
    from thalimon.rules_config import rule_settings, rules_version
    from therapy.models import DoseChange, PregnancyTest, TherapyCourse
    from visits import records, scoring
    from visits.models import LabResult, Visit

    courses, doses, visits, labs, tests, events = [], [], [], [], [], []
    patients = []
    for index in indexes:
        fields = demo_patient_fields(index, today=today)
        fields["code"] = f"{prefix}{index:06d}"
        fields["diagnosis"] = "CD"
        fields.pop("aid_type", None)
        fields.setdefault("montreal_location", "L3")
        fields.setdefault("montreal_behavior", "B1")
        patients.append(Patient(**fields, site=sites[index % len(sites)]))
    if copy:
        copy_insert(Patient, patients)
    else:
        Patient.objects.bulk_create(patients)
    stored = {p.code: p for p in Patient.objects.filter(code__in=[p.code for p in patients])}
    version = rules_version()
    for index in indexes:
        patient = stored[f"{prefix}{index:06d}"]
        rng = random.Random(index)
        start, history, _ = demo_history(index, today=today)
        if visits_per_patient:
            # Monthly visits from a start far enough back for all of them to be in the past.
            start = min(start, today - timedelta(days=VISIT_INTERVAL_DAYS * (visits_per_patient - 1)
                                                 + rng.randint(0, 27)))
            history = (history * ((visits_per_patient // max(len(history), 1)) + 1))[:visits_per_patient]
            history = [dict(v, date=start + timedelta(days=VISIT_INTERVAL_DAYS * i)) for i, v in enumerate(history)]
        target, thal, aza, test_days = demo_doses(
            index, start=start, today=today,
            female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
            irregular_cycles=patient.irregular_cycles,
        )
        courses.append(TherapyCourse(patient=patient, start_date=start, target_dose_mg=target))
        for day, dose, reason, override in thal:
            doses.append(DoseChange(patient=patient, drug="thalidomide", date=day, dose_mg=dose,
                                    reason=reason, override_reason=override))
        for day, dose, _, _ in aza:
            doses.append(DoseChange(patient=patient, drug="azathioprine", date=day, dose_mg=dose))
        rows = []
        for visit in history:
            lab_values = visit.pop("lab_values")
            row = Visit(patient=patient, **{k: v for k, v in visit.items()})
            # Score with the same pure function the services use (R1.1).
            score = scoring.cdai(
                stools=row.cdai_stools, pain=row.cdai_pain, wellbeing=row.cdai_wellbeing,
                complications=row.cdai_complications, antidiarrheal=row.cdai_antidiarrheal,
                mass=row.cdai_mass, hematocrit=row.hematocrit, sex=patient.sex,
                weight_kg=row.weight_kg, height_cm=patient.height_cm,
                weight_floor=rule_settings().cdai_weight_floor,
            )
            row.cdai = int(score.value) if score.value is not None else None
            row.cdai_source = "computed" if score.value is not None else ""
            rows.append(row)
            labs.append(LabResult(patient=patient, date=visit["date"], test="wbc", value=lab_values["wbc"]))
            labs.append(LabResult(patient=patient, date=visit["date"], test="crp", value=lab_values["crp"]))
        if copy:  # the outcome statuses (R2) with the function statuses_refresh calls, before writing
            rows = records.ordered(rows)
            series = records.status_series(recorded_baseline=patient.baseline_cdai, start_date=start,
                                           visits=rows, as_of=today)
            for row, (status, rule, reason) in zip(rows, series, strict=True):
                row.clinical_status, row.status_rule, row.status_reason, row.rules_version = (
                    status, rule, reason, version)
        visits += rows
        for day in test_days:
            tests.append(PregnancyTest(patient=patient, date=day, result="negative"))
        if rng.random() < 0.3 and history:
            onset = history[min(2, len(history) - 1)]["date"]
            events.append(AdverseEvent(patient=patient, onset=onset, term=rng.choice(
                ["peripheral_neuropathy", "somnolence", "constipation", "rash", "leukopenia"]),
                grade=rng.choice([1, 1, 2, 3]), drug="thalidomide",
                resolved=onset + timedelta(days=30) if rng.random() < 0.6 else None))
    for model, objects in ((TherapyCourse, courses), (DoseChange, doses), (Visit, visits), (LabResult, labs),
                           (PregnancyTest, tests), (AdverseEvent, events)):
        if copy:
            copy_insert(model, objects)
        else:
            model.objects.bulk_create(objects, ignore_conflicts=model is not TherapyCourse, batch_size=2000)
    return len(patients)


def copy_insert(model, objects):
    """Write ``objects`` with PostgreSQL COPY (into a temporary table, then one INSERT … ON
    CONFLICT DO NOTHING, as bulk_create's ignore_conflicts): the rows bulk_create would
    write (defaults, auto_now_add), without their ids. Call it inside a transaction."""
    from django.db import connection, models

    # Values psycopg adapts as they are (the column types round what they must); the other
    # fields (JSON, said reasons, auto_now dates) go through Django's own preparation.
    plain = (models.CharField, models.TextField, models.IntegerField, models.PositiveIntegerField,
             models.PositiveSmallIntegerField, models.SmallIntegerField, models.BigIntegerField, models.BooleanField,
             models.DecimalField, models.FloatField, models.ForeignKey, models.OneToOneField)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    getters = [
        (lambda obj, name=f.attname: getattr(obj, name)) if type(f) in plain
        or (type(f) is models.DateField and not (f.auto_now or f.auto_now_add))
        else (lambda obj, f=f: f.get_db_prep_save(f.pre_save(obj, True), connection))
        for f in fields
    ]
    table = model._meta.db_table
    columns = ", ".join(f'"{f.column}"' for f in fields)
    scratch = f"copy_{table}"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(f'DROP TABLE IF EXISTS "{scratch}"')
        raw.execute(f'CREATE TEMP TABLE "{scratch}" ON COMMIT DROP AS SELECT {columns} FROM "{table}" WITH NO DATA')
        with raw.copy(f'COPY "{scratch}" ({columns}) FROM STDIN') as copy:
            for obj in objects:
                copy.write_row([get(obj) for get in getters])
        raw.execute(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{scratch}" ON CONFLICT DO NOTHING')


RESULTS = ROOT / "var" / "bench" / "results.jsonl"


def print_table(title, rows):
    """Print one benchmark's table and keep it for bench/summary.py (make bench)."""
    import json

    print(f"\n{title}")
    width = max(len(r[0]) for r in rows)
    for label, value, *target in rows:
        extra = f"   (target {target[0]})" if target and target[0] else ""
        print(f"  {label:<{width}}  {value}{extra}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        out.write(json.dumps({"title": title, "rows": [list(r) for r in rows]}) + "\n")
