"""Reads for the dosing sections of the patient page and the dose pages.

Everything is loaded in a fixed number of queries and turned into rule inputs by
``therapy.records`` — the same inputs the dose actions and the reminder scan use.
"""

import dataclasses
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext, pgettext

from thalimon import catalogue, saying
from thalimon.rules_config import rule_settings
from therapy import charts, records, words
from therapy.models import DoseChange, Drug, PregnancyTest, Prescription
from therapy.rules import azathioprine as aza_rules
from therapy.rules import doses as dose_rules
from therapy.rules import pregnancy as pregnancy_rules
from therapy.rules import prescriptions as prescription_rules
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
        azathioprine=[(r.date, r.dose_mg, r.deviations + r.warnings, bool(r.override_reason)) for r in aza_rows],
        cdai=[(v.date, v.cdai) for v in scored],
        until=as_of,
        labels=catalogue.plain_labels(words.FINDINGS),
        say=gettext,
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


def _rows_and_inputs(patient, as_of):
    """The dose rows to ``as_of`` by drug, their histories, the visits and the pregnancy
    tests, and the rule input built from them (three queries)."""
    rows = list(DoseChange.objects.filter(patient=patient, date__lte=as_of).select_related("decided_by").order_by("date"))
    thal_rows = [r for r in rows if r.drug == Drug.THALIDOMIDE]
    aza_rows = [r for r in rows if r.drug == Drug.AZATHIOPRINE]
    visits = list(Visit.objects.filter(patient=patient, date__lte=as_of).order_by("date"))
    tests = list(PregnancyTest.objects.filter(patient=patient, date__lte=as_of).order_by("date"))
    return {
        "rows": rows,
        "thal_rows": thal_rows,
        "aza_rows": aza_rows,
        "thal_history": records.dose_history(thal_rows),
        "aza_history": records.dose_history(aza_rows),
        "visits": visits,
        "tests": tests,
        "thal_patient": records.thalidomide_patient(patient, visits=visits, tests=tests),
    }


def _latest_contraception(visits):
    """The latest contact that recorded a contraception answer (R5.3), or None."""
    answered = [v for v in visits if v.contraception_confirmed is not None]
    return answered[-1] if answered else None


def patient_banner(patient, *, as_of):
    """What the banner on every page of the patient states: thalidomide dose and day N,
    AZA dose and mg/kg, the next step and its date, pregnancy-test coverage and the
    latest contraception answer — by the same rules as the patient page (four queries)."""
    loaded = _rows_and_inputs(patient, as_of)
    thalidomide = _thalidomide_section(loaded["thal_history"], loaded["thal_patient"], as_of)
    course = getattr(patient, "course", None)
    return {
        **thalidomide,
        **_pregnancy_section(
            patient, loaded["thal_history"], loaded["thal_patient"], thal_active=thalidomide["thal_active"], as_of=as_of
        ),
        **_azathioprine_section(patient, loaded["aza_history"], loaded["thal_patient"], as_of),
        "course_day": course.day(as_of) if course and course.start_date and thalidomide["thal_active"] else None,
        "contraception": _latest_contraception(loaded["visits"]),
        "last_test": loaded["tests"][-1] if loaded["tests"] else None,
        "reproductive_potential": patient.is_female_of_reproductive_potential,
    }


def patient_dosing(patient, *, as_of=None):
    """The dosing sections: current doses, the suggested next step, pregnancy
    coverage, cumulative dose, AZA mg/kg and metabolites, overrides and the
    dose chart (the urgent events are the stored ones, on every page of the patient) — in a fixed number of queries."""
    as_of = as_of or timezone.localdate()
    loaded = _rows_and_inputs(patient, as_of)
    rows, thal_rows, aza_rows, visits, tests = (loaded[k] for k in ("rows", "thal_rows", "aza_rows", "visits", "tests"))
    thal_history, aza_history, thal_patient = loaded["thal_history"], loaded["aza_history"], loaded["thal_patient"]

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


