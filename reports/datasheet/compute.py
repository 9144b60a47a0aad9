"""The computed values of the imported rows, derived once per patient with the same
functions the actions use: visit scores and the status series (``visits.records``),
the dose decisions of every dose row (``therapy.records``: the titration input, the
R3.5 checks, the R4 azathioprine check and genotype gate), the R9 check of every
prescription (``therapy.rules.prescriptions.check_prescription`` fed the patient's
staged rows, as ``therapy.records.check_prescription_for`` feeds it the stored ones)
and the endoscopy scores (``visits.actions.endoscopy_scores``). A computed column of
the datasheet that differs from the recomputed value gives a warning; the recomputed
value is stored. Historical prescriptions are never refused: their codes are stored.
"""

from __future__ import annotations

from collections import defaultdict

from thalimon.rules_config import rules_version
from thalimon.said import say
from therapy import records as therapy_records
from therapy.models import DoseChange, Drug, Prescription
from therapy.rules import prescriptions as prescription_rules
from visits import records as visit_records
from visits.actions import endoscopy_scores
from visits.models import Endoscopy, Visit

from .cells import format_cell

# The model fields set here, written with every new or changed row.
COMPUTED_FIELDS = {
    Visit: {"cdai", "cdai_source", "cdai_reason", "hbi", "mayo", "clinical_status", "status_rule",
            "status_reason", "rules_version"},
    DoseChange: {"kind", "deviations", "warnings", "check_reasons", "rules_version"},
    Endoscopy: {"cdeis", "cdeis_source", "cdeis_reason", "ulceration", "rules_version"},
    Prescription: {"programme", "risk_category", "dispense_by", "quantity_units", "deviations", "check_reasons",
                   "rules_version"},
}


def prescription_codes(codes):
    """R9.3 codes in the order of the R9.3 table (the export's ``deviations`` cell)."""
    order = prescription_rules.PRESCRIPTION_CODES
    return sorted(codes, key=lambda code: (order.index(code) if code in order else len(order), code))


