"""Reads for the dosing sections of the patient page and the dose pages.

Everything is loaded in a fixed number of queries and turned into rule inputs by
``therapy.records`` — the same inputs the dose actions and the reminder scan use.
"""

from django.utils import timezone

from thalimon.rules_config import rule_settings
from therapy import charts, records
from therapy.models import DoseChange, Drug, PregnancyTest
from therapy.rules import azathioprine as aza_rules
from therapy.rules import doses as dose_rules
from therapy.rules import pregnancy as pregnancy_rules
from therapy.rules import thalidomide as thalidomide_rules
from visits.models import LabResult, Visit


def _thalidomide_section(thal_history, thal_patient, as_of):
    """Current thalidomide dose, the last change and days held, the suggested next
    step, the cumulative dose and the latest neuropathy grade."""
    last_change = dose_rules.last_change(thal_history, as_of) if thal_history else None
    return {
        "neuropathy_grade": thalidomide_rules.latest_neuropathy_grade(thal_patient, as_of),
        "thal_active": records.thalidomide_active(thal_history, as_of),
        "thal_current": dose_rules.current_dose(thal_history, as_of) if thal_history else None,
        "thal_last_change": last_change,
        "thal_days_held": (as_of - last_change.date).days if last_change else None,
        "suggestion": thalidomide_rules.suggest_next_step(patient=thal_patient, history=thal_history, on=as_of)
        if thal_history
        else None,
        "cumulative_g": dose_rules.cumulative_dose_g(thal_history, as_of) if thal_history else None,
        "cumulative_20g_date": dose_rules.date_cumulative_reached(thal_history, as_of=as_of) if thal_history else None,
        "thal_regimen": thal_patient.regimen,
    }


def _pregnancy_section(patient, thal_history, thal_patient, *, thal_active, as_of):
    """Pregnancy-test coverage while on thalidomide, the stop date, and after a stop
    the one test still due (R5.2) — for a woman of reproductive potential."""
    course_start = dose_rules.course_start(thal_history, as_of) if thal_history else None
    stopped_on = dose_rules.stop_date(thal_history, as_of) if thal_history else None
    section = {"pregnancy": None, "stopped_on": stopped_on}
    if patient.is_female_of_reproductive_potential and course_start and thal_active:
        section["pregnancy"] = pregnancy_rules.pregnancy_coverage(
            tests=thal_patient.pregnancy_tests,
            start=course_start,
            on=as_of,
            irregular_cycles=patient.irregular_cycles,
            first_dose_or_restart=False,
        )
    if patient.is_female_of_reproductive_potential and stopped_on and not thal_active:
        # R5.2: after the stop, the one test 28 days later.
        section["after_stop_test_due"] = pregnancy_rules.next_pregnancy_test_due(
            tests=thal_patient.pregnancy_tests, start=course_start, stop=stopped_on, as_of=as_of,
            irregular_cycles=patient.irregular_cycles,
        )
    return section


def _azathioprine_section(patient, aza_history, thal_patient, as_of):
    """Whether AZA is taken, its current dose and, while taken, the mg/kg and TPMT/NUDT15 check."""
    aza_active = records.azathioprine_active(aza_history, as_of)
    aza_current = dose_rules.current_dose(aza_history, as_of) if aza_history else None
    return {
        "aza_active": aza_active,
        "aza_current": aza_current,
        "aza_check": (
            aza_rules.check_aza_dose(
                dose_mg=aza_current,
                on=as_of,
                weights=thal_patient.weights,
                tpmt=patient.tpmt,
                nudt15=patient.nudt15,
                xanthine_oxidase_inhibitor=patient.xanthine_oxidase_inhibitor,
            )
            if aza_active
            else None
        ),
    }


