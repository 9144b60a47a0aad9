"""The datasheet format (interfaces.md §1): its files, their columns and vocabularies.

A ``Column`` says how a cell is converted (``kind``), which model attribute it
sets (``field``/``attr``) and where the value goes (``target``: the file's model,
the patient's thalidomide course, a column handled apart, or a computed column
that is compared with the recomputed value). A ``FileSpec`` names the model of a
file and its natural key after the patient.
"""

from __future__ import annotations

from dataclasses import dataclass

from patients.models import (
    AidType,
    Diagnosis,
    FollowUpStatus,
    Genotype,
    MontrealBehavior,
    MontrealLocation,
    NonReproductiveReason,
    Patient,
    Sex,
)
from safety.models import AE_TERMS, AdverseEvent, AttributedDrug, DrugAction
from therapy.models import DoseChange, Drug, PregnancyResult, PregnancyTest, Prescription, Regimen
from visits import labs
from visits.models import (
    BackgroundTherapy,
    Contact,
    Endoscopy,
    GlobalAssessment,
    LabResult,
    RelapseEvent,
    Visit,
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text | code | date | decimal | int | flag | choice | computed
    field: str | None = None  # model attribute (None: same as name; "" = handled apart)
    required: bool = False  # the cell must not be empty (and the column must be there)
    choices: tuple = ()
    default: object = None  # value of an empty cell
    target: str = "model"  # model | course | special | computed

    @property
    def attr(self):
        return self.name if self.field is None else self.field


def _c(name, kind, **kw):
    return Column(name, kind, **kw)


def _flag(name, *, nullable):
    # A non-nullable flag's empty cell (unknown) is stored as the model default, 0.
    return Column(name, "flag", default=None if nullable else False)


def _choice(name, choices, *, default="", required=False, field=None, target="model"):
    return Column(
        name, "choice", choices=tuple(choices), default=default, required=required,
        field=field, target=target,
    )


PATIENT_COLUMNS = (
    _c("patient", "code", field="code", required=True),
    # The site (clinic) code (issue 18): resolved against the stored sites and the
    # importing user's memberships in ``sites.SiteResolver``.
    _c("site", "text", field="", target="special"),
    _choice("sex", Sex.values, required=True),
    _c("birth_date", "date", required=True),
    _c("height_cm", "decimal"),
    _c("standard_weight_kg", "decimal"),
    _choice("diagnosis", Diagnosis.values, required=True),
    _choice("aid_type", AidType.values),
    _choice("montreal_location", MontrealLocation.values),
    _flag("upper_gi", nullable=False),
    _choice("montreal_behavior", MontrealBehavior.values),
    _flag("perianal", nullable=False),
    _flag("reproductive_potential", nullable=True),
    # R5.1: the recorded exemption that a female's reproductive_potential = 0 needs.
    _choice("non_reproductive_reason", NonReproductiveReason.values),
    _flag("irregular_cycles", nullable=True),
    _flag("smoker", nullable=False),
    _flag("ileocolic_resection", nullable=False),
    _flag("prior_biologic", nullable=False),
    _choice("tpmt", Genotype.values, default=Genotype.UNKNOWN),
    _choice("nudt15", Genotype.values, default=Genotype.UNKNOWN),
    _c("thalidomide_start", "date", field="start_date", target="course"),
    _c("thalidomide_stop", "date", field="stop_date", target="course"),
    _c("target_dose_mg", "decimal", target="course"),
    _choice("regimen", Regimen.values, target="course"),
    _c("regimen_reason", "text", default="", target="course"),
    _flag("premenarchal", nullable=False),
    _c("contraception_start", "date"),
    _flag("xanthine_oxidase_inhibitor", nullable=False),
    _choice("status", FollowUpStatus.values, default=FollowUpStatus.ACTIVE),
    _c("status_date", "date"),
    _c("baseline_cdai", "decimal"),
    _c("crp_at_lor", "decimal"),
    _c("esr_at_lor", "decimal"),
    _c("tgn_on_aza_mono", "decimal"),
)

VISIT_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _choice("contact", Contact.values, default=Contact.CLINIC),
    _c("weight_kg", "decimal"),
    _c("cdai_stools", "int"),
    _c("cdai_pain", "int"),
    _c("cdai_wellbeing", "int"),
    _c("cdai_complications", "int"),
    _flag("cdai_antidiarrheal", nullable=True),
    _c("cdai_mass", "int"),
    _c("hematocrit", "decimal"),
    _c("cdai", "decimal", field="cdai_entered"),
    _c("hbi", "int", field="hbi_entered", target="special"),
    _c("mayo", "int", field="mayo_entered", target="special"),
    _c("aidai", "int"),
    _c("neuropathy_grade", "int"),
    _flag("contraception_confirmed", nullable=True),
    _choice("relapse_event", RelapseEvent.values),
    _c("heart_rate", "int"),
    _c("mayo_endoscopic", "int"),
    _choice("global_assessment", GlobalAssessment.values),
    _choice("background_therapy", BackgroundTherapy.values),
    _flag("breastfeeding", nullable=True),
    _flag("neurological_review", nullable=False),
    _c("notes", "text", default=""),
    _c("cdai_computed", "computed", field="", target="computed"),
    _c("clinical_status", "computed", field="", target="computed"),
)

