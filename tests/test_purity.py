"""The clinical-rule modules import no Django and never read the clock (docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
THERAPY_RULES = sorted(
    str(path.relative_to(ROOT)) for path in (ROOT / "therapy" / "rules").glob("*.py")
)
PURE_MODULES = [
    "patients/demographics.py",
    "patients/periods.py",
    "visits/labs.py",
    "visits/scoring.py",
    "visits/endoscopy_scores.py",
    "visits/other_scores.py",
    "visits/outcomes.py",
    "visits/endoscopy_outcomes.py",
    "visits/efficacy.py",
    "visits/charts.py",
    "therapy/charts.py",
    "thalimon/figures.py",
    "thalimon/said.py",
    "reports/charts.py",
    "reports/cohort.py",
    "reports/cohort_blocks.py",
    "reports/cohort_members.py",
    "reports/prescription_figures.py",
    "reports/statistics.py",
    "reports/print_charts.py",
    "reports/network.py",
    "reports/network_charts.py",
    "safety/schedule.py",
    "safety/policy.py",
    "safety/urgency.py",
    "safety/alerts.py",
    "safety/data_checks.py",
    *THERAPY_RULES,
]
FORBIDDEN_IMPORTS = (
    "django", "patients.models", "visits.models", "therapy.models", "safety.models", "reports.models",
)
CLOCK_CALLS = {"now", "today", "utcnow", "localdate", "localtime", "time"}


@pytest.mark.parametrize("relative", PURE_MODULES)
def test_rule_module_is_pure(relative):
    tree = ast.parse((ROOT / relative).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            assert not name.startswith(FORBIDDEN_IMPORTS), f"{relative} imports {name}"
            assert name not in ("time",), f"{relative} imports the clock module {name}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"{relative} reads the clock: .{node.func.attr}()"


@pytest.mark.parametrize("relative", THERAPY_RULES)
def test_rule_module_imports_no_private_name(relative):
    """Shared helpers are public: no rule module reaches into another's private names."""
    tree = ast.parse((ROOT / relative).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            private = [alias.name for alias in node.names if alias.name.startswith("_")]
            assert not private, f"{relative} imports private names {private} from {node.module}"
