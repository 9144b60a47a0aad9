"""The demo as ``make demo`` serves it (scripts/demo-serve.sh: Django's server and a Celery
worker with beat, SQLite and collected, compressed static files), in a folder of its own.
Used by tests/e2e/test_demo_serve.py and bench/page_weight.py."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "demo-serve.sh"
DEMO_PASSWORDS = {"clinician": "demo-clinician-2026", "nurse": "demo-nurse-2026", "lead": "demo-lead-2026"}
# The test run's services and settings are not the demo's.
NOT_THE_DEMOS = ("CELERY_TASK_ALWAYS_EAGER", "DATABASE_URL", "REDIS_URL", "CACHE_URL", "MEDIA_ROOT",
                 "DJANGO_ALLOW_ASYNC_UNSAFE", "COLLECTED_STATIC", "TECHNICAL_ERROR_PAGES")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def demo_env(var, port, **extra):
    """The demo's environment; ``extra``: e.g. DATABASE_URL for another database than its SQLite."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_THE_DEMOS}
    return {**env, "THALIMON_VAR_DIR": str(var), "PORT": str(port), "HOST": "127.0.0.1",
            "DEBUG": "1", "THALIMON_DEMO": "1", **extra}


def manage(var, *command):
    """A manage.py command on the demo's database; its output."""
    done = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=demo_env(var, 0),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def prepare(var):
    """``make demo``'s first two steps: migrate and seed the demo (accounts, 30 patients)."""
    manage(var, "migrate", "--noinput")
    manage(var, "seed_demo")


def patient_with_most_visits(var):
    """The demo patient whose page has the most to draw, of site MAIN (the demo accounts' site)."""
    code = ("from django.db.models import Count; from patients.models import Patient; "
            "print(Patient.objects.filter(site__code='MAIN').annotate(n=Count('visits')).order_by('-n', 'code')[0].code)")
    return manage(var, "shell", "-c", code).strip().splitlines()[-1]


class Demo:
    """``scripts/demo-serve.sh`` running in its own session (as in a terminal of its own)."""

    def __init__(self, var, port, **extra_env):
        self.var, self.port, self.url = Path(var), port, f"http://127.0.0.1:{port}"
        self.env = demo_env(var, port, **extra_env)
        self.log = self.var / f"demo-serve-{port}.log"
        self.var.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(["bash", str(SCRIPT)], cwd=ROOT, env=self.env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_ready(self, timeout=300):
        """Until the server answers (the first start collects and compresses the static files)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                urllib.request.urlopen(self.url + "/accounts/login/", timeout=2)
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"the demo did not answer: {self.log.read_text()[-3000:]}")

    def pids(self):
        """The script's, the server's and the worker's process ids, as the script records them."""
        return [int(pid) for pid in (self.var / "demo.pids").read_text().split()]

    def stop(self):
        """``make stop``."""
        return subprocess.run(["bash", str(SCRIPT), "stop"], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=60)

    def kill(self):
        """Last resort, whatever happened: the script's whole session."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, 9)
        self.process.wait(timeout=10)


def alive(pid):
    """A process that exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def running_demo(var, port=None, **extra_env):
    demo = Demo(var, port or free_port(), **extra_env)
    try:
        yield demo.wait_ready()
    finally:
        demo.stop()
        demo.kill()