# --- the flowsheet ---------------------------------------------------------------------
FLOWSHEET_LABS = ("wbc", "platelets", "alt", "crp", "esr", "hemoglobin", "calprotectin")
FLOWSHEET_DATES = 12  # the newest dates shown first; the page links to every date


def _dose_cells(rows, history, dates):
    """The dose in force on each date; a change on that day is marked, with its deviations."""
    by_date = {r.date: r for r in rows}
    cells = []
    for day in dates:
        change = by_date.get(day)
        dose = dose_rules.current_dose(history, day) if history and history[0].date <= day else None
        before = dose_rules.current_dose(history, day - timedelta(days=1)) if history and history[0].date < day else None
        cells.append({
            "value": dose,
            # R3.1: a row at the dose already taken is a continuation, not a change.
            "changed": change is not None and change.dose_mg != before,
            "deviations": list(change.deviations) if change else [],
            "override": bool(change and change.override_reason),
        })
    return cells


def _flowsheet_visit(visits):
    """One contact per date: a clinic visit before a phone contact of the same day; the
    contraception answer is the worst of the day's contacts (a "no" by phone is never hidden
    behind a clinic visit that did not ask, R5.3)."""
    by_date, answers = {}, {}
    for visit in visits:
        kept = by_date.get(visit.date)
        if kept is None or not (kept.contact == "clinic" and visit.contact != "clinic"):
            by_date[visit.date] = visit
        if visit.contraception_confirmed is not None:
            answers.setdefault(visit.date, []).append(visit.contraception_confirmed)
    for day, visit in by_date.items():
        day_answers = answers.get(day, [])
        visit.flowsheet_contraception = False if False in day_answers else (True if day_answers else None)
    return by_date


def flowsheet(*, patient, course, visits, lab_cells, thal_rows, aza_rows, tests, show_all=False):
    """The patient's record as one table with dates as columns, newest first: day of the
    course, both drugs' doses in force (changes marked), CDAI and status, neuropathy grade,
    pregnancy test, contraception, weight and the main blood tests. Built from what the
    page already loaded (no query). ``lab_cells``: {date: {test: cell}}."""
    visit_by_date = _flowsheet_visit(visits)
    test_by_date = {t.date: t for t in tests}
    all_dates = sorted(
        set(visit_by_date) | set(lab_cells) | {r.date for r in thal_rows} | {r.date for r in aza_rows} | set(test_by_date),
        reverse=True,
    )
    dates = all_dates if show_all else all_dates[:FLOWSHEET_DATES]
    started = course.start_date if course and course.start_date else None
    rows = [
        {"kind": "day", "label": gettext("Day of course"), "cells": [
            (day - started).days if started and day >= started else None for day in dates]},
        {"kind": "dose", "label": gettext("Thalidomide"), "unit": pgettext("unit", "mg/day"),
         "cells": _dose_cells(thal_rows, records.dose_history(thal_rows), dates)},
        {"kind": "dose", "label": gettext("Azathioprine"), "unit": pgettext("unit", "mg/day"),
         "cells": _dose_cells(aza_rows, records.dose_history(aza_rows), dates)},
        {"kind": "visit", "field": "contact", "label": gettext("Contact"), "cells": [visit_by_date.get(d) for d in dates]},
        {"kind": "visit", "field": "cdai", "label": "CDAI", "cells": [visit_by_date.get(d) for d in dates]},
        {"kind": "visit", "field": "status", "label": gettext("Status"), "cells": [visit_by_date.get(d) for d in dates]},
        {"kind": "visit", "field": "neuropathy", "label": gettext("Neuropathy grade"), "cells": [visit_by_date.get(d) for d in dates]},
    ]
    if patient.sex == "F":
        rows.append({"kind": "pregnancy", "label": gettext("Pregnancy test"), "cells": [test_by_date.get(d) for d in dates]})
    rows += [
        {"kind": "visit", "field": "contraception", "label": gettext("Contraception"), "cells": [visit_by_date.get(d) for d in dates]},
        {"kind": "visit", "field": "weight", "label": gettext("Weight"), "unit": "kg", "cells": [visit_by_date.get(d) for d in dates]},
    ]
    for test in FLOWSHEET_LABS:
        cells = [lab_cells.get(d, {}).get(test) for d in dates]
        if any(cells):
            first = next(c for c in cells if c)
            rows.append({"kind": "lab", "label": first.label, "unit": first.unit, "cells": cells})
    return {
        "dates": dates,
        "rows": rows,
        "hidden_dates": len(all_dates) - len(dates),
        "visits": visit_by_date,
        "status_reasons": [visit_by_date[d] for d in dates if d in visit_by_date and visit_by_date[d].status_reason],
    }


