"""Reads for the visit pages and the patient page's clinical sections.

Each selector loads what it needs in a fixed number of queries (visits, labs,
endoscopies: one query each), whatever the number of rows.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from thalimon import catalogue, saying
from thalimon.rules_config import rule_settings
from thalimon.said import join
from therapy.models import DoseChange, Drug
from visits import (
    charts,
    efficacy,
    endoscopy_outcomes,
    endoscopy_scores,
    labs,
    other_scores,
    outcomes,
    records,
    scoring,
)
from visits import words as visit_words
from visits.models import CDAI_COMPLICATIONS, Endoscopy, LabResult, Visit
from visits.outcomes import plain_number

TIMELINE_LABS = ["crp", "esr", "wbc", "hemoglobin", "platelets", "alt", "calprotectin"]
CDAI_INPUTS = [
    "date", "contact", "weight_kg", "cdai_stools", "cdai_pain", "cdai_wellbeing",
    "cdai_complication_flags", "cdai_antidiarrheal", "cdai_mass", "hematocrit", "cdai_entered",
]


@dataclass
class CdaiPreview:
    result: scoring.ScoreResult | None = None
    errors: list = field(default_factory=list)  # [(label, message)]


def _cdai(patient, visit):
    """The CDAI of one (possibly unsaved) visit, with the lab haematocrits of its window."""
    hematocrits = []
    if visit.date:
        window = (visit.date - timedelta(days=records.HEMATOCRIT_LOOKBACK_DAYS), visit.date)
        hematocrits = list(
            LabResult.objects.filter(patient=patient, test="hematocrit", date__range=window).values_list("date", "value")
        )
    return records.compute_cdai(patient, visit, lab_hematocrits=hematocrits)


def cdai_preview(patient, form):
    """The CDAI of the form as typed, by the same computation as the saved visit."""
    if "cdai_stools" not in form.fields:
        return None
    if not form.is_bound:
        return CdaiPreview(_cdai(patient, form.instance)) if form.instance.pk else None
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
        return CdaiPreview(_cdai(patient, visit))
    except ValueError as error:
        return CdaiPreview(errors=[("CDAI", saying.render(error.args[0]) if error.args else str(error))])


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
        label=saying.render(lab.label),
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
    # The day's results, and the faecal calprotectins R2.5 may take (±14 days): one query.
    window = timedelta(days=efficacy.CALPROTECTIN_WINDOW_DAYS)
    near = list(LabResult.objects.filter(patient=patient, date__range=(visit.date - window, visit.date + window))
                .filter(Q(date=visit.date) | Q(test="calprotectin")))
    day_labs = [
        _lab_cell(lab, patient, age)
        for lab in sorted((lab for lab in near if lab.date == visit.date), key=lambda lab: labs.LAB_ORDER.index(lab.test))
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
        "activity": visit_activity(visit, patient.diagnosis, [
            (lab.date, as_measured(lab.value)) for lab in near if lab.test == "calprotectin"]),
        **dose_decisions(patient, visit.date),
    }


def as_measured(value):
    """A stored measurement (kept to three decimals) as the laboratory wrote it, for a rule
    that says it in its reason: 420, not 420.000; None stays None."""
    return None if value is None else Decimal(plain_number(value))


@dataclass(frozen=True)
class ActivityLine:
    """One line of a visit's other disease-activity readings: what, its value, its verdict
    (a code of ``visits.words.BANDS`` or ``FAILURE_STATUSES``, or empty) with its label,
    and the rule's reason."""

    label: str
    value: object
    verdict: str
    verdict_label: str
    reason: str


