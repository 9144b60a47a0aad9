"""The layout of the code, checked (docs/architecture.md).

Every module of an app sits in one layer — rules (pure), models, records (rows → rule
inputs, and reads), actions (clinical writes), doors (views, forms, URLs, tasks,
commands) — and an import only ever points to the same layer or one below. Between
apps in the same layer the arrows run one way (no cycle). The project package
``thalimon`` is plumbing that imports no app. No module imports another's private
name, and project modules are imported at module level (no imports hidden in
functions to dodge a cycle) except where the exceptions below say why. Files stay
under ~700 lines and functions under ~80, unless their docstring says why.
"""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("sites", "patients", "visits", "therapy", "safety", "reports", "outbox", "accounts")
PROJECT = "thalimon"
RULES, MODELS, RECORDS, ACTIONS, DOORS = range(5)
LAYER_NAMES = {RULES: "rules", MODELS: "models", RECORDS: "records", ACTIONS: "actions", DOORS: "doors"}

# Pure rule modules (no Django, no clock; tests/test_purity.py).
RULE_MODULES = {
    "patients.demographics", "patients.periods", "visits.labs", "visits.scoring", "visits.outcomes", "visits.charts",
    "visits.endoscopy_scores", "visits.other_scores", "visits.endoscopy_outcomes", "visits.efficacy",
    "safety.schedule", "safety.policy", "safety.urgency", "safety.alerts", "safety.data_checks", "reports.cohort", "reports.cohort_blocks", "reports.cohort_members", "reports.prescription_figures", "reports.statistics", "reports.charts", "reports.print_charts",
    "therapy.charts", "reports.network", "reports.network_charts",
}
LAYER_BY_NAME = {
    "models": MODELS, "validators": MODELS, "kinds": MODELS, "words": MODELS,
    "records": RECORDS, "selectors": RECORDS, "access": RECORDS, "tables": RECORDS, "exports": RECORDS,
    "pdf": RECORDS, "network_selectors": RECORDS, "network_exports": RECORDS,
    "actions": ACTIONS, "scan": ACTIONS, "digest": ACTIONS, "fanout": ACTIONS,
    "views": DOORS, "urls": DOORS, "forms": DOORS, "admin": DOORS, "apps": DOORS, "tasks": DOORS,
    "context_processors": DOORS, "demo": DOORS, "middleware": DOORS, "network_views": DOORS,
}
# Imports inside functions, each with its reason.
INNER_IMPORTS_ALLOWED = {
    # WeasyPrint loads only when a PDF is asked for (it is slow to import).
    ("reports.views", "reports.pdf"),
    ("therapy.views", "reports.pdf"),  # the prescription authorisation form (R9)
    ("reports.management.commands.cohort_report", "reports.pdf"),
    # Celery tasks register in every process (app ready), not at import of the app package.
    ("safety.apps", "safety.tasks"),
    ("outbox.apps", "outbox.tasks"),
    # The sign-in signal's receiver connects when the apps are ready.
    ("accounts.apps", "accounts.middleware"),
    # Role groups are synced after migrate, when the apps are ready.
    ("patients.apps", "thalimon.roles"),
}
LONG_FUNCTION_REASON = "Long:"  # a docstring line starting with this says why a function is long
MAX_FILE_LINES = 700
MAX_FUNCTION_LINES = 80


def _modules():
    found = {}
    for top in (PROJECT, *APPS):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _layer(module):
    app, *rest = module.split(".")
    if app == PROJECT:
        return None
    if module in RULE_MODULES or module.startswith("therapy.rules"):
        return RULES
    if "management" in rest or "templatetags" in rest:
        return DOORS
    if module.startswith("reports.datasheet"):
        return ACTIONS  # the import writes; the export reads through the same format
    if not rest:
        return MODELS  # the package itself (empty __init__)
    return LAYER_BY_NAME[rest[-1]]


def _resolve(name):
    """The project module an import names (a package's __init__ included), or None."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module):
    """(imported module, names imported, inside a function?) of one module."""
    tree = ast.parse(MODULES[module].read_text())
    inner = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target:
                    yield target, [], id(node) in inner
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                # "from visits import records" imports the module visits.records.
                target = _resolve(f"{node.module}.{alias.name}") or _resolve(node.module)
                if target:
                    names = [] if target == f"{node.module}.{alias.name}" else [alias.name]
                    yield target, names, id(node) in inner


EDGES = [(module, target, names, inner) for module in MODULES for target, names, inner in _imports(module)]


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer(module)  # raises KeyError for a module the map does not place


def test_the_project_package_imports_no_app():
    wrong = [(m, t) for m, t, _, _ in EDGES if m.split(".")[0] == PROJECT and t.split(".")[0] in APPS]
    assert wrong == []


def test_imports_point_to_the_same_layer_or_below():
    upward = [
        f"{m} ({LAYER_NAMES[_layer(m)]}) imports {t} ({LAYER_NAMES[_layer(t)]})"
        for m, t, _, _ in EDGES
        if _layer(m) is not None and _layer(t) is not None and _layer(t) > _layer(m)
    ]
    assert upward == []


def _cycle(graph):
    state, path = {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("layer", [RULES, MODELS, RECORDS, ACTIONS], ids=lambda layer: LAYER_NAMES[layer])
def test_apps_in_one_layer_depend_on_each_other_one_way(layer):
    graph = defaultdict(set)
    for m, t, _, _ in EDGES:
        if _layer(m) == layer and _layer(t) == layer and m.split(".")[0] != t.split(".")[0]:
            graph[m.split(".")[0]].add(t.split(".")[0])
            graph[t.split(".")[0]]
    assert _cycle(graph) is None


def test_no_import_cycle_between_modules():
    graph = defaultdict(set)
    for m, t, _, _ in EDGES:
        if m != t:
            graph[m].add(t)
            graph[t]
    assert _cycle(graph) is None


def test_no_module_imports_a_private_name_of_another():
    private = [f"{m} imports {t}.{n}" for m, t, names, _ in EDGES for n in names if n.startswith("_")]
    private += [f"{m} imports {t}" for m, t, _, _ in EDGES if t.rpartition(".")[2].startswith("_") and t != m]
    assert private == []


def _private_attributes(module):
    """``alias._name`` where ``alias`` is another project module imported into ``module``."""
    tree = ast.parse(MODULES[module].read_text())
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases[alias.asname] = alias.name
    return [
        f"{module} uses {aliases[node.value.id]}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        and node.value.id in aliases and node.attr.startswith("_") and not node.attr.startswith("__")
    ]


def test_no_module_uses_a_private_name_of_another_through_its_module():
    assert [found for module in MODULES for found in _private_attributes(module)] == []


def test_project_modules_are_imported_at_module_level():
    hidden = {(m, t) for m, t, _, inner in EDGES if inner} - INNER_IMPORTS_ALLOWED
    assert sorted(hidden) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_files_and_functions_stay_short(module):
    source = MODULES[module].read_text()
    assert len(source.splitlines()) <= MAX_FILE_LINES, f"{module}: split it along its seams"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            docstring = ast.get_docstring(node) or ""
            explained = any(line.strip().startswith(LONG_FUNCTION_REASON) for line in docstring.splitlines())
            assert length <= MAX_FUNCTION_LINES or explained, f"{module}.{node.name} has {length} lines"
