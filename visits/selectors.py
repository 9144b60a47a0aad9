"""Reads for the visit pages and the patient page's clinical sections.

Each selector loads what it needs in a fixed number of queries (visits, labs,
endoscopies: one query each), whatever the number of rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from reports import charts
from thalimon.rules_config import rule_settings
from visits import labs, outcomes, scoring, services
from visits.models import CDAI_COMPLICATIONS, Endoscopy, LabResult, Visit

TIMELINE_LABS = ["crp", "esr", "wbc", "hemoglobin", "platelets", "alt", "calprotectin"]
CDAI_INPUTS = [
    "date", "contact", "weight_kg", "cdai_stools", "cdai_pain", "cdai_wellbeing",
    "cdai_complication_flags", "cdai_antidiarrheal", "cdai_mass", "hematocrit", "cdai_entered",
]


@dataclass
class CdaiPreview:
    result: scoring.ScoreResult | None = None
    errors: list = field(default_factory=list)  # [(label, message)]


def cdai_preview(patient, form):
    """The CDAI of the form as typed, by the same computation as the saved visit."""
    if "cdai_stools" not in form.fields:
        return None
    if not form.is_bound:
        return CdaiPreview(services.compute_cdai(patient, form.instance)) if form.instance.pk else None
    errors = [
        (form.fields[name].label, message)
        for name in CDAI_INPUTS
        if name in form.errors
        for message in form.errors[name]
    ]
    if errors:
        return CdaiPreview(errors=errors)
    visit = form.instance  # construct_instance has applied the valid input
    if "cdai_complications" in getattr(form, "cleaned_data", {}):
        # The count follows the ticked categories, 0 included (VisitForm.clean), as on save.
        visit.cdai_complications = form.cleaned_data["cdai_complications"]
    try:
        return CdaiPreview(services.compute_cdai(patient, visit))
    except ValueError as error:
        return CdaiPreview(errors=[("CDAI", str(error))])


@dataclass
class LabCell:
    test: str
    label: str
    unit: str
    value: object
    flag: str
    reference: str


def _lab_cell(lab, patient, age):
    return LabCell(
        test=lab.test,
        label=lab.label,
        unit=lab.unit,
        value=lab.value,
        flag=lab.flag(sex=patient.sex, age_years=age),
        reference=labs.format_range(
            lab.test, sex=patient.sex, age_years=age, lab_low=lab.lab_low, lab_high=lab.lab_high
        ),
    )


def visit_page(visit):
    patient = visit.patient
    age = patient.age_on(visit.date)
    day_labs = [
        _lab_cell(lab, patient, age)
        for lab in sorted(
            LabResult.objects.filter(patient=patient, date=visit.date),
            key=lambda lab: labs.LAB_ORDER.index(lab.test),
        )
    ]
    course = getattr(patient, "course", None)
    complications = dict(CDAI_COMPLICATIONS)
    return {
        "visit": visit,
        "patient": patient,
        "course": course,
        "day": course.day(visit.date) if course else None,
        "labs": day_labs,
        "complication_labels": [complications[c] for c in visit.cdai_complication_flags or []],
    }


def _endoscopy_observations(endoscopies):
    return [
        outcomes.EndoObs(
            key=e.pk, date=e.date, cdeis=e.cdeis, ses_cd=e.ses_cd, rutgeerts=e.rutgeerts, ulceration=e.ulceration
        )
        for e in endoscopies
    ]


def patient_clinical(patient, *, as_of=None):
    """The clinical sections of the patient page: course, baseline, visit timeline,
    labs, endoscopies with their R2.4 outcomes, and the chart figures."""
    as_of = as_of or timezone.localdate()
    rules = rule_settings()
    course = getattr(patient, "course", None)
    visits = list(Visit.objects.filter(patient=patient).order_by("date", "contact", "pk"))
    all_labs = list(LabResult.objects.filter(patient=patient).order_by("date", "test"))
    endoscopies = list(Endoscopy.objects.filter(patient=patient).order_by("date"))

    labs_by_date = defaultdict(dict)
    for lab in all_labs:
        labs_by_date[lab.date][lab.test] = lab

    timeline = []
    for visit in reversed(visits):
        age = patient.age_on(visit.date)
        same_day = labs_by_date.get(visit.date, {})
        timeline.append(
            {
                "visit": visit,
                "day": course.day(visit.date) if course else None,
                "labs": [
                    _lab_cell(same_day[test], patient, age) if test in same_day else None
                    for test in TIMELINE_LABS
                ],
            }
        )

    lab_dates = sorted(labs_by_date, reverse=True)
    lab_table = [
        {
            "date": day,
            "cells": [
                _lab_cell(labs_by_date[day][test], patient, patient.age_on(day)) if test in labs_by_date[day] else None
                for test in labs.LAB_ORDER
            ],
        }
        for day in lab_dates
    ]
    lab_columns = [t for t in labs.LAB_ORDER if any(t in labs_by_date[d] for d in lab_dates)]
    column_index = [labs.LAB_ORDER.index(t) for t in lab_columns]
    for row in lab_table:
        row["cells"] = [row["cells"][i] for i in column_index]

    baseline = services.course_baseline(patient, visits)
    endoscopic = {}
    if course is not None:
        for result in outcomes.endoscopic_outcomes(
            endoscopies=_endoscopy_observations(endoscopies),
            start_date=course.start_date,
            as_of=as_of,
            cdeis_remission_below=rules.cdeis_remission_below,
        ):
            endoscopic[result.key] = result
    endoscopy_rows = [{"endoscopy": e, "outcome": endoscopic.get(e.pk)} for e in reversed(endoscopies)]

    scored = [v for v in visits if v.cdai is not None]
    figures = {}
    if scored:
        figures["cdai"] = charts.cdai_figure(
            dates=[v.date for v in scored],
            values=[v.cdai for v in scored],
            statuses=[v.clinical_status for v in scored],
            baseline=baseline.cdai if baseline else None,
            remission_below=rules.remission_cdai_below,
            response_drop=rules.response_cdai_drop,
        )
    crp = [(lab.date, lab.value) for lab in all_labs if lab.test == "crp"]
    esr = [(lab.date, lab.value) for lab in all_labs if lab.test == "esr"]
    if crp or esr:
        figures["inflammation"] = charts.inflammation_figure(crp=crp, esr=esr)
    if any(e.cdeis is not None or e.ses_cd is not None or e.rutgeerts is not None for e in endoscopies):
        figures["endoscopy"] = charts.endoscopy_figure(
            cdeis=[(e.date, e.cdeis) for e in endoscopies if e.cdeis is not None],
            ses_cd=[(e.date, e.ses_cd) for e in endoscopies if e.ses_cd is not None],
            rutgeerts=[(e.date, e.rutgeerts) for e in endoscopies if e.rutgeerts is not None],
            cdeis_remission_below=rules.cdeis_remission_below,
        )
    return {
        "course": course,
        "baseline": baseline,
        "timeline": timeline,
        "timeline_labs": [labs.LAB_TESTS[t] for t in TIMELINE_LABS],
        "lab_table": lab_table,
        "lab_columns": [labs.LAB_TESTS[t] for t in lab_columns],
        "endoscopies": endoscopy_rows,
        "figures": figures,
        "latest_visit": visits[-1] if visits else None,
    }


def patient_dosing(patient, *, as_of=None):
    """The dosing sections: current doses, the suggested next step, pregnancy
    coverage, cumulative dose, AZA mg/kg and metabolites, overrides, urgent
    alerts and the dose chart — in a fixed number of queries."""
    from visits import dosing, titration, urgent
    from visits.models import DoseChange, Drug

    as_of = as_of or timezone.localdate()
    rows = list(DoseChange.objects.filter(patient=patient, date__lte=as_of).select_related("decided_by").order_by("date"))
    thal_rows = [r for r in rows if r.drug == Drug.THALIDOMIDE]
    aza_rows = [r for r in rows if r.drug == Drug.AZATHIOPRINE]
    thal_history = [titration.DoseRow(date=r.date, dose_mg=r.dose_mg) for r in thal_rows]
    aza_history = [titration.DoseRow(date=r.date, dose_mg=r.dose_mg) for r in aza_rows]
    visits = [v for v in Visit.objects.filter(patient=patient, date__lte=as_of).order_by("date")]
    tests = list(patient.pregnancy_tests.filter(date__lte=as_of).order_by("date"))
    thal_patient = dosing.thalidomide_patient(patient, visits=visits, tests=tests)

    context = {
        "thalidomide_rows": list(reversed(thal_rows)),
        "azathioprine_rows": list(reversed(aza_rows)),
        "pregnancy_tests": list(reversed(tests)),
        "neuropathy_grade": titration.latest_neuropathy_grade(thal_patient, as_of),
        "thal_active": bool(thal_history) and titration.thalidomide_active(thal_history, as_of),
        "thal_current": titration.current_dose(thal_history, as_of) if thal_history else None,
        "thal_last_change": titration.last_change(thal_history, as_of) if thal_history else None,
        "suggestion": titration.suggest_next_step(patient=thal_patient, history=thal_history, on=as_of)
        if thal_history
        else None,
        "cumulative_g": titration.cumulative_dose_g(thal_history, as_of) if thal_history else None,
        "cumulative_20g_date": titration.date_cumulative_reached(thal_history, as_of=as_of) if thal_history else None,
        "overrides": [r for r in reversed(rows) if r.override_reason],
        "checklist_override": (
            patient.course if getattr(patient, "course", None) and patient.course.checklist_override_reason else None
        ),
        "today": as_of,
        "thal_regimen": thal_patient.regimen,
    }
    last_change = context["thal_last_change"]
    context["thal_days_held"] = (as_of - last_change.date).days if last_change else None

    pregnancy = None
    course_start = titration.course_start(thal_history, as_of) if thal_history else None
    stopped_on = titration.stop_date(thal_history, as_of) if thal_history else None
    if patient.is_female_of_reproductive_potential and course_start and context["thal_active"]:
        pregnancy = titration.pregnancy_coverage(
            tests=thal_patient.pregnancy_tests,
            start=course_start,
            on=as_of,
            irregular_cycles=patient.irregular_cycles,
            first_dose_or_restart=False,
        )
    context["pregnancy"] = pregnancy
    context["stopped_on"] = stopped_on
    if patient.is_female_of_reproductive_potential and stopped_on and not context["thal_active"]:
        # R5.2: after the stop, the one test 28 days later.
        context["after_stop_test_due"] = titration.next_pregnancy_test_due(
            tests=thal_patient.pregnancy_tests, start=course_start, stop=stopped_on, as_of=as_of,
            irregular_cycles=patient.irregular_cycles,
        )

    aza_active = bool(aza_history) and titration.current_dose(aza_history, as_of) > 0
    context["aza_active"] = aza_active
    context["aza_current"] = titration.current_dose(aza_history, as_of) if aza_history else None
    context["aza_check"] = (
        titration.check_aza_dose(
            dose_mg=context["aza_current"],
            on=as_of,
            weights=thal_patient.weights,
            tpmt=patient.tpmt,
            nudt15=patient.nudt15,
            xanthine_oxidase_inhibitor=patient.xanthine_oxidase_inhibitor,
        )
        if aza_active
        else None
    )
    metabolites = {}
    for lab in LabResult.objects.filter(patient=patient, test__in=["tgn", "mmp"], date__lte=as_of).order_by("date"):
        metabolites.setdefault(lab.date, {})[lab.test] = lab.value
    paired = [(d, m) for d, m in metabolites.items() if "tgn" in m and "mmp" in m]
    interpretations = []
    for day, values in reversed(paired):
        change = titration.last_change(aza_history, day) if aza_history else None
        interpretations.append(
            {
                "date": day,
                "tgn": values["tgn"],
                "mmp": values["mmp"],
                "result": titration.interpret_metabolites(
                    tgn=values["tgn"], mmp=values["mmp"], sample_date=day,
                    last_aza_change=change.date if change else None,
                ),
            }
        )
    context["metabolites"] = interpretations

    context["urgent_alerts"] = urgent.urgent_alerts(
        as_of=as_of,
        tests=[(t.date, t.result) for t in tests],
        thalidomide_active=context["thal_active"],
        thalidomide_ever=bool(thal_history),
        stopped_on=stopped_on,
        neuropathy_grade=context["neuropathy_grade"],
        contraception=[
            urgent.Answer(v.date, v.contraception_confirmed, v.get_contact_display().lower())
            for v in visits if v.contraception_confirmed is not None
        ],
        breastfeeding=[urgent.Answer(v.date, v.breastfeeding) for v in visits if v.breastfeeding is not None],
        contraception_period_days=rule_settings().contraception_period_days,  # R5.3, configurable
    )

    if thal_rows or aza_rows:
        scored = [v for v in visits if v.cdai is not None]
        context["dose_figure"] = charts.dose_figure(
            thalidomide=[(r.date, r.dose_mg, r.deviations, bool(r.override_reason)) for r in thal_rows],
            azathioprine=[(r.date, r.dose_mg, r.warnings, bool(r.override_reason)) for r in aza_rows],
            cdai=[(v.date, v.cdai) for v in scored],
            until=as_of,
        )
    return context