def visit_activity(visit, diagnosis, calprotectins):
    """R1.6 (full Mayo with its remission verdict, partial Mayo), R1.7 (AIDAI active or not)
    and R2.5 (treatment failure: CD from the HBI and the faecal calprotectin nearest the
    visit within ±14 days, ``calprotectins`` as (date, value); UC from the Mayo score and its
    endoscopic subscore) of one visit, for the scores it recorded. No query. A stored value
    the rule cannot read (a record older than its checks) is left out, never an error."""
    lines = []

    def add(label, compute, value=lambda result: result.value, verdict=lambda result: result.band, stored=None):
        try:
            result = compute()
        except ValueError:  # a stored row the rule cannot read: its stored value, without a verdict
            if stored is not None:
                lines.append(ActivityLine(label, stored, "", "", ""))
            return
        code = verdict(result)
        words = visit_words.FAILURE_STATUSES if code in visit_words.FAILURE_STATUSES else visit_words.BANDS
        reason = result.reason
        if getattr(result, "warnings", ()):
            reason = join([reason, *result.warnings], " ")
        lines.append(ActivityLine(label, value(result), code, catalogue.label(words, code) if code else "", reason))

    mayo_items = {"stool_frequency": visit.mayo_stool_frequency, "rectal_bleeding": visit.mayo_rectal_bleeding,
                  "physician_global": visit.mayo_physician_global}
    if visit.mayo is not None:
        add("Mayo (R1.6)", lambda: other_scores.mayo(**mayo_items, endoscopy=visit.mayo_endoscopic,
                                                      entered_total=visit.mayo_entered),
            stored=visit.mayo)
    if all(value is not None for value in mayo_items.values()):
        add(gettext("Partial Mayo, without endoscopy (R1.6)"), lambda: other_scores.partial_mayo(**mayo_items))
    if visit.aidai is not None:
        add("AIDAI (R1.7)", lambda: other_scores.aidai(yes_count=visit.aidai), stored=visit.aidai)
    if diagnosis == "CD" and visit.hbi is not None:
        add(gettext("Treatment failure (R2.5)"), lambda: efficacy.treatment_failure_cd(
            hbi=visit.hbi, hbi_date=visit.date, calprotectins=calprotectins),
            value=lambda result: None, verdict=lambda result: result.status)
    if diagnosis == "UC" and (visit.mayo is not None or visit.mayo_endoscopic is not None):
        add(gettext("Treatment failure (R2.5)"), lambda: efficacy.treatment_failure_uc(
            mayo=visit.mayo, mayo_endoscopic=visit.mayo_endoscopic),
            value=lambda result: None, verdict=lambda result: result.status)
    return lines


def dose_decisions(patient, day):
    """The dose decisions recorded on ``day`` (``dose_decisions``: each row with the dose
    in force before it) and the dose of each drug in force that day (``doses_in_force``),
    in one query."""
    rows = list(
        DoseChange.objects.filter(patient=patient, date__lte=day).select_related("decided_by").order_by("date")
    )
    decisions, in_force = [], {}
    for drug in (Drug.THALIDOMIDE, Drug.AZATHIOPRINE):
        history = [r for r in rows if r.drug == drug]
        before = [r for r in history if r.date < day]
        decisions += [{"row": r, "before": before[-1].dose_mg if before else None} for r in history if r.date == day]
        if history:
            in_force[drug.value] = history[-1]
    return {"dose_decisions": decisions, "doses_in_force": in_force}


def _endoscopy_observations(endoscopies):
    return [
        endoscopy_outcomes.EndoObs(
            key=e.pk, date=e.date, cdeis=e.cdeis, ses_cd=e.ses_cd, rutgeerts=e.rutgeerts, ulceration=e.ulceration
        )
        for e in endoscopies
    ]


def _timeline(patient, course, visits, labs_by_date):
    """The visits, newest first, each with its day of course and its same-day timeline labs."""
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
    return timeline


def _lab_table(patient, labs_by_date):
    """The lab table, newest day first, in the columns of the tests ever done: (rows, tests)."""
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
    return lab_table, lab_columns


def _endoscopy_rows(endoscopies, course, *, as_of, rules):
    """The endoscopies, newest first, each with its R2.4 outcome (none without a course)."""
    endoscopic = {}
    if course is not None:
        for result in endoscopy_outcomes.endoscopic_outcomes(
            endoscopies=_endoscopy_observations(endoscopies),
            start_date=course.start_date,
            as_of=as_of,
            cdeis_remission_below=rules.cdeis_remission_below,
        ):
            endoscopic[result.key] = result
    return [{"endoscopy": e, "outcome": endoscopic.get(e.pk), "checks": ses_cd_checks(e.ses_cd)}
            for e in reversed(endoscopies)]


def ses_cd_checks(total):
    """R1.4's flag of a stored SES-CD total above 56 (the sentence asking to check the segment
    scores), as a list; empty otherwise."""
    if total is None:
        return []
    try:
        return list(endoscopy_scores.ses_cd(segments=[], entered_total=total).warnings)
    except ValueError:  # outside 0–60: the form refuses it; an older row is shown as it is
        return []


