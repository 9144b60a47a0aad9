"""The vendored plotly.js partial bundle: same plotly.js as the Python package the figure
dicts are validated against (tests/*/test_charts.py), and every trace type the chart
builders write is one the bundle holds (a missing one draws nothing, silently)."""

import ast
import re
from pathlib import Path

import plotly
from django.conf import settings
from django.contrib.staticfiles import finders

ROOT = Path(settings.BASE_DIR)
BUNDLE = "vendor/plotly-basic-4.1.1/plotly-basic.min.js"
CHART_MODULES = ["therapy/charts.py", "visits/charts.py", "reports/charts.py", "reports/network_charts.py"]
TEMPLATES_WITH_CHARTS = ["templates/patients/patient_detail.html", "templates/reports/report.html",
                         "templates/reports/network.html"]
VERSION = re.compile(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)")
TRACE_MODULE = re.compile(r'moduleType:"trace",name:"(\w+)"')


def _bundle_text():
    path = finders.find(BUNDLE)
    assert path, f"{BUNDLE} is not found by the static finders"
    return Path(path).read_text(encoding="utf-8")


def _full_plotly_text():
    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def _type_values(source):
    """Every constant string given to a "type" key in a dict literal of the module."""
    values = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "type" and isinstance(value, ast.Constant):
                    values.add(value.value)
    return values


def test_bundle_is_the_plotly_js_of_the_python_package():
    bundle_version = VERSION.search(_bundle_text()[:400]).group(1)
    package_version = VERSION.search(_full_plotly_text()[:400]).group(1)
    assert bundle_version == package_version


def test_every_trace_type_the_charts_use_is_in_the_bundle():
    every_trace_type = set(TRACE_MODULE.findall(_full_plotly_text()))
    in_bundle = set(TRACE_MODULE.findall(_bundle_text()))
    used = set()
    for module in CHART_MODULES:
        used |= _type_values((ROOT / module).read_text(encoding="utf-8")) & every_trace_type
    assert used, "no trace type found in the chart builders"
    assert in_bundle < every_trace_type  # a partial bundle, not the full one
    assert used <= in_bundle, f"trace types missing from the bundle: {sorted(used - in_bundle)}"


def test_pages_with_charts_load_the_partial_bundle():
    for template in TEMPLATES_WITH_CHARTS:
        text = (ROOT / template).read_text(encoding="utf-8")
        assert BUNDLE in text and "plotly.min.js" not in text.replace("plotly-basic.min.js", ""), template
