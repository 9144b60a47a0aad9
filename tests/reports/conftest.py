"""Fixtures of the datasheet tests: the clinic's example datasheet, copied and imported."""

import shutil
from pathlib import Path

import pytest

from reports.datasheet import import_datasheet

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example_datasheet"


@pytest.fixture
def example(tmp_path):
    """A copy of the example datasheet that a test may edit."""
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE, target)
    return target


@pytest.fixture
def imported(example):
    report = import_datasheet(example)
    assert report.errors == [], [str(e) for e in report.errors]
    return report