LAB_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _choice("test", labs.LAB_TESTS, required=True),
    _c("value", "decimal", required=True),
    _c("unit", "text", field="", target="special"),
)

DOSE_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _choice("drug", Drug.values, required=True),
    _c("date", "date", required=True),
    _c("dose_mg", "decimal", required=True),
    _c("reason", "text", default=""),
    _c("override_reason", "text", default=""),
    _c("deviations", "computed", field="", target="computed"),
)

ENDOSCOPY_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _c("cdeis", "decimal", field="cdeis_entered", target="special"),
    _c("ses_cd", "int"),
    _c("rutgeerts", "int"),
    Column("ulceration", "flag", default=None, target="special"),
)

AE_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("onset", "date", required=True),
    _choice("term", [code for code, _ in AE_TERMS], required=True),
    _c("term_text", "text", default=""),
    _c("grade", "int", required=True),
    _flag("serious", nullable=False),
    _choice("drug", AttributedDrug.values, required=True),
    _choice("action_thalidomide", DrugAction.values, default=DrugAction.NONE),
    _choice("action_azathioprine", DrugAction.values, default=DrugAction.NONE),
    _flag("hospitalised", nullable=False),
    _c("resolved", "date"),
)

PREGNANCY_COLUMNS = (
    _c("patient", "code", field="", required=True),
    _c("date", "date", required=True),
    _choice("result", PregnancyResult.values, required=True),
)

PRESCRIPTION_COLUMNS = (  # R9.3
    _c("patient", "code", field="", required=True),
    _c("issue_date", "date", required=True),
    _c("dose_mg", "decimal", required=True),
    _c("days_supply", "int", required=True),
    _flag("contraception_confirmed", nullable=False),
    _c("dispensed_date", "date"),
    _c("authorisation", "text", default=""),
    _c("override_reason", "text", default=""),
    _c("risk_category", "computed", field="", target="computed"),  # R9.2
    _c("deviations", "computed", field="", target="computed"),  # R9.3 codes, in the table's order
)


@dataclass(frozen=True)
class FileSpec:
    name: str
    model: type
    columns: tuple
    key: tuple  # model fields of the natural key after the patient
    extra_fields: tuple = ()  # (model field, column) for validation messages

    @property
    def by_name(self):
        return {c.name: c for c in self.columns}


FILES = {
    spec.name: spec
    for spec in (
        FileSpec(
            "patients.csv", Patient, PATIENT_COLUMNS, (),
            (("stop_reason", "thalidomide_stop"),
             ("consent_signed_date", "thalidomide_start"),
             ("contraception_counselling_date", "thalidomide_start")),
        ),
        FileSpec(
            "visits.csv", Visit, VISIT_COLUMNS, ("date", "contact"),
            (("cdai_complication_flags", "cdai_complications"),),
        ),
        FileSpec("labs.csv", LabResult, LAB_COLUMNS, ("date", "test")),
        FileSpec("doses.csv", DoseChange, DOSE_COLUMNS, ("drug", "date")),
        FileSpec(
            "endoscopies.csv", Endoscopy, ENDOSCOPY_COLUMNS, ("date",),
            (("cdeis_segments", "cdeis"),),
        ),
        FileSpec("adverse_events.csv", AdverseEvent, AE_COLUMNS, ("onset", "term")),
        FileSpec("pregnancy_tests.csv", PregnancyTest, PREGNANCY_COLUMNS, ("date",)),
        FileSpec("prescriptions.csv", Prescription, PRESCRIPTION_COLUMNS, ("issue_date",)),
    )
}
FILE_ORDER = tuple(FILES)
CHILD_FILES = FILE_ORDER[1:]
# The record's "who" field set to the importing user. A prescription has none: the
# import does not know its prescriber (the history row names the importing user).
ACTOR_FIELD = {
    Visit: "created_by", LabResult: "created_by", DoseChange: "decided_by",
    Endoscopy: "created_by", AdverseEvent: "recorded_by", PregnancyTest: "recorded_by",
}
