"""The report pauses Python's cyclic garbage collector while it builds its records, and
always resumes it (reports.selectors.cycle_collection_paused)."""

import gc

import pytest

from reports.selectors import cycle_collection_paused


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_resumed_after():
    with cycle_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_error():
    with pytest.raises(ZeroDivisionError), cycle_collection_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_nested_pauses_resume_once_the_outer_one_ends():
    with cycle_collection_paused():
        with cycle_collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer report still runs
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused():
    gc.disable()
    with cycle_collection_paused():
        pass
    assert not gc.isenabled()


@pytest.mark.django_db
def test_the_cohort_report_runs_with_the_collector_paused_and_resumes_it(monkeypatch):
    from reports import cohort_blocks, selectors

    seen = []
    real = cohort_blocks.cohort_report

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(cohort_blocks, "cohort_report", spy)
    selectors.cohort_report()
    assert seen == [False]
    assert gc.isenabled()
