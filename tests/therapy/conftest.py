"""The prescription tests' patients (tests/therapy/prescription_fixtures.py) as fixtures of this folder."""

from tests.therapy.prescription_fixtures import man, woman  # noqa: F401  (pytest fixtures, found by name)
