"""The demo as ``make demo`` serves it (scripts/demo-serve.sh), driven from Chromium:

* light pages: a patient page's first load (empty cache) transfers at most 1.5 MB —
  the plotly.js partial bundle, static files compressed (issue 15, item 9);
* friendly pages for an unknown patient or address, not Django's technical 404;
* ``make stop`` and Ctrl-C each end the server and the worker (and beat), leaving no
  process of the demo behind and no Celery files in the repository (item 10).

The time to interactive is measured by ``make bench`` (bench/page_weight.py), not
asserted here: the test machine's load decides it.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.demo_process import (
    DEMO_PASSWORDS,
    ROOT,
    Demo,
    alive,
    free_port,
    patient_with_most_visits,
    prepare,
    running_demo,
)
from tests.e2e.page_weight import first_load, log_in

pytestmark = pytest.mark.browser
MAX_FIRST_LOAD_BYTES = 1_500_000


@pytest.fixture(scope="module")
def demo_var(tmp_path_factory):
    var = tmp_path_factory.mktemp("demo") / "var"
    prepare(var)
    return var


def _session_processes(session_id):
    """Every live process of a session (the demo script started one of its own)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == session_id:
            found.append(int(stat.parent.name))
    return found


def _wait_gone(session_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _session_processes(session_id):
        time.sleep(0.2)
    return _session_processes(session_id)


def test_first_loads_are_light_and_errors_friendly_then_make_stop_ends_everything(browser, demo_var):
    with running_demo(demo_var) as demo:
        session = demo.process.pid  # the script leads its own session
        code = patient_with_most_visits(demo_var)
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        try:
            log_in(context, demo.url, "clinician", DEMO_PASSWORDS["clinician"])
            patient = first_load(context, f"{demo.url}/patients/{code}/")
            assert patient.status == 200 and patient.problems == []
            assert patient.charts >= 3 and patient.svgs >= patient.charts  # every chart drawn as SVG
            plotly = [url for url in patient.by_url if "plotly" in url]
            assert len(plotly) == 1 and "plotly-basic" in plotly[0], plotly
            assert patient.bytes <= MAX_FIRST_LOAD_BYTES, sorted(patient.by_url.items(), key=lambda i: -i[1])

            page = context.new_page()
            response = page.goto(f"{demo.url}/patients/NO-SUCH-PATIENT/")
            text = page.locator("main").inner_text()
            assert response.status == 404 and "There is no such page or patient" in text
            assert "URLconf" not in page.content() and "urlpatterns" not in page.content()
            assert page.get_by_role("link", name="Patients").is_visible()  # the usual navigation
            page.close()
        finally:
            context.close()

        context = browser.new_context(viewport={"width": 1366, "height": 900})
        try:
            log_in(context, demo.url, "lead", DEMO_PASSWORDS["lead"])
            report = first_load(context, f"{demo.url}/reports/cohort/")
            assert report.status == 200 and report.problems == []
            assert report.charts >= 1 and report.svgs >= report.charts
            assert report.bytes <= MAX_FIRST_LOAD_BYTES
        finally:
            context.close()

        recorded = demo.pids()
        assert len(recorded) == 3 and all(alive(pid) for pid in recorded)
        assert len(_session_processes(session)) >= 3  # script, server, worker (and beat)
        stopped = demo.stop()
        assert stopped.returncode == 0 and "Demo stopped" in stopped.stdout, stopped.stdout + stopped.stderr
        assert not any(alive(pid) for pid in recorded)
        assert _wait_gone(session) == []
        assert not (demo_var / "demo.pids").exists()
    assert not (ROOT / "control").exists()  # kombu's exchange tables went to var/
    assert list((demo_var / "celery" / "control").glob("*.exchange"))
    assert (demo_var / "staticfiles" / "staticfiles.json").exists()


def test_ctrl_c_ends_the_server_and_the_worker(demo_var):
    demo = Demo(demo_var, free_port())
    try:
        demo.wait_ready()
        recorded = demo.pids()
        session = demo.process.pid
        time.sleep(3)  # the worker up and connected (beat started)
        assert len(_session_processes(session)) >= 3
        os.killpg(session, signal.SIGINT)  # what Ctrl-C in the terminal sends to the foreground
        demo.process.wait(timeout=30)
        assert not any(alive(pid) for pid in recorded)
        assert _wait_gone(session) == []
        assert not (demo_var / "demo.pids").exists()
        assert "Demo stopped" in demo.log.read_text()
    finally:
        demo.kill()


def test_a_second_demo_on_the_same_folder_is_refused_while_one_runs(demo_var):
    with running_demo(demo_var) as demo:
        second = Demo(demo_var, demo.port + 1 if demo.port < 65000 else demo.port - 1)
        assert second.process.wait(timeout=30) == 1
        assert "already running" in second.log.read_text() and "make stop" in second.log.read_text()
        assert alive(demo.pids()[1])  # the first one still serves
