"""Pure laboratory rules: fixed units, plausible values and reference ranges (R12).

No Django, no clock. A value outside the plausible range is refused as a
probable unit error with the expected unit named; a value outside the
reference range is flagged low/high (the lab's own range wins when recorded;
children under 16 use CRP <= 8 mg/L and ESR <= 20 mm/h, Zhang 2023).
"""

from dataclasses import dataclass
from decimal import Decimal

from thalimon.said import Said, say


@dataclass(frozen=True)
class LabTest:
    code: str
    label: str  # a ``Said``: the test's name, said in the reader's language (visits/words.py)
    unit: str
    plausible: tuple[Decimal, Decimal]
    reference_male: tuple[Decimal | None, Decimal | None]
    reference_female: tuple[Decimal | None, Decimal | None]
    # None bound = open; "upper_exclusive" for "< 50" style limits
    upper_exclusive: bool = False


def _d(value):
    return None if value is None else Decimal(str(value))


def _plain(value):
    return None if value is None else Decimal(str(value)).normalize()


def _test(code, label, unit, plausible, reference, reference_female=None, upper_exclusive=False):
    reference = tuple(_d(v) for v in reference)
    female = tuple(_d(v) for v in reference_female) if reference_female else reference
    return LabTest(
        code, label, unit, tuple(_d(v) for v in plausible), reference, female, upper_exclusive
    )


LAB_TESTS = {
    t.code: t
    for t in [
        _test("crp", say("CRP"), "mg/L", (0, 500), (0, 3)),
        _test("esr", say("ESR"), "mm/h", (0, 150), (0, 15)),
        _test("wbc", say("WBC"), "×10⁹/L", (0, 200), (4, 10)),
        _test("neutrophils", say("Neutrophils"), "×10⁹/L", (0, 100), ("2.0", "7.5")),
        _test("hemoglobin", say("Haemoglobin"), "g/L", (30, 250), (130, 175), (115, 150)),
        _test("hematocrit", say("Haematocrit"), "%", (10, 70), (40, 50), (35, 45)),
        _test("platelets", say("Platelets"), "×10⁹/L", (0, 2000), (100, 300)),
        _test("mcv", say("MCV"), "fL", (40, 150), (80, 100)),
        _test("alt", say("ALT"), "U/L", (0, 5000), (0, 40)),
        _test("ast", say("AST"), "U/L", (0, 5000), (0, 40)),
        _test("albumin", say("Albumin"), "g/L", (5, 70), (35, 50)),
        _test("creatinine", say("Creatinine"), "µmol/L", (10, 2000), (59, 104), (45, 84)),
        _test("calprotectin", say("Faecal calprotectin"), "µg/g", (0, 10000), (None, 50), upper_exclusive=True),
        _test("tgn", say("6-TGN"), "pmol/8×10⁸ RBC", (0, 3000), (235, 450)),
        _test("mmp", say("6-MMP"), "pmol/8×10⁸ RBC", (0, 50000), (None, 5700), upper_exclusive=True),
    ]
}
LAB_ORDER = tuple(LAB_TESTS)
# R12 "or the lab's own range when one is recorded": ALT and AST take the lab's upper limit of
# normal (their range is then 0–ULN), which R4.4's withhold tier multiplies by 3 (default 40 U/L).
LIVER_TESTS = ("alt", "ast")
# A laboratory's ALT/AST upper limit outside 10–200 U/L is a typing error, not a laboratory.
LIVER_ULN_RANGE = (Decimal("10"), Decimal("200"))

# Accepted spellings of each fixed unit in a datasheet's optional `unit` column.
UNIT_SPELLINGS = {
    "mg/L": {"mg/l"},
    "mm/h": {"mm/h", "mm/hr"},
    "×10⁹/L": {"×10⁹/l", "x10^9/l", "10^9/l", "x10e9/l", "*10^9/l"},
    "g/L": {"g/l"},
    "%": {"%"},
    "fL": {"fl"},
    "U/L": {"u/l", "iu/l"},
    "µmol/L": {"µmol/l", "umol/l", "μmol/l"},
    "µg/g": {"µg/g", "ug/g", "μg/g", "mcg/g"},
    "pmol/8×10⁸ RBC": {"pmol/8×10⁸ rbc", "pmol/8x10^8 rbc", "pmol/8x10e8 rbc", "pmol/8x10^8rbc"},
}


def unit_error(test: str, unit: str | None) -> Said | None:
    """A message when a given unit is not the fixed unit of the test."""
    if unit is None or unit.strip() == "":
        return None
    expected = LAB_TESTS[test].unit
    if unit.strip().lower() in UNIT_SPELLINGS.get(expected, set()) | {expected.lower()}:
        return None
    return say(
        "%(test)s must be given in %(unit)s; '%(given)s' is not accepted "
        "(values are never converted silently).",
        test=LAB_TESTS[test].label, unit=expected, given=unit,
    )


def plausibility_error(test: str, value) -> Said | None:
    """R12: a value outside the plausible range is a probable unit error."""
    lab = LAB_TESTS[test]
    value = Decimal(str(value))
    low, high = lab.plausible
    if value < low or value > high:
        return say(
            "%(test)s %(value)s is outside the plausible range %(low)s–%(high)s: expected %(unit)s.",
            test=lab.label, value=format(value.normalize(), "f"), low=format(low, "f"),
            high=format(high, "f"), unit=lab.unit,
        )
    return None


def reference_range(test: str, *, sex: str | None, age_years: int | None, lab_low=None, lab_high=None):
    """(low, high, upper_exclusive) for the flag: the lab's own range, else R12's."""
    lab = LAB_TESTS[test]
    if lab_low is not None or lab_high is not None:  # as the lab wrote it: 35, not the stored 35.000
        return _plain(lab_low), _plain(lab_high), False
    if age_years is not None and age_years < 16 and test in ("crp", "esr"):
        return Decimal("0"), Decimal("8" if test == "crp" else "20"), False
    # Sex is required on every patient; "M" and "F" pick the R12 column.
    low, high = lab.reference_female if sex == "F" else lab.reference_male
    return low, high, lab.upper_exclusive


def range_flag(test: str, value, *, sex=None, age_years=None, lab_low=None, lab_high=None) -> str:
    """"low", "high" or "" for a value against its reference range (R12)."""
    low, high, upper_exclusive = reference_range(
        test, sex=sex, age_years=age_years, lab_low=lab_low, lab_high=lab_high
    )
    value = Decimal(str(value))
    if low is not None and value < low:
        return "low"
    if high is not None and (value >= high if upper_exclusive else value > high):
        return "high"
    return ""


def format_range(test: str, *, sex=None, age_years=None, lab_low=None, lab_high=None) -> str:
    low, high, upper_exclusive = reference_range(
        test, sex=sex, age_years=age_years, lab_low=lab_low, lab_high=lab_high
    )
    if low is None and high is not None:
        return f"{'<' if upper_exclusive else '≤'} {format(high, 'f')}"
    if high is None and low is not None:
        return f"≥ {format(low, 'f')}"
    return f"{format(low, 'f')}–{format(high, 'f')}"
