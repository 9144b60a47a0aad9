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


def generate_cohort(n_patients=N_PATIENTS, *, visits_per_patient=VISITS_PER_PATIENT, seed_label="bench"):
    """Insert ``n_patients`` demo-like patients (default 10,000) with courses, doses,
    ``visits_per_patient`` monthly clinic visits each (default 30: 300,000 visits, about
    2.2 years of therapy), WBC and CRP counts, pregnancy tests and a few adverse events,
    then compute every visit's outcome status with the services' own function.
    Returns the number created (0 if the cohort is already there)."""
    import random
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from patients.demo import demo_doses, demo_history, demo_patient_fields
    from patients.models import Patient
    from safety.models import AdverseEvent
    from sites.models import MAIN_CODE, MAIN_NAME, Site
    from thalimon.rules_config import rule_settings
    from therapy.models import DoseChange, PregnancyTest, TherapyCourse
    from visits import scoring
    from visits.models import LabResult, Visit

    site = Site.objects.get_or_create(code=MAIN_CODE, defaults={"name": MAIN_NAME})[0]
    prefix = f"{seed_label.upper()}-"
    if Patient.objects.filter(code__startswith=prefix).count() >= n_patients:
        return 0  # already generated in this benchmark database
    today = timezone.localdate()
    created = 0
    chunk = 1000
    for first in range(1, n_patients + 1, chunk):
        patients, courses, doses, visits, labs, tests, events = [], [], [], [], [], [], []
        indexes = range(first, min(first + chunk, n_patients + 1))
        for index in indexes:
            fields = demo_patient_fields(index, today=today)
            fields["code"] = f"{prefix}{index:06d}"
            fields["diagnosis"] = "CD"
            fields.pop("aid_type", None)
            fields.setdefault("montreal_location", "L3")
            fields.setdefault("montreal_behavior", "B1")
            patients.append(Patient(**fields, site=site))
        with transaction.atomic():
            Patient.objects.bulk_create(patients)
            stored = {p.code: p for p in Patient.objects.filter(code__in=[p.code for p in patients])}
            for index in indexes:
                patient = stored[f"{prefix}{index:06d}"]
                rng = random.Random(index)
                start, history, _ = demo_history(index, today=today)
                if visits_per_patient:
                    # Monthly visits from a start far enough back for all of them to be in the past.
                    start = min(start, today - timedelta(days=VISIT_INTERVAL_DAYS * (visits_per_patient - 1)
                                                         + rng.randint(0, 27)))
                    history = (history * ((visits_per_patient // max(len(history), 1)) + 1))[:visits_per_patient]
                    history = [dict(v, date=start + timedelta(days=VISIT_INTERVAL_DAYS * i))
                               for i, v in enumerate(history)]
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
                    visits.append(row)
                    labs.append(LabResult(patient=patient, date=visit["date"], test="wbc", value=lab_values["wbc"]))
                    labs.append(LabResult(patient=patient, date=visit["date"], test="crp", value=lab_values["crp"]))
                for day in test_days:
                    tests.append(PregnancyTest(patient=patient, date=day, result="negative"))
                if rng.random() < 0.3 and history:
                    onset = history[min(2, len(history) - 1)]["date"]
                    events.append(AdverseEvent(patient=patient, onset=onset, term=rng.choice(
                        ["peripheral_neuropathy", "somnolence", "constipation", "rash", "leukopenia"]),
                        grade=rng.choice([1, 1, 2, 3]), drug="thalidomide",
                        resolved=onset + timedelta(days=30) if rng.random() < 0.6 else None))
            TherapyCourse.objects.bulk_create(courses)
            DoseChange.objects.bulk_create(doses, ignore_conflicts=True)
            Visit.objects.bulk_create(visits, ignore_conflicts=True, batch_size=2000)
            LabResult.objects.bulk_create(labs, ignore_conflicts=True, batch_size=2000)
            PregnancyTest.objects.bulk_create(tests, ignore_conflicts=True)
            AdverseEvent.objects.bulk_create(events, ignore_conflicts=True)
        created += len(patients)
    # Outcome status of every visit (R2), with the function every saved visit goes through.
    from visits.actions import statuses_refresh

    for patient in Patient.objects.filter(code__startswith=prefix).select_related("course"):
        statuses_refresh(patient)
    vacuum_analyze()
    return created


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
