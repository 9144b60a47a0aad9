"""The upload journey on the shipped topologies, each process on its own (issue 14).

* Production's: gunicorn, a Celery worker and beat as separate processes, each in its
  own working directory, on the real PostgreSQL and Redis; they share nothing but the
  database, Redis and the upload storage (a folder standing for compose's named volume).
* The demo's (``make demo``): Django's server and a Celery worker with beat on SQLite
  and kombu's filesystem transport, started by ``scripts/demo-serve.sh``.

In both, the browser uploads a datasheet of 200 patients and watches the job page go
through its phases to "imported".
"""

import io
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.e2e.conftest import SCREENSHOTS, log_in

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "fixtures" / "example_datasheet"
PASSWORD = "a-long-test-password-123"
COPIES = 50  # × the example's 4 patients

pytestmark = pytest.mark.browser


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def datasheet_zip(copies=COPIES):
    """The example datasheet's patients, each copied under ``copies`` new codes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(EXAMPLE.glob("*.csv")):
            header, *rows = path.read_text().splitlines()
            lines = [header]
            for copy in range(copies):
                lines += [f"C{copy:03d}-{row}" for row in rows]
            archive.writestr(f"datasheet/{path.name}", "\n".join(lines) + "\n")
    return buffer.getvalue()


def _wait_http(url, process, log, timeout=60):
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, Path(log).read_text()[-3000:]
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer: {Path(log).read_text()[-3000:]}")


class Processes:
    def __init__(self, env):
        self.env, self.running = env, []

    def start(self, name, args, cwd):
        cwd.mkdir(parents=True, exist_ok=True)
        log = cwd / f"{name}.log"
        process = subprocess.Popen(args, cwd=cwd, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.running.append((process, log))
        return process, log

    def run(self, args, cwd):
        cwd.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(args, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        return done.stdout

    def stop(self):
        for process, _ in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process, _ in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


MAKE_LEAD = (
    "from django.contrib.auth.models import Group, User; from thalimon.roles import CLINIC_LEAD; "
    f"u = User.objects.create_user('lena', password='{PASSWORD}', first_name='Lena', last_name='Lead'); "
    "u.groups.add(Group.objects.get(name=CLINIC_LEAD)); "
    # A member of the clinic's site (issue 18), or her import has no site to go to.
    "from sites.models import MAIN_CODE, MAIN_NAME, Membership, Site; "
    "Membership.objects.create(user=u, site=Site.objects.get_or_create(code=MAIN_CODE, defaults={'name': MAIN_NAME})[0])"
)


def upload_and_watch(browser, base_url, archive, name):
    """Log in as the lead, upload, and watch the job page to the end: the phases seen."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    SCREENSHOTS.mkdir(exist_ok=True)

    def screenshot(shot):
        page.screenshot(path=str(SCREENSHOTS / f"{shot}.png"), full_page=True)

    page.set_default_timeout(30_000)
    try:
        log_in(page, "lena", PASSWORD)
        page.goto("/reports/datasheets/")
        page.get_by_label("Datasheet (.zip of the CSV files)").set_input_files(str(archive))
        page.get_by_role("button", name="Upload and import").click()
        page.locator("[data-job-state]").wait_for()
        seen, shot = [], False
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            status = page.locator("[data-job-state]")
            state = status.get_attribute("data-job-state")
            phase = status.get_attribute("data-phase")
            if state not in ("queued", "running"):
                break
            if phase and (not seen or seen[-1] != phase):
                seen.append(phase)
            if phase in ("validating", "writing") and not shot:
                screenshot(f"{name}_progress")
                shot = True
            time.sleep(0.2)
        page.locator("[data-job-state='done']").wait_for(timeout=30_000)
        page.locator("[data-counts]").wait_for()
        screenshot(f"{name}_done")
        text = page.locator("main").inner_text()
        return seen, text
    finally:
        context.close()