# --- R9 prescriptions -------------------------------------------------------------------
PANEL_PRESCRIPTIONS = 6  # the newest shown on the patient page; the expired and undispensed always


def unresolved_positive_test(patient, *, on):
    """The date of a positive pregnancy test on or before ``on`` with no later negative one (R5.2), or None."""
    tests = [
        pregnancy_rules.PregnancyTest(date=day, result=result)
        for day, result in PregnancyTest.objects.filter(patient=patient, date__lte=on).values_list("date", "result")
    ]
    return pregnancy_rules.unresolved_positive(pregnancy_rules.tests_until(tests, on))


def programme_title(name):
    """The programme's name as a page or form prints it ("EU pregnancy-prevention programme")."""
    if name in words.PROGRAMMES:
        return str(words.PROGRAMMES[name])
    return prescription_rules.PROGRAMME_TEXTS.get(name, name).removeprefix("the ")


def unit_text(programme):
    unit = dose_rules.fmt(programme.unit_mg)
    if programme.halves_allowed:
        return gettext("%(unit)s mg tablets (halves allowed)") % {"unit": unit}
    return gettext("%(unit)s mg tablets (whole units only)") % {"unit": unit}


def category_words(category, text):
    """The printed R9.2 category (a check's ``category_text``) in the reader's language: the
    category's label, and under the US REMS its age part."""
    printed = prescription_rules.CATEGORY_TEXTS.get(category)
    if not printed or not text.startswith(printed):
        return text
    label, rest = catalogue.label(words.RISK_CATEGORIES, category), text.removeprefix(printed)
    ages = {", adult": gettext("adult"), ", child": gettext("child"), ", age unknown": gettext("age unknown")}
    if not rest:
        return str(label)
    return f"{label}, {ages[rest]}" if rest in ages else text


def prescription_facts(patient, *, on, dose_in_force):
    """What the prescription page states before anything is typed: the programme, the
    patient's risk category on ``on`` (R9.2), the longest supply for it (R9.1), the unit
    strength, the dose in force and whether contraception and an authorisation are asked."""
    programme = records.prescription_programme()
    probe = records.check_prescription_for(patient, prescription_rules.PrescriptionRow(
        issue_date=on, dose_mg=dose_in_force or programme.unit_mg, days_supply=1, contraception_confirmed=True,
    ))
    return {
        "programme": programme,
        "programme_title": programme_title(programme.name),
        "risk_category": probe.risk_category,
        "category_text": category_words(probe.risk_category, probe.category_text),
        "max_days": prescription_rules.max_days_supply(probe.risk_category, programme),
        "unit_text": unit_text(programme),
        "dose_in_force": dose_in_force or None,
        "dose_in_force_text": f"{dose_rules.fmt(dose_in_force)} {pgettext('unit', 'mg/day')}" if dose_in_force
        else gettext("none (not taking thalidomide)"),
        "asks_contraception": probe.risk_category != "female_not_reproductive_potential",
        "authorisation_required": programme.authorisation_required,
    }


