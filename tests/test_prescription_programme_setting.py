"""The prescription programme (R9.1) chosen from the environment, as the README says: the
profile in force and the rules version change with it; an unknown programme is refused."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import django; django.setup();"
    "from therapy.records import prescription_programme; from thalimon.rules_config import rules_version;"
    "p = prescription_programme(); print(p.name, p.max_days_other, p.authorisation_required, rules_version())"
)


def _probe(programme):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "thalimon.settings", "DEBUG": "1"}
    env.pop("THALIMON_PRESCRIPTION_PROGRAMME", None)
    if programme is not None:
        env["THALIMON_PRESCRIPTION_PROGRAMME"] = programme
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)


def test_the_default_is_the_eu_programme():
    done = _probe(None)
    assert done.returncode == 0, done.stderr
    name, max_days_other, authorisation, version = done.stdout.split()
    assert (name, max_days_other, authorisation) == ("eu_ppp", "84", "False") and "+" not in version


def test_us_rems_from_the_environment_changes_the_profile_and_the_rules_version():
    done = _probe("us_rems")
    assert done.returncode == 0, done.stderr
    name, max_days_other, authorisation, version = done.stdout.split()
    assert (name, max_days_other, authorisation) == ("us_rems", "28", "True")
    assert version.endswith("+prescription_programme=us_rems")


def test_an_unknown_programme_is_refused_by_name():
    done = _probe("uk_ppp")
    assert done.returncode != 0 and "THALIMON_PRESCRIPTION_PROGRAMME" in done.stderr and "uk_ppp" in done.stderr