class ComputedValues:
    def __init__(self, plan):
        self.plan = plan
        self.findings = plan.findings
        self.today = plan.today
        self.version = rules_version()
        self.programme = None  # the R9.1 profile, read when a prescription is checked

    def compute(self):
        for bundle in self.plan.bundles.values():
            self.doses(bundle)
            self.prescriptions(bundle)
            self.visits(bundle)
            for obj in bundle.rows["endoscopies.csv"].values():
                state = self.plan.state["endoscopies.csv"].get(id(obj))
                if state and state.status != "unchanged":
                    endoscopy_scores(obj)

    # --- doses --------------------------------------------------------------------------
    def thalidomide_patient(self, bundle):
        """The R3/R5 input of the patient from the bundle's visits and pregnancy tests."""
        visits = sorted(bundle.rows["visits.csv"].values(), key=lambda v: v.date)
        tests = sorted(bundle.rows["pregnancy_tests.csv"].values(), key=lambda t: t.date)
        return therapy_records.thalidomide_input(
            bundle.patient, course=bundle.course, visits=visits, tests=tests, today=self.today
        )

    def thalidomide_checks(self, bundle, thal):
        """{id(dose row): DoseDecision} of the thalidomide rows, by date."""
        if not thal:
            return {}
        thal_patient = self.thalidomide_patient(bundle)
        decisions = therapy_records.decide_thalidomide_history(thal_patient, therapy_records.dose_history(thal))
        return {id(obj): decision for obj, decision in zip(thal, decisions, strict=True)}

    @staticmethod
    def aza_checks(patient, aza, visits):
        """{id(dose row): DoseDecision} of the azathioprine rows, by date."""
        weights = therapy_records.weights_of(visits)
        return {
            id(obj): therapy_records.decide_azathioprine(
                patient, weights=weights, previous_dose=aza[index - 1].dose_mg if index else None,
                dose_mg=obj.dose_mg, on=obj.date,
            )
            for index, obj in enumerate(aza)
        }

    def doses(self, bundle):
        doses = bundle.rows["doses.csv"]
        if not doses:
            return
        states = self.plan.state["doses.csv"]
        visits = sorted(bundle.rows["visits.csv"].values(), key=lambda v: v.date)
        by_drug = defaultdict(list)
        for (drug, _), obj in doses.items():
            by_drug[drug].append(obj)
        thal = sorted(by_drug[Drug.THALIDOMIDE], key=lambda d: d.date)
        aza = sorted(by_drug[Drug.AZATHIOPRINE], key=lambda d: d.date)
        results = self.thalidomide_checks(bundle, thal)
        results.update(self.aza_checks(bundle.patient, aza, visits))
        for obj in doses.values():
            state = states.get(id(obj))
            if state is None or id(obj) not in results:
                continue
            self.store_dose_check(obj, state, results[id(obj)])

    def store_dose_check(self, obj, state, decision):
        kind, deviations, warnings = decision.kind, decision.deviations, decision.warnings
        codes = [f.code for f in deviations]
        given = state.row.computed.get("deviations")
        # An empty computed cell means unknown (not "none"): nothing to compare.
        if given and sorted(filter(None, (c.strip() for c in given.split(";")))) != sorted(codes):
            self.findings.warn("doses.csv", state.line, "deviations",
                               say("'%(given)s' differs from the deviations computed from the record; "
                                   "the computed ones are stored", given=given))
        if state.status == "unchanged":
            return
        obj.kind = kind
        obj.deviations = codes
        obj.warnings = [f.code for f in warnings]
        obj.check_reasons = [f.reason for f in deviations + warnings]
        obj.rules_version = self.version

    # --- prescriptions (R9) ------------------------------------------------------------
    def prescriptions(self, bundle):
        """Each prescription checked against the patient's other prescriptions, thalidomide
        dose rows and facts, as the prescription page checks it (R9.3)."""
        prescriptions = bundle.rows["prescriptions.csv"]
        if not prescriptions:
            return
        states = self.plan.state["prescriptions.csv"]
        if not any(states.get(id(obj)) for obj in prescriptions.values()):
            return  # only stored rows, none named in this datasheet
        if self.programme is None:
            self.programme = therapy_records.prescription_programme()
        thal_patient = self.thalidomide_patient(bundle)
        doses = therapy_records.dose_history(
            obj for (drug, _), obj in bundle.rows["doses.csv"].items() if drug == Drug.THALIDOMIDE
        )
        rows = {id(obj): therapy_records.prescription_row(obj) for obj in prescriptions.values()}
        for obj in prescriptions.values():
            state = states.get(id(obj))
            if state is None:
                continue
            check = prescription_rules.check_prescription(
                thal_patient, birth_date=bundle.patient.birth_date, doses=doses,
                prescriptions=[row for key, row in rows.items() if key != id(obj)], row=rows[id(obj)],
                programme=self.programme,
            )
            self.store_prescription_check(obj, state, check)

    def store_prescription_check(self, obj, state, check):
        codes = list(check.codes)
        given = state.row.computed
        # An empty computed cell means unknown (not "none"): nothing to compare.
        category = given.get("risk_category")
        if category and category != check.risk_category:
            self.findings.warn("prescriptions.csv", state.line, "risk_category",
                               say("'%(given)s' differs from the risk category computed from the record "
                                   "(R9.2); the computed one is stored", given=category))
        deviations = given.get("deviations")
        if deviations and sorted(filter(None, (c.strip() for c in deviations.split(";")))) != sorted(codes):
            self.findings.warn("prescriptions.csv", state.line, "deviations",
                               say("'%(given)s' differs from the deviations computed from the record "
                                   "(R9.3); the computed ones are stored", given=deviations))
        if state.status == "unchanged":
            return
        therapy_records.store_prescription_check(obj, check, programme=self.programme, version=self.version)

    # --- visits -------------------------------------------------------------------------
    def visits(self, bundle):
        visits = bundle.rows["visits.csv"]
        if not visits:
            return
        patient = bundle.patient
        hematocrits = [
            (lab.date, lab.value) for (day, test), lab in bundle.rows["labs.csv"].items()
            if test == "hematocrit"
        ]
        ordered = visit_records.ordered(visits.values())
        states = self.plan.state["visits.csv"]
        scores = {}
        for visit in ordered:
            scores[id(visit)] = visit_records.visit_scores(patient, visit, lab_hematocrits=hematocrits)
            state = states.get(id(visit))
            if state and state.status != "unchanged":
                for warning in scores[id(visit)].warnings:
                    self.findings.warn("visits.csv", state.line, "", warning)
        course = bundle.course
        statuses = visit_records.status_series(
            recorded_baseline=patient.baseline_cdai, start_date=course.start_date if course else None,
            visits=ordered, as_of=self.today, cdai_of=lambda v: scores[id(v)].cdai,
        )
        for visit, clinical in zip(ordered, statuses, strict=True):
            self.store_visit(visit, states.get(id(visit)), scores[id(visit)], clinical)

    def store_visit(self, visit, state, score, clinical):
        """Set the visit's recomputed values; compare them with the computed columns."""
        status, rule, status_reason = clinical
        new = (score.cdai, score.cdai_source, score.cdai_reason, score.hbi, score.mayo, status, rule,
               status_reason, self.version)
        old = (visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo,
               visit.clinical_status, visit.status_rule, visit.status_reason, visit.rules_version)
        if state is not None:
            given = state.row.computed
            if given.get("cdai_computed") and given["cdai_computed"] != format_cell(score.cdai):
                self.findings.warn("visits.csv", state.line, "cdai_computed",
                                   say("'%(given)s' differs from the CDAI computed from "
                                       "the record; the computed CDAI is stored", given=given["cdai_computed"]))
            if given.get("clinical_status") and given["clinical_status"] != status:
                self.findings.warn("visits.csv", state.line, "clinical_status",
                                   say("'%(given)s' differs from the status computed "
                                       "from the record; the computed status is stored",
                                       given=given["clinical_status"]))
        if new == old:
            return
        (visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo,
         visit.clinical_status, visit.status_rule, visit.status_reason,
         visit.rules_version) = new
        if state is None or state.status == "unchanged":
            self.plan.computed_updates.append(visit)