def prescription_codes(rx):
    """[(code, its stored reason)] of a stored prescription, in table order (R9.3)."""
    reasons = list(rx.check_reasons or [])
    return [(code, reasons[n] if n < len(reasons) else "") for n, code in enumerate(rx.deviations or [])]


def prescription_status(rx, *, today):
    """(key, words) of a stored prescription on ``today``: dispensed, expired (void, R9.1),
    waiting to be dispensed by its dispense-by date, or issued with none in the profile."""
    if rx.dispensed_date is not None:
        dispensed = {"date": saying.day(rx.dispensed_date)}
        if "dispensed_too_late" in (rx.deviations or []):
            return "dispensed", gettext("Dispensed on %(date)s — too late") % dispensed
        return "dispensed", gettext("Dispensed on %(date)s") % dispensed
    if prescription_rules.is_void(records.prescription_row(rx), dispense_by=rx.dispense_by, on=today):
        return "expired", gettext("Expired (not dispensed by %(date)s)") % {"date": saying.day(rx.dispense_by)}
    if rx.dispense_by is not None:
        return "waiting", gettext("Not dispensed yet — dispense by %(date)s") % {"date": saying.day(rx.dispense_by)}
    return "waiting", gettext("Not dispensed yet")


def patient_prescriptions(patient, *, as_of):
    """The patient page's Prescriptions panel: the prescriptions (newest first, each with its
    status), the current supply and its run-out date and reminder date (R9.4), the last
    pregnancy test — in a fixed number of queries."""
    stored = list(Prescription.objects.filter(patient=patient).select_related("prescribed_by").order_by("-issue_date"))
    if not stored:
        return {"prescriptions": [], "prescription_supply": None}
    for rx in stored:
        rx.status_key, rx.status_text = prescription_status(rx, today=as_of)
    shown = [rx for n, rx in enumerate(stored) if n < PANEL_PRESCRIPTIONS or rx.status_key != "dispensed"]
    run_out, due = records.prescription_run_out_for(patient, as_of=as_of)
    last_test = PregnancyTest.objects.filter(patient=patient, date__lte=as_of).order_by("-date").first() \
        if patient.sex == "F" else None
    return {
        "prescriptions": shown,
        "prescriptions_hidden": len(stored) - len(shown),
        "prescription_supply": {
            "run_out": run_out,
            "due": due,
            "current": next((rx for rx in stored if rx.status_key != "expired" and rx.issue_date <= as_of), None),
            "programme_title": programme_title(records.prescription_programme().name),
        },
        "prescription_last_test": last_test,
    }


def prescription_preview(patient, row, *, exclude_id=None, dose_change=False):
    """The R9.3 check of a prescription as typed. With ``dose_change`` the clinician records
    the dose change on the issue date in the same step (therapy.actions.dose_change_with_prescription):
    that row will be the latest dated on or before the issue date, at the prescribed dose, so
    ``dose_mismatch`` (R9.3) cannot arise and is not shown; the action checks again with the
    row written."""
    check = records.check_prescription_for(patient, row, exclude_id=exclude_id)
    if dose_change:
        check = dataclasses.replace(check, deviations=tuple(f for f in check.deviations if f.code != "dose_mismatch"))
    return dataclasses.replace(check, category_text=category_words(check.risk_category, check.category_text))


def thalidomide_dose_in_force(patient, *, on):
    rows = records.dose_rows_for(patient, Drug.THALIDOMIDE, until=on)
    return dose_rules.clean_decimal(dose_rules.current_dose(rows, on)) if rows else None


def dose_recorded_text(row):
    """The confirmation of a recorded dose row (the dose page, the visit page)."""
    values = {"drug": row.get_drug_display(), "dose": f"{row.dose_mg.normalize():f}", "date": saying.day(row.date)}
    if row.override_reason:
        return gettext("%(drug)s %(dose)s mg/day from %(date)s recorded with an override.") % values
    return gettext("%(drug)s %(dose)s mg/day from %(date)s recorded.") % values