def _metabolites(patient, aza_history, as_of):
    """The paired TGN/MMP results, newest first, each interpreted against the AZA
    change before it (one query)."""
    metabolites = {}
    for lab in LabResult.objects.filter(patient=patient, test__in=["tgn", "mmp"], date__lte=as_of).order_by("date"):
        metabolites.setdefault(lab.date, {})[lab.test] = lab.value
    paired = [(d, m) for d, m in metabolites.items() if "tgn" in m and "mmp" in m]
    interpretations = []
    for day, values in reversed(paired):
        change = dose_rules.last_change(aza_history, day) if aza_history else None
        interpretations.append(
            {
                "date": day,
                "tgn": values["tgn"],
                "mmp": values["mmp"],
                "result": aza_rules.interpret_metabolites(
                    tgn=values["tgn"], mmp=values["mmp"], sample_date=day,
                    last_aza_change=change.date if change else None,
                ),
            }
        )
    return interpretations


def _dose_figure(thal_rows, aza_rows, visits, as_of):
    """The dose chart: both drugs' steps to ``as_of``, with the CDAI of the scored visits."""
    scored = [v for v in visits if v.cdai is not None]
    return charts.dose_figure(
        thalidomide=[(r.date, r.dose_mg, r.deviations, bool(r.override_reason)) for r in thal_rows],
        azathioprine=[(r.date, r.dose_mg, r.warnings, bool(r.override_reason)) for r in aza_rows],
        cdai=[(v.date, v.cdai) for v in scored],
        until=as_of,
    )


def programme_facts(patient):
    """The pregnancy-prevention numbers a page states, from the rules and the settings in force."""
    regular = patient.irregular_cycles is False  # unknown counts as irregular (R5.2)
    return {
        "test_interval_days": (
            pregnancy_rules.PREGNANCY_REGULAR_INTERVAL_DAYS if regular
            else pregnancy_rules.PREGNANCY_IRREGULAR_INTERVAL_DAYS
        ),
        "early_interval_days": pregnancy_rules.PREGNANCY_EARLY_INTERVAL_DAYS,
        "early_until_day": pregnancy_rules.PREGNANCY_EARLY_UNTIL_DAY,
        "after_stop_days": pregnancy_rules.PREGNANCY_AFTER_STOP_DAYS,
        "contraception_lead_weeks": pregnancy_rules.CONTRACEPTION_LEAD_DAYS // 7,
        "contraception_period_days": rule_settings().contraception_period_days,
    }


def patient_dosing(patient, *, as_of=None):
    """The dosing sections: current doses, the suggested next step, pregnancy
    coverage, cumulative dose, AZA mg/kg and metabolites, overrides and the
    dose chart (the urgent events are the stored ones, on every page of the patient) — in a fixed number of queries."""
    as_of = as_of or timezone.localdate()
    rows = list(DoseChange.objects.filter(patient=patient, date__lte=as_of).select_related("decided_by").order_by("date"))
    thal_rows = [r for r in rows if r.drug == Drug.THALIDOMIDE]
    aza_rows = [r for r in rows if r.drug == Drug.AZATHIOPRINE]
    thal_history = records.dose_history(thal_rows)
    aza_history = records.dose_history(aza_rows)
    visits = list(Visit.objects.filter(patient=patient, date__lte=as_of).order_by("date"))
    tests = list(PregnancyTest.objects.filter(patient=patient, date__lte=as_of).order_by("date"))
    thal_patient = records.thalidomide_patient(patient, visits=visits, tests=tests)

    thalidomide = _thalidomide_section(thal_history, thal_patient, as_of)
    pregnancy = _pregnancy_section(patient, thal_history, thal_patient, thal_active=thalidomide["thal_active"],
                                   as_of=as_of)
    context = {
        "thalidomide_rows": list(reversed(thal_rows)),
        "azathioprine_rows": list(reversed(aza_rows)),
        "pregnancy_tests": list(reversed(tests)),
        **thalidomide,
        "overrides": [r for r in reversed(rows) if r.override_reason],
        "checklist_override": (
            patient.course if getattr(patient, "course", None) and patient.course.checklist_override_reason else None
        ),
        "today": as_of,
        "programme": programme_facts(patient),
        **pregnancy,
        **_azathioprine_section(patient, aza_history, thal_patient, as_of),
        "metabolites": _metabolites(patient, aza_history, as_of),
    }
    if thal_rows or aza_rows:
        context["dose_figure"] = _dose_figure(thal_rows, aza_rows, visits, as_of)
    return context
