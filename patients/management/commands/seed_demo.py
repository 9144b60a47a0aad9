"""Seed the demo: one account per role and about 30 fictional patients at site MAIN,
and a second site, EAST, with its own clinician and three patients (issue 18: each
site's users see only their own site's patients), and a network lead who is a member
of no site (aggregate reports of every site, no patient).

Safe to run again: accounts get their demo passwords back, patients that
exist already are left as they are.
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from patients.actions import patient_create
from patients.demo import (
    DEMO_LATE_DISPENSING_REASON,
    DEMO_PRESCRIPTION_HISTORY_DAYS,
    DEMO_PRESCRIPTIONS,
    demo_doses,
    demo_history,
    demo_patient_fields,
    demo_prescription_dates,
)
from patients.models import Diagnosis, Patient
from safety.actions import adverse_event_record, rescans_deferred
from safety.scan import scan_reminders
from sites.models import MAIN_CODE, MAIN_NAME, Membership, Site
from thalimon.roles import ADMIN, CLINIC_LEAD, CLINICIAN, NETWORK_LEAD, NURSE
from therapy import actions as therapy_actions
from therapy import records as therapy_records
from therapy.actions import historical_course_save
from therapy.models import Drug, PregnancyTest
from therapy.rules import doses as dose_rules
from visits.actions import endoscopy_record, lab_results_record, visit_record

DEMO_ACCOUNTS = [
    # username, password, role, first name, last name
    ("clinician", "demo-clinician-2026", CLINICIAN, "Carla", "Clinician (demo)"),
    ("nurse", "demo-nurse-2026", NURSE, "Noor", "Nurse (demo)"),
    ("lead", "demo-lead-2026", CLINIC_LEAD, "Leo", "Clinic lead (demo)"),
    ("admin", "demo-admin-2026", ADMIN, "Ada", "Admin (demo)"),
]

# The second site of the demo network, its clinician and its patients (codes only).
EAST_SITE = ("EAST", "East hospital (demo)")
EAST_ACCOUNTS = [("clinician-east", "demo-east-2026", CLINICIAN, "Emil", "East clinician (demo)")]
EAST_PATIENTS = 3
# The network lead is a member of NO site: the role reads aggregates only (every site's, by
# its permission), and a membership would only ever open patients to the account — were a
# patient permission ever added to it by mistake, a user of no site still sees no patient.
NETWORK_ACCOUNTS = [("network", "demo-network-2026", NETWORK_LEAD, "Nadia", "Network lead (demo)")]


class Command(BaseCommand):
    help = "Create the demo accounts (one per role) and a fictional demo cohort."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=30, help="number of demo patients")

    def handle(self, *args, patients, **options):
        with rescans_deferred(), transaction.atomic():
            self._seed(patients)

    def _account(self, site, username, password, role, first, last):
        """The demo account, with its demo password; a member of ``site`` only (None: of no site)."""
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@thalimon.invalid"
        user.is_staff = role == ADMIN
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        if site is None:
            Membership.objects.filter(user=user).delete()
        else:
            Membership.objects.get_or_create(user=user, site=site)
        return user

    def _seed(self, patients):
        main, _ = Site.objects.get_or_create(code=MAIN_CODE, defaults={"name": MAIN_NAME})
        east, _ = Site.objects.get_or_create(code=EAST_SITE[0], defaults={"name": EAST_SITE[1]})
        users = {}
        for account in DEMO_ACCOUNTS:
            users[account[2]] = self._account(main, *account)
        east_clinician = self._account(east, *EAST_ACCOUNTS[0])
        for account in NETWORK_ACCOUNTS:
            self._account(None, *account)

        today = timezone.localdate()
        created = 0
        for index in range(1, patients + 1):
            fields = demo_patient_fields(index, today=today)
            if Patient.objects.filter(code=fields["code"]).exists():
                continue
            fields["responsible_clinician"] = users[CLINICIAN]
            fields["responsible_nurse"] = users[NURSE]
            patient = patient_create(actor=users[CLINICIAN], site=main, **fields)
            created += 1
            if patient.diagnosis == Diagnosis.CD and index % 6 != 5:
                self._seed_history(index, patient, users[CLINICIAN], today)

        for index in range(1, EAST_PATIENTS + 1):
            # Patients of their own (the demo numbers after MAIN's) with a therapy history, so
            # that the network report compares two sites (its funnel plot places both).
            fields = demo_patient_fields(patients + index, today=today)
            fields["code"] = f"EAST-{index:03d}"
            if not Patient.objects.filter(code=fields["code"]).exists():
                fields["responsible_clinician"], fields["responsible_nurse"] = east_clinician, None
                patient = patient_create(actor=east_clinician, site=east, **fields)
                if patient.diagnosis == Diagnosis.CD:
                    self._seed_history(patients + index, patient, east_clinician, today)

        if created:
            self._seed_prescriptions(users[CLINICIAN], users[NURSE], today)
            self._seed_urgent_examples(users[CLINICIAN], users[NURSE], today)
        report = scan_reminders(as_of=today)
        self.stdout.write(f"Reminders: {len(report.due)} due today, {report.created} stored.")
        self.stdout.write(self.style.SUCCESS(f"Demo patients: {created} created, {patients} in the demo cohort."))
        self.stdout.write("Demo accounts (fictional data only; change these passwords anywhere real):")
        for username, password, role, _, _ in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role:<12} username: {username:<10} password: {password}   (site {MAIN_CODE})")
        for username, password, role, _, _ in EAST_ACCOUNTS:
            self.stdout.write(f"  {role:<12} username: {username:<10} password: {password}   (site {EAST_SITE[0]})")
        for username, password, role, _, _ in NETWORK_ACCOUNTS:
            self.stdout.write(f"  {role:<12} username: {username:<10} password: {password}   "
                              "(no site: every site's aggregate reports, no patient)")

    def _seed_history(self, index, patient, clinician, today):
        start, visits, endoscopies = demo_history(index, today=today)
        patient.baseline_cdai = None  # the day-0 visit gives the baseline (R2.1)
        if patient.is_female_of_reproductive_potential:
            patient.contraception_start = start - timedelta(days=40)  # R5.3: from 4 weeks before
        patient.save(update_fields=["baseline_cdai", "contraception_start"])
        target, thalidomide, azathioprine, tests = demo_doses(
            index, start=start, today=today,
            female_of_reproductive_potential=patient.is_female_of_reproductive_potential,
            irregular_cycles=patient.irregular_cycles,
        )
        historical_course_save(
            actor=clinician, patient=patient, start_date=start, target_dose_mg=target,
            regimen="adult" if patient.age_on(start) >= 16 else "paediatric",
            regimen_reason="" if patient.age_on(start) >= 16 else "demo: paediatric regimen",
            consent_signed_date=start - timedelta(days=1),
            contraception_counselling_date=(
                start - timedelta(days=30) if patient.is_female_of_reproductive_potential else None
            ),
        )
        for day in tests:
            therapy_actions.pregnancy_test_record(actor=clinician, patient=patient, date=day, result="negative")
        for visit in visits:
            lab_values = visit.pop("lab_values")
            if patient.sex == "F" and not patient.is_female_of_reproductive_potential:
                visit.pop("contraception_confirmed", None)  # R5.3 applies to males and women of RP
            visit_record(actor=clinician, patient=patient, lab_values=lab_values, **visit)
        for endoscopy in endoscopies:
            endoscopy_record(actor=clinician, patient=patient, **endoscopy)
        # A few situations a nurse must see in the inbox (R7): a stop 40 days ago
        # (contraception follow-up), a neuropathy grade 1 now (review), an ongoing AE.
        stop_day = today - timedelta(days=40)
        if index % 9 == 2 and thalidomide[-1][0] < stop_day:
            thalidomide.append((stop_day, Decimal("0"), "patient choice", ""))
        # Dose records as a clinic's history: checked and stored, never refused.
        for drug, rows in (("azathioprine", azathioprine), ("thalidomide", thalidomide)):
            for day, dose, reason, override in rows:
                therapy_actions.dose_change_record(
                    actor=clinician, patient=patient, drug=drug, date=day, dose_mg=dose,
                    reason=reason, override_reason=override, historical=True,
                )
        if index % 7 == 3 and visits:
            last = patient.visits.order_by("-date").first()
            last.neuropathy_grade = 1
            last.save(update_fields=["neuropathy_grade"])
        if index % 5 == 1:
            adverse_event_record(
                actor=clinician, patient=patient, onset=today - timedelta(days=10), term="constipation",
                grade=1, drug="thalidomide", action_thalidomide="none", action_azathioprine="none",
            )

    def _prescription_candidates(self, today):
        """Patients on thalidomide without a break for the last 60 days or more, last codes first
        (the urgent examples take the first ones), with their thalidomide rows."""
        since = today - timedelta(days=DEMO_PRESCRIPTION_HISTORY_DAYS)
        found = []
        for patient in Patient.objects.filter(code__startswith="DEMO-").order_by("-code"):
            rows = therapy_records.doses_by_drug_for(patient.pk)[Drug.THALIDOMIDE]
            if rows and rows[0].date <= since and all(r.dose_mg > 0 for r in rows) and patient.status == "active":
                found.append((patient, rows))
        return found

    def _seed_prescriptions(self, clinician, nurse, today):
        """Prescriptions of every kind (patients.demo.DEMO_PRESCRIPTIONS) through the prescription
        action as a past chart (checked, codes stored, never refused) and the dispensing action,
        with a negative pregnancy test on the issue date of a woman's (R9.3). The one dispensed after
        its dispense-by date is recorded with the nurse's reason, as the dispensing page takes it."""
        candidates = self._prescription_candidates(today)
        for kind, sex, prescriptions in DEMO_PRESCRIPTIONS:
            chosen = next((c for c in candidates if c[0].sex == sex and (
                sex != "F" or c[0].is_female_of_reproductive_potential)), None)
            if chosen is None:
                continue
            candidates.remove(chosen)
            patient, rows = chosen
            for prescription in prescriptions:
                issued, dispensed = demo_prescription_dates(prescription, today=today)
                if patient.is_female_of_reproductive_potential and not PregnancyTest.objects.filter(
                        patient=patient, date=issued).exists():
                    therapy_actions.pregnancy_test_record(actor=nurse, patient=patient, date=issued, result="negative")
                dose = dose_rules.current_dose(rows, issued)
                rx = therapy_actions.prescription_record(
                    actor=clinician, patient=patient, issue_date=issued, dose_mg=dose,
                    days_supply=prescription.days_supply, contraception_confirmed=True,
                    override_reason=prescription.override_reason, historical=True,
                )
                if dispensed is not None:
                    therapy_actions.prescription_dispense(
                        actor=nurse, prescription=rx, dispensed_date=dispensed,
                        late_reason=DEMO_LATE_DISPENSING_REASON if kind == "dispensed late" else "",
                    )

    def _seed_urgent_examples(self, clinician, nurse, today):
        """One of each urgent event (therapy.rules.urgent), on patients the demo put on
        thalidomide or azathioprine, so that a newcomer sees the inbox's urgent section."""
        on_thalidomide, on_aza = [], []
        for patient in Patient.objects.filter(code__startswith="DEMO-").order_by("code"):
            rows = therapy_records.doses_by_drug_for(patient.pk)
            if therapy_records.thalidomide_active(rows[Drug.THALIDOMIDE], today):
                on_thalidomide.append(patient)
            if therapy_records.azathioprine_active(rows[Drug.AZATHIOPRINE], today):
                on_aza.append(patient)
        # Today's contact must be the latest one, so only patients not seen today.
        on_thalidomide = [p for p in on_thalidomide if not p.visits.filter(date__gte=today).exists()]
        women = [p for p in on_thalidomide if p.is_female_of_reproductive_potential]
        men = [p for p in on_thalidomide if p.sex == "M"]
        if len(women) < 3 or not men or not on_aza or len(on_thalidomide) < 5:
            return
        # A positive test yesterday (R5.2), and one with a dose recorded after it (R3.5).
        therapy_actions.pregnancy_test_record(actor=nurse, patient=women[0], date=today - timedelta(days=1),
                                              result="positive")
        therapy_actions.pregnancy_test_record(actor=nurse, patient=women[1], date=today - timedelta(days=3),
                                              result="positive")
        current = therapy_records.doses_by_drug_for(women[1].pk)[Drug.THALIDOMIDE][-1].dose_mg
        therapy_actions.dose_change_record(
            actor=clinician, patient=women[1], drug="thalidomide", date=today - timedelta(days=2), dose_mg=current,
            reason="demo: continuation recorded after the positive test", historical=True,
        )
        # Breast-feeding recorded at a visit (R5.1); contraception not confirmed by phone (R5.3).
        visit_record(actor=clinician, patient=women[2], date=today, contact="clinic",
                     neuropathy_grade=0, contraception_confirmed=True, breastfeeding=True)
        therapy_actions.contraception_confirm(actor=nurse, patient=men[0], date=today,
                                              contact="phone", confirmed=False)
        # Neuropathy grade 3 on thalidomide (R3.4); a withhold-level WBC on azathioprine (R4.4).
        grade3 = next(p for p in on_thalidomide if p not in women[:3] and p not in men[:1])
        visit_record(actor=clinician, patient=grade3, date=today, contact="clinic", neuropathy_grade=3,
                     contraception_confirmed=True if grade3.sex == "M" or grade3.is_female_of_reproductive_potential
                     else None)
        lab_results_record(actor=clinician, patient=on_aza[0], date=today, lab_values={"wbc": "2.2"})

