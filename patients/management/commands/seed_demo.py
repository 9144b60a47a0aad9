"""Seed the demo: one account per role and about 30 fictional patients.

Safe to run again: accounts get their demo passwords back, patients that
exist already are left as they are.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from patients.demo import demo_patient_fields
from patients.models import Patient
from patients.services import patient_create
from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NURSE

DEMO_ACCOUNTS = [
    # username, password, role, first name, last name
    ("clinician", "demo-clinician-2026", CLINICIAN, "Carla", "Clinician (demo)"),
    ("nurse", "demo-nurse-2026", NURSE, "Noor", "Nurse (demo)"),
    ("lead", "demo-lead-2026", CLINIC_LEAD, "Leo", "Clinic lead (demo)"),
    ("admin", "demo-admin-2026", ADMIN, "Ada", "Admin (demo)"),
]


class Command(BaseCommand):
    help = "Create the demo accounts (one per role) and a fictional demo cohort."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=30, help="number of demo patients")

    @transaction.atomic
    def handle(self, *args, patients, **options):
        users = {}
        for username, password, role, first, last in DEMO_ACCOUNTS:
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = f"{username}@thalimon.invalid"
            user.is_staff = role == ADMIN
            user.is_active = True
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            users[role] = user

        today = timezone.localdate()
        created = 0
        for index in range(1, patients + 1):
            fields = demo_patient_fields(index, today=today)
            if Patient.objects.filter(code=fields["code"]).exists():
                continue
            fields["responsible_clinician"] = users[CLINICIAN]
            fields["responsible_nurse"] = users[NURSE]
            patient_create(actor=users[CLINICIAN], **fields)
            created += 1

        self.stdout.write(self.style.SUCCESS(f"Demo patients: {created} created, {patients} in the demo cohort."))
        self.stdout.write("Demo accounts (fictional data only; change these passwords anywhere real):")
        for username, password, role, _, _ in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role:<12} username: {username:<10} password: {password}")