def _clinical_figures(*, visits, all_labs, endoscopies, baseline, rules):
    """The chart figures of the clinical sections, each only when it has data to show."""
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
            status_labels=catalogue.plain_labels(visit_words.STATUSES),
            say=gettext,
        )
    crp = [(lab.date, lab.value) for lab in all_labs if lab.test == "crp"]
    esr = [(lab.date, lab.value) for lab in all_labs if lab.test == "esr"]
    if crp or esr:
        figures["inflammation"] = charts.inflammation_figure(crp=crp, esr=esr, say=gettext)
    if any(e.cdeis is not None or e.ses_cd is not None or e.rutgeerts is not None for e in endoscopies):
        figures["endoscopy"] = charts.endoscopy_figure(
            cdeis=[(e.date, e.cdeis) for e in endoscopies if e.cdeis is not None],
            ses_cd=[(e.date, e.ses_cd) for e in endoscopies if e.ses_cd is not None],
            rutgeerts=[(e.date, e.rutgeerts) for e in endoscopies if e.rutgeerts is not None],
            cdeis_remission_below=rules.cdeis_remission_below,
            say=gettext,
        )
    return figures


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
    lab_table, lab_columns = _lab_table(patient, labs_by_date)
    baseline = records.course_baseline(
        recorded=patient.baseline_cdai, start_date=course.start_date if course else None, visits=visits
    )
    return {
        "course": course,
        "baseline": baseline,
        "timeline": _timeline(patient, course, visits, labs_by_date),
        "timeline_labs": [labs.LAB_TESTS[t] for t in TIMELINE_LABS],
        "lab_table": lab_table,
        "lab_columns": [labs.LAB_TESTS[t] for t in lab_columns],
        "endoscopies": _endoscopy_rows(endoscopies, course, as_of=as_of, rules=rules),
        "figures": _clinical_figures(
            visits=visits, all_labs=all_labs, endoscopies=endoscopies, baseline=baseline, rules=rules
        ),
        "latest_visit": visits[-1] if visits else None,
        "visits": visits,
        "lab_cells": {
            day: {test: _lab_cell(lab, patient, patient.age_on(day)) for test, lab in tests.items() if test in TIMELINE_LABS}
            for day, tests in labs_by_date.items()
            if any(test in TIMELINE_LABS for test in tests)
        },
        "paediatric_efficacy": paediatric_efficacy_rows(patient, course, visits, labs_by_date, as_of),
    }


def paediatric_efficacy_rows(patient, course, visits, labs_by_date, as_of):
    """R2.6 at months 3, 6, 9 and 12 (``visits.efficacy.paediatric_efficacy``) for a patient
    with a monogenic autoinflammatory disease on thalidomide, from what the patient page has
    read; [] for anyone else. R2.6 sets no age limit: every AID patient gets it (the series
    it comes from was of children). The baseline mirrors R2.1: the activity score is the
    AIDAI of the latest clinic visit from day −14 to day 0; CRP and ESR are the week-0 values
    recorded on the patient (``crp_at_lor``/``esr_at_lor``), else each test's latest result
    from day −14 to day 0 (a disease assessed by global assessment alone has no AIDAI, and its
    baseline results still count). No query."""
    start = course.start_date if course else None
    if patient.diagnosis != "AID" or start is None:
        return []

    def value(day, test):
        lab = labs_by_date.get(day, {}).get(test)
        return as_measured(lab.value) if lab else None

    def in_baseline_window(day):
        return outcomes.BASELINE_WINDOW_FIRST_DAY <= (day - start).days <= outcomes.BASELINE_WINDOW_LAST_DAY

    def at_start(test, recorded):
        if recorded is not None:
            return as_measured(recorded)
        days = [day for day, tests in labs_by_date.items() if test in tests and in_baseline_window(day)]
        return value(max(days), test) if days else None

    clinic = [v for v in visits if v.contact == "clinic"]
    scored = max((v for v in clinic if v.aidai is not None and in_baseline_window(v.date)),
                 key=lambda v: v.date, default=None)
    baseline = efficacy.PaedBaseline(
        activity_score=scored.aidai if scored else None,
        crp=at_start("crp", patient.crp_at_lor), esr=at_start("esr", patient.esr_at_lor),
    )
    observed = [
        efficacy.PaedVisit(date=v.date, activity_score=v.aidai, global_assessment=v.global_assessment or "",
                           crp=value(v.date, "crp"), esr=value(v.date, "esr"),
                           background_therapy=v.background_therapy or "")
        for v in clinic if v.date > start
    ]
    try:
        months = efficacy.paediatric_efficacy(baseline=baseline, visits=observed, start_date=start, as_of=as_of)
    except ValueError:  # a stored value the rule cannot read: nothing rather than an error
        return []
    as_of_day = (as_of - start).days
    return [{"result": m, "label": catalogue.label(visit_words.PAED_EFFICACY, m.status),
             # The month's window is still open: a nearer visit may still come (the reason says so too).
             "provisional": as_of_day <= efficacy.MONTH_DAYS * m.month + efficacy.PAED_WINDOW_DAYS}
            for m in months]
