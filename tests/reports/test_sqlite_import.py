"""The default is real: the demo's SQLite takes the example datasheet as PostgreSQL does.

The import and the export run as a newcomer runs them (``manage.py`` on a fresh
SQLite file, in a separate process); the files exported must be byte-identical to
those exported after the same import into the suite's PostgreSQL database, first
as imported and again after a changed value (the update path and its history).
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "fixtures" / "example_datasheet"


def _manage(database, *args):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1", "CELERY_TASK_ALWAYS_EAGER": "1"}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _files(folder):
    return {path.name: path.read_bytes() for path in sorted(Path(folder).glob("*.csv"))}


@pytest.mark.django_db
def test_sqlite_imports_and_updates_as_postgresql_does(tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(EXAMPLE, changed)
    labs = changed / "labs.csv"
    first, second, *rest = labs.read_text().splitlines()
    patient, day, test, value, *unit = second.split(",")
    labs.write_text("\n".join([first, ",".join([patient, day, test, str(float(value) + 1.5), *unit]), *rest]) + "\n")

    database = tmp_path / "demo.sqlite3"
    _manage(database, "migrate", "--noinput")
    for version, source in (("first", EXAMPLE), ("changed", changed)):
        _manage(database, "import_datasheet", str(source))
        _manage(database, "export_datasheet", str(tmp_path / f"sqlite-{version}"))
        call_command("import_datasheet", str(source))
        call_command("export_datasheet", str(tmp_path / f"postgresql-{version}"))
        assert _files(tmp_path / f"sqlite-{version}") == _files(tmp_path / f"postgresql-{version}")

    history = sqlite3.connect(database).execute(
        "SELECT history_type FROM visits_historicallabresult WHERE test = ? AND date = ? ORDER BY history_id",
        [test, day],
    ).fetchall()
    assert [row[0] for row in history] == ["+", "~"]
