"""The three journeys under load (loopback only, bounded in time): see bench/load.py.

Two profiles (THALIMON_LOAD_PROFILE):

* ``clinic`` — each user reads every page before the next one: a think time of 3 to
  10 s after each page view (the targets are measured with this profile);
* ``stress`` — the pages of one journey back to back, 0.5 to 2 s between journeys:
  far more than people click, to find where the 2 cores saturate.

For the soak (bench/soak.py, ``THALIMON_SOAK_LOG`` set) clinicians also record lab
results, and every request is logged (time, name, milliseconds, status) with every
acknowledged write (patient, date, value), so that the soak can count writes lost and
errors inside and outside its fault windows.
"""

import datetime
import json
import os
import random
import time

import urllib3
from locust import HttpUser, between, events, task

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the benchmark's own certificate

PATIENTS = [f"BENCH-{i:06d}" for i in range(1, 10_001)]
PROFILE = os.environ.get("THALIMON_LOAD_PROFILE", "clinic")
PASSWORD = "bench-password-2026"
SOAK_LOG = os.environ.get("THALIMON_SOAK_LOG")
_log = open(SOAK_LOG, "a", buffering=1) if SOAK_LOG else None  # noqa: SIM115  (open for the run)


if _log:
    @events.request.add_listener
    def _log_request(request_type, name, response_time, response_length, response=None, exception=None, **_):
        status = getattr(response, "status_code", 0) or 0
        _log.write(json.dumps({"t": time.time(), "name": name, "ms": response_time, "status": status,
                               "error": status == 0 or status >= 500}) + "\n")  # no answer, or a server error


class Journey(HttpUser):
    abstract = True
    wait_time = between(3, 10) if PROFILE == "clinic" else between(0.5, 2)
    username = ""

    def on_start(self):
        self.client.verify = False
        self.client.get("/accounts/login/", name="login page")
        self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
        )

    def csrf(self):
        return self.client.cookies.get("csrftoken", "")

    def page(self, url, name, data=None):
        """One page view; in the clinic profile the user then reads it before going on."""
        if data is None:
            self.client.get(url, name=name)
        else:
            self.client.post(url, {**data, "csrfmiddlewaretoken": self.csrf()},
                             headers={"Referer": self.host + "/"}, name=name)
        if PROFILE == "clinic":
            self.wait()


class Clinician(Journey):
    weight = 2
    username = "bench-clinician"

    @task
    def visit_journey(self):
        code = random.choice(PATIENTS)
        self.page("/patients/", "patient list")
        self.page(f"/patients/?q={code[-4:]}", "patient search")
        self.page(f"/patients/{code}/", "patient page")
        self.page(f"/patients/{code}/visits/new/", "visit form")
        self.page(
            f"/patients/{code}/visits/cdai-preview/", "live CDAI",
            {"date": "2026-01-05", "contact": "clinic", "weight_kg": "70", "cdai_stools": "10", "cdai_pain": "4",
             "cdai_wellbeing": "6", "cdai_antidiarrheal": "false", "cdai_mass": "0", "hematocrit": "44"},
        )
        self.page(f"/patients/{code}/dose/", "dose page")


class Nurse(Journey):
    weight = 2
    username = "bench-nurse"

    @task
    def inbox_journey(self):
        self.page("/inbox/", "inbox")
        self.page("/inbox/?kind=pregnancy_test_due", "inbox filtered")
        self.page(f"/patients/{random.choice(PATIENTS)}/", "patient page")


class ClinicLead(Journey):
    weight = 1
    username = "bench-lead"

    @task
    def report_journey(self):
        self.page("/patients/", "patient list")
        self.page("/reports/cohort/?diagnosis=CD", "cohort report")


if _log:
    class LabWriter(Journey):
        """A clinician recording lab results (a WBC) for random patients on random past days."""

        weight = 2
        username = "bench-clinician"

        @task
        def record_lab(self):
            code = random.choice(PATIENTS)
            day = (datetime.date.today() - datetime.timedelta(days=random.randint(1, 600))).isoformat()
            value = f"{random.randint(40, 99) / 10:.1f}"
            response = self.client.post(
                f"/patients/{code}/labs/new/", {"date": day, "lab_wbc": value, "csrfmiddlewaretoken": self.csrf()},
                headers={"Referer": self.host + "/"}, name="record a lab result", allow_redirects=False,
            )
            if response.status_code == 302 and f"/patients/{code}/" in response.headers.get("Location", ""):
                # saved: the server said so (back to the patient's page)
                _log.write(json.dumps({"write": [code, day, value]}) + "\n")
            self.wait()
