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


def test_reports_on_two_threads_resume_the_collector_when_the_last_one_ends():
    """A web process serves requests on threads that share the collector: a report that ends
    while another still runs leaves it paused; the last one resumes it, in any order."""
    import threading

    first_in, second_in, first_may_end, second_may_end = (threading.Event() for _ in range(4))
    states = {}

    def report(name, started, may_end):
        with cycle_collection_paused():
            started.set()
            may_end.wait(5)
        states[name] = gc.isenabled()

    a = threading.Thread(target=report, args=("first", first_in, first_may_end))
    a.start()
    first_in.wait(5)
    b = threading.Thread(target=report, args=("second", second_in, second_may_end))
    b.start()
    second_in.wait(5)
    first_may_end.set()
    a.join(5)
    assert states["first"] is False  # the second report still runs: still paused
    second_may_end.set()
    b.join(5)
    assert states["second"] is True and gc.isenabled()