@pytest.fixture
def topology_database():
    name = "thalimon_topology"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_gunicorn_worker_and_beat_as_separate_processes_import_an_upload(
    browser, topology_database, tmp_path
):
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
    port = _free_port()
    shared = tmp_path / "uploads-volume"  # compose's named volume, mounted in web and worker
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE")},
        "DEBUG": "1", "DATABASE_URL": topology_database, "REDIS_URL": f"{redis}/7", "CACHE_URL": f"{redis}/8",
        "MEDIA_ROOT": str(shared), "PYTHONPATH": str(ROOT), "PORT": str(port), "GUNICORN_WORKERS": "2",
        "THALIMON_VAR_DIR": str(tmp_path / "var"),
    }
    processes = Processes(env)
    python = sys.executable
    processes.run([python, str(ROOT / "manage.py"), "migrate", "--noinput"], tmp_path / "migrate")
    processes.run([python, str(ROOT / "manage.py"), "shell", "-c", MAKE_LEAD], tmp_path / "migrate")
    subprocess.run(["redis-cli", "-u", f"{redis}/7", "FLUSHDB"], check=False, capture_output=True)
    try:
        web, web_log = processes.start(
            "web", [python, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
                    "thalimon.wsgi:application"], tmp_path / "web")
        worker, worker_log = processes.start(
            "worker", [python, "-m", "celery", "-A", "thalimon", "worker", "--pool", "solo", "--loglevel", "INFO"],
            tmp_path / "worker")
        beat, beat_log = processes.start(
            "beat", [python, "-m", "celery", "-A", "thalimon", "beat", "--loglevel", "INFO",
                     "--schedule", str(tmp_path / "beat" / "schedule")], tmp_path / "beat")
        _wait_http(f"http://127.0.0.1:{port}/accounts/login/", web, web_log)
        archive = tmp_path / "cohort.zip"
        archive.write_bytes(datasheet_zip())
        seen, text = upload_and_watch(browser, f"http://127.0.0.1:{port}", archive, "topology_import")
        assert "Imported" in text and "Rows imported" in text
        assert set(seen) & {"validating", "writing", "scanning"}, seen  # the page showed the phases live
        assert seen == sorted(seen, key=["reading", "validating", "writing", "scanning"].index)
        assert all(p.poll() is None for p in (web, worker, beat)), "a process stopped"
        assert "reports.tasks.run_import" in worker_log.read_text()
        assert "beat: Starting" in beat_log.read_text()
        stored = list(shared.rglob("*.zip"))
        assert len(stored) == 1  # stored by web in the shared storage, read from there by the worker
        assert not list((tmp_path / "web").rglob("*.zip")) and not list((tmp_path / "worker").rglob("*.zip"))
    finally:
        processes.stop()
    with psycopg.connect(topology_database.replace("postgres://", "postgresql://")) as db:
        patients = db.execute("SELECT COUNT(*) FROM patients_patient").fetchone()[0]
        state = db.execute("SELECT state, counts FROM reports_importjob").fetchone()
    assert patients == 4 * COPIES and state[0] == "done"
    assert state[1]["patients.csv"]["created"] == 4 * COPIES


def test_the_demo_imports_an_upload_with_live_progress(browser, tmp_path):
    """``scripts/demo-serve.sh`` (what ``make demo`` serves): SQLite, no other service."""
    port = _free_port()
    var = tmp_path / "var"
    env = {
        **{k: v for k, v in os.environ.items()
           if k not in ("CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL", "REDIS_URL", "CACHE_URL", "MEDIA_ROOT",
                        "DJANGO_ALLOW_ASYNC_UNSAFE")},
        "THALIMON_VAR_DIR": str(var), "PORT": str(port), "HOST": "127.0.0.1", "DEBUG": "1", "THALIMON_DEMO": "1",
    }
    processes = Processes(env)
    processes.run([sys.executable, "manage.py", "migrate", "--noinput"], ROOT)
    processes.run([sys.executable, "manage.py", "shell", "-c", MAKE_LEAD], ROOT)
    try:
        server, log = processes.start("demo", ["bash", str(ROOT / "scripts" / "demo-serve.sh")], tmp_path / "demo")
        _wait_http(f"http://127.0.0.1:{port}/accounts/login/", server, log)
        archive = tmp_path / "cohort.zip"
        archive.write_bytes(datasheet_zip())
        seen, text = upload_and_watch(browser, f"http://127.0.0.1:{port}", archive, "demo_import")
        assert "Imported" in text and "Rows imported" in text
        assert set(seen) & {"validating", "writing", "scanning"}, seen
    finally:
        processes.stop()
    assert (var / "db.sqlite3").exists() and list((var / "media").rglob("*.zip"))


def test_compose_shares_the_upload_volume_between_web_and_worker():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    media = compose["x-app"]["environment"]["MEDIA_ROOT"]
    mounts = {name: services[name].get("volumes", []) for name in ("web", "worker")}
    for name, volumes in mounts.items():
        assert f"uploads:{media}" in volumes, name
    assert "uploads" in compose["volumes"]
    assert "/data/uploads" in (ROOT / "Dockerfile").read_text()  # owned by the app's user in the image
