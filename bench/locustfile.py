"""The three journeys under load (loopback only, bounded in time): see bench/load.py."""

import random

from locust import HttpUser, between, task

PATIENTS = [f"BENCH-{i:06d}" for i in range(1, 10_001)]


class Journey(HttpUser):
    abstract = True
    wait_time = between(0.5, 2)
    username = ""

    def on_start(self):
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": "bench-password-2026", "csrfmiddlewaretoken": token},
            headers={"Referer": self.host + "/accounts/login/"},
            name="login",
        )

    def csrf(self):
        return self.client.cookies.get("csrftoken", "")


class Clinician(Journey):
    weight = 2
    username = "bench-clinician"

    @task
    def visit_journey(self):
        code = random.choice(PATIENTS)
        self.client.get("/patients/", name="patient list")
        self.client.get(f"/patients/{code}/", name="patient page")
        self.client.get(f"/patients/{code}/visits/new/", name="visit form")
        self.client.post(
            f"/patients/{code}/visits/cdai-preview/",
            {"date": "2026-01-05", "contact": "clinic", "weight_kg": "70", "cdai_stools": "10", "cdai_pain": "4",
             "cdai_wellbeing": "6", "cdai_antidiarrheal": "false", "cdai_mass": "0", "hematocrit": "44",
             "csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": self.host + "/"}, name="live CDAI",
        )
        self.client.get(f"/patients/{code}/dose/", name="dose page")


class Nurse(Journey):
    weight = 2
    username = "bench-nurse"

    @task
    def inbox_journey(self):
        self.client.get("/inbox/", name="inbox")
        self.client.get("/inbox/?kind=pregnancy_test_due", name="inbox filtered")
        self.client.get(f"/patients/{random.choice(PATIENTS)}/", name="patient page")


class ClinicLead(Journey):
    weight = 1
    username = "bench-lead"

    @task
    def report_journey(self):
        self.client.get("/patients/", name="patient list")
        self.client.get("/reports/cohort/?diagnosis=CD", name="cohort report")
