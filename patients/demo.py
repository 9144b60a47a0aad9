"""A synthetic, clearly fictional demo cohort (used by seed_demo and benches).

Deterministic: the same seed gives the same patients. Codes are DEMO-nnn and
names are made-up "Demo" names so nobody can mistake them for real people.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from patients.models import AidType, Diagnosis, Genotype, Sex

FIRST_NAMES = [
    "Ada", "Ben", "Cleo", "Dev", "Esme", "Finn", "Gita", "Hugo", "Iris", "Jonas",
    "Kira", "Luca", "Maya", "Nils", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tess",
]
SURNAMES = ["Demo", "Example", "Sample", "Fictional", "Testperson", "Placeholder"]


def demo_patient_fields(index, *, today, rng=None):
    """Field values of the demo patient number ``index`` (1-based)."""
    rng = rng or random.Random(index)
    sex = Sex.FEMALE if index % 2 == 0 else Sex.MALE
    age_years = rng.randint(18, 62) if index % 10 else rng.randint(9, 15)
    birth_date = today - timedelta(days=age_years * 365 + rng.randint(0, 364))
    diagnosis = Diagnosis.CD if index % 10 not in (7, 0) else (
        Diagnosis.UC if index % 10 == 7 else Diagnosis.AID
    )
    height = Decimal(rng.randint(150, 188)) if age_years >= 16 else Decimal(rng.randint(125, 165))
    fields = {
        "code": f"DEMO-{index:03d}",
        "full_name": f"{FIRST_NAMES[index % len(FIRST_NAMES)]} {SURNAMES[index % len(SURNAMES)]}",
        "sex": sex,
        "birth_date": birth_date,
        "height_cm": height,
        "diagnosis": diagnosis,
        "smoker": rng.random() < 0.2,
        "prior_biologic": rng.random() < 0.3,
        "tpmt": rng.choice([Genotype.NORMAL] * 8 + [Genotype.INTERMEDIATE, Genotype.UNKNOWN]),
        "nudt15": rng.choice([Genotype.NORMAL] * 8 + [Genotype.INTERMEDIATE, Genotype.UNKNOWN]),
        "crp_at_lor": Decimal(rng.randint(5, 350)) / 10,
        "esr_at_lor": Decimal(rng.randint(8, 70)),
        "tgn_on_aza_mono": Decimal(rng.randint(1500, 3200)) / 10 if rng.random() < 0.8 else None,
    }
    if diagnosis == Diagnosis.CD:
        fields["montreal_location"] = rng.choice(["L1", "L2", "L3", "L3"])
        fields["montreal_behavior"] = rng.choice(["B1", "B1", "B2", "B3"])
        fields["upper_gi"] = rng.random() < 0.15
        fields["perianal"] = rng.random() < 0.3
        fields["ileocolic_resection"] = rng.random() < 0.2
        fields["baseline_cdai"] = Decimal(rng.randint(160, 380))
    if diagnosis == Diagnosis.AID:
        fields["aid_type"] = rng.choice([AidType.SAVI, AidType.BLAU, AidType.HA20, AidType.DADA2])
    if sex == Sex.FEMALE:
        if age_years < 12:
            fields["premenarchal"] = True
        elif index % 8 == 0:
            fields["non_reproductive_reason"] = "hysterectomy"
        else:
            fields["irregular_cycles"] = rng.random() < 0.3
            fields["contraception_start"] = today - timedelta(days=rng.randint(35, 120))
    return fields


DEMO_START = date(2020, 1, 1)


def demo_history(index, *, today, rng=None):
    """A plausible, fictional therapy history for demo patient ``index``.

    Returns the course start, the clinic visits (as service keyword
    arguments, with same-day labs) and endoscopies. Visits follow the
    R7 checkpoints (day 0, 28, 56, 84, 168, then every 84 days); about two
    thirds respond, some relapse later, a few never respond.
    """
    rng = rng or random.Random(1000 + index)
    days_on_therapy = rng.choice([20, 45, 70, 100, 150, 200, 300, 420, 560, 700])
    start = today - timedelta(days=days_on_therapy)
    profile = rng.choice(["responder"] * 4 + ["relapser"] * 2 + ["non_responder"])
    checkpoints = [0, 28, 56, 84, 168]
    while checkpoints[-1] + 84 <= days_on_therapy:
        checkpoints.append(checkpoints[-1] + 84)
    checkpoints = [d for d in checkpoints if d <= days_on_therapy]
    visits, endoscopies = [], []
    base_weight = Decimal(rng.randint(50, 80))
    for number, day in enumerate(checkpoints):
        if profile == "non_responder":
            severity = 1.0 - 0.05 * number
        elif profile == "relapser" and number >= 4:
            severity = 1.05
        else:
            severity = max(0.15, 1.0 - 0.3 * number)
        severity *= rng.uniform(0.9, 1.1)
        visit_date = start + timedelta(days=day)
        visits.append(
            {
                "date": visit_date,
                "contact": "clinic",
                "weight_kg": base_weight + Decimal(number) / 2,
                "cdai_stools": int(30 * severity),
                "cdai_pain": min(21, int(12 * severity)),
                "cdai_wellbeing": min(28, int(14 * severity)),
                "cdai_complications": 1 if severity > 0.6 else 0,
                "cdai_antidiarrheal": severity > 0.9,
                "cdai_mass": 2 if severity > 0.8 else 0,
                "hematocrit": Decimal(str(round(36 + 7 * (1 - min(severity, 1)), 1))),
                "neuropathy_grade": 1 if (index % 7 == 3 and number == 2) else 0,
                "contraception_confirmed": True,
                "heart_rate": rng.randint(58, 88),
                "lab_values": {
                    "crp": Decimal(str(round(2 + 30 * severity * rng.uniform(0.6, 1.2), 1))),
                    "esr": Decimal(rng.randint(5, 15) + int(35 * severity)),
                    "wbc": Decimal(str(round(rng.uniform(3.2, 8.5), 1))),
                    "hemoglobin": Decimal(rng.randint(105, 150)),
                    "platelets": Decimal(rng.randint(150, 420)),
                    "alt": Decimal(rng.randint(12, 60)),
                },
            }
        )
        if day == 0 or (day == 168 and rng.random() < 0.7):
            cdeis = Decimal(str(round(max(1.0, 15 * severity * rng.uniform(0.8, 1.2)), 1)))
            endoscopies.append({"date": visit_date - timedelta(days=3 if day == 0 else 0), "cdeis_entered": cdeis,
                                "ulceration": severity > 0.3})
    return start, visits, endoscopies


def demo_doses(index, *, start, today, female_of_reproductive_potential, irregular_cycles):
    """Thalidomide steps (25 mg, +25 every 2 weeks to the target), an AZA dose
    held from before the start, and R5.2 pregnancy tests for women of
    reproductive potential. A few patients carry a deviation to show."""
    rng = random.Random(2000 + index)
    target = rng.choice([Decimal("50"), Decimal("75"), Decimal("100"), Decimal("100")])
    thal = [(start, Decimal("25"), "start", "")]
    day, dose = 14, Decimal("25")
    while dose < target and start + timedelta(days=day) <= today:
        dose += 25
        if index % 9 == 4 and dose == 50:  # one early step, overridden
            thal.append((start + timedelta(days=day - 4), dose, "step", "flare; consultant agreed (demo)"))
        else:
            thal.append((start + timedelta(days=day), dose, "step", ""))
        day += 14
    aza = [(start - timedelta(days=rng.randint(200, 900)), Decimal(rng.choice([100, 125, 150])), "", "")]
    tests = []
    if female_of_reproductive_potential:
        tests = [start - timedelta(days=12), start]
        test_day = 7
        while start + timedelta(days=test_day) <= today:
            tests.append(start + timedelta(days=test_day))
            test_day += 7 if test_day < 28 else (14 if irregular_cycles in (None, True) else 28)
        tests = tests[:-1] if len(tests) > 4 and index % 4 == 0 else tests  # one overdue test to show
    return target, thal, aza, tests


@dataclass(frozen=True)
class DemoPrescription:
    """One thalidomide prescription of the demo (R9), in days before today."""

    issued: int
    days_supply: int
    dispensed: int | None  # None: never dispensed
    override_reason: str = ""


# Why the demo's late dispensing happened (recorded with dispensed_too_late, R9.3).
DEMO_LATE_DISPENSING_REASON = "Pharmacy closed over the holiday; the patient collected the tablets on the first day it opened."

# Prescriptions of every kind (R9.3, R9.4) under the default profile (eu_ppp), each on its own
# patient on thalidomide for 60 days or more: (kind, sex, prescriptions, oldest first).
DEMO_PRESCRIPTIONS = (
    # In time, then an ordinary running supply: the second runs out in 6 days (22 − 28), so its
    # prescription_due reminder (run-out − 7 days) is due since yesterday.
    ("running supply", Sex.MALE, (DemoPrescription(47, 28, 47), DemoPrescription(22, 28, 22))),
    # Issued with 13 days of the first supply left (> 7): early_repeat, overridden with a reason.
    ("early repeat", Sex.MALE, (DemoPrescription(30, 28, 30),
                                DemoPrescription(15, 28, 15, "tablets lost while travelling (demo)"))),
    # A woman of reproductive potential: dispensed 9 days after issue (dispense by issue + 7).
    ("dispensed late", Sex.FEMALE, (DemoPrescription(30, 28, 21),)),
    # Dispensed in time (3 days after issue), then one never dispensed: expired since 5 days ago.
    ("expired", Sex.FEMALE, (DemoPrescription(40, 28, 37), DemoPrescription(12, 28, None))),
)
DEMO_PRESCRIPTION_HISTORY_DAYS = 60  # the course started at least this long ago


def demo_prescription_dates(prescription, *, today):
    """(issue date, dispensed date or None) of a demo prescription."""
    dispensed = None if prescription.dispensed is None else today - timedelta(days=prescription.dispensed)
    return today - timedelta(days=prescription.issued), dispensed
