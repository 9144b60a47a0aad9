"""A synthetic, clearly fictional demo cohort (used by seed_demo and benches).

Deterministic: the same seed gives the same patients. Codes are DEMO-nnn and
names are made-up "Demo" names so nobody can mistake them for real people.
"""

import random
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
