"""The drill-down (reports/cohort_members.py) and the all-diagnoses report (R8 + addition).

A small mixed cohort worked by hand: every patient code expected below was read off the
records, never from the code under test. No database.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from reports.cohort import CohortDose
from reports.cohort_blocks import cohort_report
from reports.cohort_members import (
    DOSE_ROWS,
    EVENTS,
    PATIENTS,
    PRESCRIPTIONS,
    figure_members,
    is_figure_key,
)
from reports.prescription_figures import CohortPrescription
from reports.tables import report_tables
from tests.rules.test_cohort import THRESHOLDS, ae, clinic, patient

START = date(2021, 1, 1)
AS_OF = START + timedelta(days=400)


def dose(n, mg, deviations=(), overridden=False):
    return CohortDose(date=START + timedelta(days=n), dose_mg=Decimal(mg), deviations=deviations, overridden=overridden)


def prescription(n, deviations=(), *, dispensed=None, dispense_by=None, overridden=False):
    def on(days):
        return None if days is None else START + timedelta(days=days)

    return CohortPrescription(on(n), deviations, dispensed_date=on(dispensed), dispense_by=on(dispense_by),
                              overridden=overridden)


def cohort():
    return [
        # Baseline 300; day 28: 120 (remission); day 56: 180 (response; not a relapse: 180 ≤
        # nadir 120 + 70); day 84: 320 (no response; relapse: > 150 and > 190).
        patient("CD-A", visits=(clinic(0, 300), clinic(28, 120), clinic(56, 180), clinic(84, 320)),
                adverse_events=(ae(10, "peripheral_neuropathy", thal="withdrawn"), ae(20, "rash", hospitalised=True)),
                thalidomide_doses=(dose(0, 25), dose(14, 50), dose(20, 75, ("step_too_soon",), overridden=True)),
                # R9: d0 clean, dispensed d0; d20 two codes, overridden, dispensed d21 (no dispense-by:
                # in time); d50 dispensed d60 after its dispense-by d57 (late).
                prescriptions=(prescription(0, dispensed=0),
                               prescription(20, ("early_repeat", "contraception_not_confirmed"), dispensed=21,
                                            overridden=True),
                               prescription(50, ("dispensed_too_late",), dispensed=60, dispense_by=57))),
        # Baseline 250; day 28: 240 (fall 10: no response).
        patient("CD-B", visits=(clinic(0, 250), clinic(28, 240)), thalidomide_doses=(dose(0, 25),)),
        # No baseline CDAI (no visit from day -14 to 0): assessed at week 4, never classified.
        patient("CD-C", visits=(clinic(28, 100),), adverse_events=(ae(5, "fatigue", thal="withdrawn", aza="withdrawn"),)),
        # Baseline 280; day 28: 200 (response, not remission); day 90: 190 (response at week 12).
        patient("CD-H", visits=(clinic(0, 280), clinic(28, 200), clinic(90, 190))),
        patient("UC-D", diagnosis="UC", adverse_events=(ae(30, "nausea", aza="withdrawn"),),
                thalidomide_doses=(dose(0, 25), dose(7, 50, ("step_too_soon",))),
                prescriptions=(prescription(0, ("start_not_covered",), dispense_by=7),)),  # never dispensed
        patient("AID-E", diagnosis="AID", adverse_events=(ae(40, "peripheral_neuropathy"),)),
        patient("CD-F", start=AS_OF + timedelta(days=1),  # starts after as_of: not in the cohort
            prescriptions=(prescription(0),)),
        patient("UC-G", diagnosis="UC", start=None),  # no course: not in the cohort
    ]


def members(key, diagnosis="all"):
    return figure_members(cohort(), key=key, as_of=AS_OF, diagnosis=diagnosis,
                          remission_below=THRESHOLDS["remission_below"], response_drop=THRESHOLDS["response_drop"])


def report(diagnosis):
    return cohort_report(cohort(), as_of=AS_OF, diagnosis=diagnosis, rules_version="test-1", **THRESHOLDS)


def at(report, key):
    value = report
    for part in key.split("."):
        value = value[part]
    return value


EXPECTED = [
    ("induction.response.4.n", PATIENTS, {"CD-A": 1, "CD-H": 1}),
    ("induction.remission.4.n", PATIENTS, {"CD-A": 1}),
    ("induction.response.8.n", PATIENTS, {"CD-A": 1}),
    ("induction.remission.8.n", PATIENTS, {}),
    ("induction.response.12.n", PATIENTS, {"CD-H": 1}),
    ("relapse_free.n", PATIENTS, {"CD-A": 1, "CD-H": 1}),
    ("relapse_free.events", PATIENTS, {"CD-A": 1}),
    ("adverse_events.patients", PATIENTS, {"AID-E": 1, "CD-A": 1, "CD-C": 1, "UC-D": 1}),
    ("adverse_events.events", EVENTS, {"AID-E": 1, "CD-A": 2, "CD-C": 1, "UC-D": 1}),
    ("adverse_events.nervous_system_patients", PATIENTS, {"AID-E": 1, "CD-A": 1, "CD-C": 1}),
    ("adverse_events.by_term.peripheral_neuropathy", PATIENTS, {"AID-E": 1, "CD-A": 1}),
    ("adverse_events.by_term.tremor", PATIENTS, {}),  # in the vocabulary, nobody had it
    ("adverse_events.thalidomide_withdrawn", EVENTS, {"CD-A": 1}),
    ("adverse_events.azathioprine_withdrawn", EVENTS, {"UC-D": 1}),
    ("adverse_events.both_withdrawn", EVENTS, {"CD-C": 1}),  # never under a single drug as well
    ("adverse_events.hospitalised", EVENTS, {"CD-A": 1}),
    ("titration.dose_changes", DOSE_ROWS, {"CD-A": 3, "CD-B": 1, "UC-D": 2}),
    ("titration.deviations.step_too_soon", DOSE_ROWS, {"CD-A": 1, "UC-D": 1}),
    ("titration.overrides", DOSE_ROWS, {"CD-A": 1}),
    ("prescriptions.issued", PRESCRIPTIONS, {"CD-A": 3, "UC-D": 1}),
    ("prescriptions.deviations.early_repeat", PRESCRIPTIONS, {"CD-A": 1}),
    ("prescriptions.deviations.dispensed_too_late", PRESCRIPTIONS, {"CD-A": 1}),
    ("prescriptions.deviations.start_not_covered", PRESCRIPTIONS, {"UC-D": 1}),
    ("prescriptions.deviations.supply_too_long", PRESCRIPTIONS, {}),  # an R9.3 code nobody has
    ("prescriptions.no_deviation", PRESCRIPTIONS, {"CD-A": 1}),
    ("prescriptions.dispensed", PRESCRIPTIONS, {"CD-A": 3}),
    ("prescriptions.dispensed_in_time", PRESCRIPTIONS, {"CD-A": 2}),
    ("prescriptions.overrides", PRESCRIPTIONS, {"CD-A": 1}),
]


@pytest.mark.parametrize(("key", "unit", "expected"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_the_patients_behind_each_count_of_the_all_diagnoses_report(key, unit, expected):
    figure = members(key)
    assert figure.counts == expected and figure.unit == unit
    assert figure.total == at(report("all"), key)


def test_cdai_figures_of_all_diagnoses_are_the_crohns_patients_only():
    assert members("induction.response.4.n").crohns_only
    assert not members("induction.response.4.n", diagnosis="CD").crohns_only
    assert not members("adverse_events.patients").crohns_only
    # UC-D and AID-E never appear under a CDAI figure, though they are in the cohort.
    assert members("induction.response.4.n", diagnosis="UC").counts == {}


@pytest.mark.parametrize("diagnosis", ["CD", "UC", "AID", "all"])
def test_every_linked_count_equals_the_sum_of_its_patients(diagnosis):
    full = report(diagnosis)
    keys = [key for table in report_tables(full) for key in table.links.values()]
    assert len(keys) >= (12 if diagnosis in ("CD", "all") else 3)
    for key in keys:
        figure = members(key, diagnosis=diagnosis)
        assert figure is not None, key
        assert figure.total == at(full, key), key


def test_per_diagnosis_members_are_that_diagnosis_only():
    assert members("adverse_events.patients", diagnosis="UC").counts == {"UC-D": 1}
    assert members("adverse_events.patients", diagnosis="CD").counts == {"CD-A": 1, "CD-C": 1}
    assert members("titration.dose_changes", diagnosis="AID").counts == {}


@pytest.mark.parametrize("key", [
    "induction.response.5.n",  # no week 5
    "induction.response.4",  # the entry, not its count
    "induction.cdai_mean_sd.4",  # a mean, not a count
    "relapse_free.km.12",
    "adverse_events.by_term.not_a_term",  # neither in the vocabulary nor in the data
    "adverse_events.by_term.",
    "titration.deviations.not_a_code",
    "prescriptions.deviations.not_a_code",
    "prescriptions.no_deviation_pct",  # a percentage, not a count
    "exposure.patient_months",
    "n_patients",
    "",
    "induction..4.n",
    "x" * 500,
])
def test_a_key_that_names_no_count_is_none(key):
    assert members(key) is None


def test_a_term_outside_the_vocabulary_that_occurs_is_a_figure():
    patients = [patient("CD-X", adverse_events=(ae(3, "hiccups"),))]
    figure = figure_members(patients, key="adverse_events.by_term.hiccups", as_of=AS_OF, diagnosis="CD",
                            remission_below=150, response_drop=70)
    assert figure.counts == {"CD-X": 1}


def test_key_shape_is_checked_before_any_data():
    assert is_figure_key("adverse_events.by_term.anything")
    assert is_figure_key("titration.deviations.step_too_soon")
    assert not is_figure_key("induction.response.5.n")
    assert not is_figure_key("adverse_events.by_term." + "x" * 200)


def test_all_diagnoses_report_against_the_per_diagnosis_reports():
    everyone, by_diagnosis = report("all"), {d: report(d) for d in ("CD", "UC", "AID")}
    assert everyone["n_patients"] == sum(r["n_patients"] for r in by_diagnosis.values()) == 6
    # CDAI-based and endoscopic blocks: exactly the Crohn's report's.
    for block in ("induction", "relapse_free", "endoscopy"):
        assert everyone[block] == by_diagnosis["CD"][block]
    assert everyone["activity_cohort"] == {"diagnosis": "CD", "n_patients": 4,
                                           "blocks": ["induction", "relapse_free", "endoscopy"]}
    assert "activity_cohort" not in by_diagnosis["CD"]
    # Counts of adverse events and titration: the sum over the diagnoses.
    ae_counts = ("patients", "events", "nervous_system_patients", "thalidomide_withdrawn",
                 "azathioprine_withdrawn", "both_withdrawn", "hospitalised")
    for key in ae_counts:
        assert everyone["adverse_events"][key] == sum(r["adverse_events"][key] for r in by_diagnosis.values()), key
    for term, count in everyone["adverse_events"]["by_term"].items():
        assert count == sum(r["adverse_events"]["by_term"].get(term, 0) for r in by_diagnosis.values()), term
    assert everyone["titration"]["dose_changes"] == 6
    assert everyone["titration"]["deviations"]["step_too_soon"] == 2
    assert everyone["adverse_events"]["pct"] == 66.7  # 4 of 6 patients


def test_tables_say_whom_the_cdai_tables_cover():
    titles = {t.key: t for t in report_tables(report("all"))}
    assert titles["induction"].title.endswith("Crohn's disease patients only")
    assert "4 of 6" in titles["induction"].note
    assert titles["adverse_events"].title == "Table 4 — Adverse events"
    uc = {t.key: t for t in report_tables(report("UC"))}
    assert "CDAI is recorded for Crohn's disease only" in uc["induction"].note
    cd = {t.key: t for t in report_tables(report("CD"))}
    assert "Crohn's" not in cd["induction"].title and "CDAI is recorded" not in cd["induction"].note


def test_the_prescriptions_table_and_its_links():
    # All diagnoses: CD-A's 3 + UC-D's 1 = 4 issued; without a code: CD-A d0 → 1/4 = 25.0 %;
    # dispensed: CD-A's 3, in time d0 and d21 (no dispense-by) → 2/3 = 66.7 %.
    table = {t.key: t for t in report_tables(report("all"))}["prescriptions"]
    rows = {row[0]: row[1] for row in table.rows}
    assert rows["Prescriptions issued"] == "4"
    assert rows["Without any code, n (%)"] == "1 (25.0 %)"
    assert rows["Dispensed in time, n (% of those dispensed)"] == "2 (66.7 %)"
    assert rows["Overrides"] == "1"
    linked = set(table.links.values())
    assert {"prescriptions.issued", "prescriptions.deviations.early_repeat", "prescriptions.no_deviation",
            "prescriptions.dispensed_in_time"} <= linked
    assert "prescriptions.deviations.supply_too_long" not in linked  # a 0 opens nothing
    assert len(table.rows) == 1 + 10 + 4  # issued, every R9.3 code, four more counts
