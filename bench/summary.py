"""All the benchmarks of one `make bench` run in one table, with the date and the machine.

    python bench/summary.py        (make bench runs it last)
"""

import json
import os
import platform
import re
import subprocess
from datetime import date

from common import RESULTS


def machine():
    memory = ""
    try:
        kib = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    try:
        version = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout
        postgres = re.search(r"\d+(\.\d+)+", version).group(0)
    except (OSError, AttributeError):
        postgres = "?"
    return f"{os.cpu_count()} cores{memory}, Python {platform.python_version()}, PostgreSQL {postgres}"


def main():
    tables = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    rows = [(t["title"].split(" (")[0].split(":")[0], *r) for t in tables for r in t["rows"]]
    print(f"\nThaliMon benchmarks — {date.today():%Y-%m-%d}, {machine()}")
    print("| benchmark | what | figure | target |")
    print("|---|---|---|---|")
    for group, label, value, *target in rows:
        print(f"| {group} | {label} | {value} | {target[0] if target else ''} |")


if __name__ == "__main__":
    main()
