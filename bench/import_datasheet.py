"""Benchmark: import a 10,000-patient × 30-visit datasheet into an empty database.

    python bench/import_datasheet.py [--patients 10000] [--visits 30]

Targets (issue 14): the import under 5 minutes on this 2-core machine with a peak
memory (RSS) of at most 1 GB, growing less than 25 % when the datasheet doubles: each
size (half, then full) is imported in its own process, which reports its own peak.
Also times the idempotent re-import and the export. Uses its own database
(thalimon_bench_import), emptied at the start of each size.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thalimon_bench_import")

from common import print_table, setup  # noqa: E402


def write_datasheet(folder: Path, n, v):
    """A synthetic cohort in the interfaces.md format: clinic visits every 28 days, labs,
    a titration to 100 mg, AZA, pregnancy tests for women, a few adverse events."""
    rng = random.Random(1)
    files = {
        "patients.csv": "patient,sex,birth_date,height_cm,diagnosis,montreal_location,montreal_behavior,tpmt,nudt15,"
        "thalidomide_start,target_dose_mg,crp_at_lor,esr_at_lor",
        "visits.csv": "patient,date,contact,weight_kg,cdai_stools,cdai_pain,cdai_wellbeing,cdai_complications,"
        "cdai_antidiarrheal,cdai_mass,hematocrit,neuropathy_grade,contraception_confirmed,heart_rate",
        "labs.csv": "patient,date,test,value",
        "doses.csv": "patient,drug,date,dose_mg,reason,override_reason",
        "pregnancy_tests.csv": "patient,date,result",
        "adverse_events.csv": "patient,onset,term,grade,drug",
    }
    handles = {name: open(folder / name, "w", newline="") for name in files}
    writers = {name: csv.writer(handle, lineterminator="\n") for name, handle in handles.items()}
    for name, header in files.items():
        writers[name].writerow(header.split(","))
    for i in range(n):
        code = f"IMP{i:06d}"
        sex = rng.choice("MF")
        start = date(2015, 1, 1) + timedelta(days=rng.randrange(0, 1500))
        writers["patients.csv"].writerow([
            code, sex, f"{rng.randrange(1960, 1995)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
            rng.randrange(150, 190), "CD", "L3", "B1", "normal", "normal", start.isoformat(), "100", "12.5", "30",
        ])
        writers["doses.csv"].writerow([code, "azathioprine", (start - timedelta(days=200)).isoformat(), "100", "", ""])
        for k, dose in enumerate((25, 50, 75, 100)):
            writers["doses.csv"].writerow([code, "thalidomide", (start + timedelta(days=14 * k)).isoformat(), dose, "step", ""])
        for k in range(v):
            day = (start + timedelta(days=28 * k)).isoformat()
            writers["visits.csv"].writerow([
                code, day, "clinic", 60 + rng.randrange(0, 20), rng.randrange(0, 40), rng.randrange(0, 21),
                rng.randrange(0, 28), rng.randrange(0, 3), rng.randrange(0, 2), rng.choice([0, 2, 5]),
                35 + rng.randrange(0, 10), 0, 1, 70,
            ])
            writers["labs.csv"].writerow([code, day, "crp", rng.randrange(1, 40)])
            writers["labs.csv"].writerow([code, day, "wbc", f"{rng.uniform(3, 9):.1f}"])
            if sex == "F":
                writers["pregnancy_tests.csv"].writerow([code, day, "negative"])
        if rng.random() < 0.3:
            writers["adverse_events.csv"].writerow([code, (start + timedelta(days=40)).isoformat(), "somnolence", 1, "thalidomide"])
    for handle in handles.values():
        handle.close()


def run_one(patients, visits, *, again):
    """Import a fresh datasheet into an emptied database; this process's peak memory."""
    import resource

    setup()
    from django.core.management import call_command

    from reports.datasheet import export_datasheet, import_datasheet

    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)  # the roles again after the flush
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "datasheet"
        folder.mkdir()
        write_datasheet(folder, patients, visits)
        result["rows"] = sum(max(0, len(p.read_text().splitlines()) - 1) for p in folder.glob("*.csv"))
        start = time.perf_counter()
        report = import_datasheet(folder)
        result["import"] = time.perf_counter() - start
        assert report.written, [str(e) for e in report.errors[:5]]
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if again:
            start = time.perf_counter()
            again_report = import_datasheet(folder)
            result["reimport"] = time.perf_counter() - start
            result["unchanged"] = sum(c.get("unchanged", 0) for c in again_report.counts.values())
            start = time.perf_counter()
            export_datasheet(Path(tmp) / "export")
            result["export"] = time.perf_counter() - start
    print("RESULT " + json.dumps(result))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--visits", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--again", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.patients, args.visits, again=args.again)
        return
    # Each size in its own process, so that its peak memory is its own.
    results = {}
    for patients in (args.patients // 2, args.patients):
        command = [sys.executable, __file__, "--child", "--patients", str(patients), "--visits", str(args.visits)]
        if patients == args.patients:
            command.append("--again")
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
        results[patients] = json.loads(line.removeprefix("RESULT "))
    half, full = results[args.patients // 2], results[args.patients]
    growth = (full["peak_mb"] / half["peak_mb"] - 1) * 100
    print_table(
        f"Datasheet import ({args.patients} patients × {args.visits} visits, {full['rows']} CSV rows)",
        [
            ("import into an empty database", f"{full['import']:.0f} s", "< 300 s"),
            ("peak memory (RSS) of that import", f"{full['peak_mb']:.0f} MB", "≤ 1 GB"),
            (f"the same at half the size ({args.patients // 2} patients)",
             f"{half['import']:.0f} s, {half['peak_mb']:.0f} MB"),
            ("peak memory growth when the datasheet doubles", f"{growth:.0f} %", "< 25 %"),
            ("re-import (nothing changes)", f"{full['reimport']:.0f} s, {full['unchanged']} rows unchanged"),
            ("export", f"{full['export']:.0f} s"),
        ],
    )


if __name__ == "__main__":
    main()
