"""Writes to visits, labs and endoscopies (DESIGN.md rule 2).

Each service validates with ``full_clean()``, writes in one transaction,
records the acting user in the history, stores the computed scores with the
rules version, and refreshes the patient's per-visit outcome statuses — so a
visit saved from the form, from an import or from the admin is scored by the
same code.
"""

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from thalimon.concurrency import check_version
from thalimon.rules_config import rule_settings, rules_version
from visits import outcomes, scoring
from visits.models import Contact, Endoscopy, LabResult, Visit

HEMATOCRIT_LOOKBACK_DAYS = 7  # R1.1: the latest lab haematocrit in the 7 days up to the visit


# --- scores -------------------------------------------------------------------
def _lab_hematocrit(patient, day, lab_hematocrits=None):
    """(date, value) of the latest lab haematocrit from day-7 to day (inclusive), or None."""
    if lab_hematocrits is None:
        lab_hematocrits = list(
            LabResult.objects.filter(
                patient=patient,
                test="hematocrit",
                date__range=(day - timedelta(days=HEMATOCRIT_LOOKBACK_DAYS), day),
            ).values_list("date", "value")
        )
    candidates = [
        (d, v) for d, v in lab_hematocrits if day - timedelta(days=HEMATOCRIT_LOOKBACK_DAYS) <= d <= day
    ]
    return max(candidates) if candidates else None


def compute_cdai(patient, visit, *, lab_hematocrits=None):
    """R1.1 for one (possibly unsaved) visit of ``patient``."""
    if visit.contact != Contact.CLINIC:
        return scoring.ScoreResult(
            name="CDAI", value=None, rule="R1.1", source="",
            reason="A CDAI is recorded only at clinic contacts (R1.1).",
        )
    hematocrit = visit.hematocrit
    from_lab = None
    if hematocrit is None and visit.date:
        from_lab = _lab_hematocrit(patient, visit.date, lab_hematocrits)
        hematocrit = from_lab[1] if from_lab else None
    complications = visit.cdai_complications
    if complications is None and visit.cdai_complication_flags:
        complications = len(visit.cdai_complication_flags)
    result = scoring.cdai(
        stools=visit.cdai_stools,
        pain=visit.cdai_pain,
        wellbeing=visit.cdai_wellbeing,
        complications=complications,
        antidiarrheal=visit.cdai_antidiarrheal,
        mass=visit.cdai_mass,
        hematocrit=hematocrit,
        sex=patient.sex,
        weight_kg=visit.weight_kg,
        standard_weight=patient.standard_weight_kg,
        height_cm=patient.height_cm,
        entered_total=visit.cdai_entered,
        weight_floor=rule_settings().cdai_weight_floor,
    )
    if from_lab and result.source == "computed":
        day, value = from_lab
        result = replace(
            result,
            reason=f"{result.reason} Haematocrit {format(value.normalize(), 'f')} % from the lab of {day:%Y-%m-%d}.",
        )
    return result


@dataclass(frozen=True)
class VisitScores:
    """The stored scores of one visit (R1.1, R1.2, R1.6), as the services and the import store them."""

    cdai: int | None
    cdai_source: str
    cdai_reason: str
    hbi: int | None
    mayo: int | None
    warnings: tuple = ()


def visit_scores(patient, visit, *, lab_hematocrits=None):
    cdai = compute_cdai(patient, visit, lab_hematocrits=lab_hematocrits)
    hbi = scoring.hbi(
        wellbeing=visit.hbi_wellbeing,
        pain=visit.hbi_pain,
        liquid_stools=visit.hbi_liquid_stools,
        mass=visit.hbi_mass,
        complications=visit.hbi_complications,
        entered_total=visit.hbi_entered,
    )
    mayo = scoring.mayo(
        stool_frequency=visit.mayo_stool_frequency,
        rectal_bleeding=visit.mayo_rectal_bleeding,
        endoscopy=visit.mayo_endoscopic,
        physician_global=visit.mayo_physician_global,
        entered_total=visit.mayo_entered,
    )
    return VisitScores(
        cdai=int(cdai.value) if cdai.value is not None else None,
        cdai_source=cdai.source if cdai.value is not None else "",
        # Warnings (stools above 140, an entered total that differs) are kept with the score.
        cdai_reason=" ".join([cdai.reason, *(f"Warning: {w}" for w in cdai.warnings)]),
        hbi=int(hbi.value) if hbi.value is not None else None,
        mayo=int(mayo.value) if mayo.value is not None else None,
        warnings=(*cdai.warnings, *hbi.warnings, *mayo.warnings),
    )


def _apply_scores(visit, patient, *, lab_hematocrits=None):
    scores = visit_scores(patient, visit, lab_hematocrits=lab_hematocrits)
    visit.cdai, visit.cdai_source, visit.cdai_reason = scores.cdai, scores.cdai_source, scores.cdai_reason
    visit.hbi, visit.mayo = scores.hbi, scores.mayo
    visit.rules_version = rules_version()


def patient_scores_refresh(patient, *, actor=None):
    """Re-score every visit (sex, height or standard weight changed: R1.1 H and Wt terms)."""
    visits = list(Visit.objects.filter(patient=patient))
    hematocrits = list(LabResult.objects.filter(patient=patient, test="hematocrit").values_list("date", "value"))
    changed = []
    for visit in visits:
        before = (visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo)
        _apply_scores(visit, patient, lab_hematocrits=hematocrits)
        if (visit.cdai, visit.cdai_source, visit.cdai_reason, visit.hbi, visit.mayo) != before:
            changed.append(visit)
    if changed:
        Visit.objects.bulk_update(changed, ["cdai", "cdai_source", "cdai_reason", "hbi", "mayo", "rules_version"])
    return changed


# --- outcome statuses -------------------------------------------------------------
def _visit_observations(visits):
    return [
        outcomes.VisitObs(
            key=v.pk, date=v.date, contact=v.contact, cdai=v.cdai, relapse_event=v.relapse_event
        )
        for v in visits
    ]


def course_baseline(patient, visits):
    """R2.1 baseline CDAI of the patient's course, or None without a course."""
    course = getattr(patient, "course", None)
    if course is None:
        return None
    return outcomes.baseline_cdai(
        recorded=patient.baseline_cdai, visits=_visit_observations(visits), start_date=course.start_date
    )


def patient_outcomes_refresh(patient, *, as_of=None):
    """Recompute and store the R2.2/R2.3 status of every visit of the patient.

    Statuses depend on each other (the nadir, relapse episodes), so the whole
    series is recomputed; only changed rows are written.
    """
    as_of = as_of or timezone.localdate()
    rules = rule_settings()
    visits = list(Visit.objects.filter(patient=patient).order_by("date", "contact", "pk"))
    course = getattr(patient, "course", None)
    observations = _visit_observations(visits)
    if course is None:
        computed = {
            v.pk: ("", "R2.1", "No thalidomide start recorded: statuses are empty (R2.1).") for v in visits
        }
    else:
        baseline = outcomes.baseline_cdai(
            recorded=patient.baseline_cdai, visits=observations, start_date=course.start_date
        )
        statuses = outcomes.clinical_statuses(
            visits=observations,
            baseline=baseline,
            start_date=course.start_date,
            as_of=as_of,
            remission_below=rules.remission_cdai_below,
            response_drop=rules.response_cdai_drop,
        )
        computed = {s.key: (s.status, s.rule, s.reason) for s in statuses}
    version = rules_version()
    changed = []
    for visit in visits:
        status, rule, reason = computed.get(visit.pk, ("", "", ""))
        new = (status, rule, reason, version)
        if (visit.clinical_status, visit.status_rule, visit.status_reason, visit.rules_version) != new:
            visit.clinical_status, visit.status_rule, visit.status_reason, visit.rules_version = new
            changed.append(visit)
    if changed:
        Visit.objects.bulk_update(
            changed, ["clinical_status", "status_rule", "status_reason", "rules_version"]
        )
    return visits


# --- visits -----------------------------------------------------------------------
def _save_labs(*, actor, patient, day, lab_values):
    """Create or update same-day lab results; a value of None deletes that result
    (the visit form's emptied field); tests not named are left alone."""
    saved = []
    for test, value in (lab_values or {}).items():
        if value is None or value == "":
            for lab in LabResult.objects.filter(patient=patient, date=day, test=test):
                lab._history_user = actor
                lab.delete()
            continue
        lab = LabResult.objects.filter(patient=patient, date=day, test=test).first() or LabResult(
            patient=patient, date=day, test=test, created_by=actor
        )
        lab.value = Decimal(str(value))
        lab.full_clean()
        lab._history_user = actor
        lab.save()
        saved.append(lab)
    return saved


def _save_visit(*, actor, visit, lab_values):
    patient = visit.patient
    if visit.cdai_complication_flags:
        visit.cdai_complications = len(visit.cdai_complication_flags)
    visit.full_clean()
    _save_labs(actor=actor, patient=patient, day=visit.date, lab_values=lab_values)
    _apply_scores(visit, patient)
    visit._history_user = actor
    visit.save()
    patient_outcomes_refresh(patient)
    visit.refresh_from_db()
    return visit


@transaction.atomic
def visit_record(*, actor, patient, lab_values=None, **fields):
    visit = Visit(patient=patient, created_by=actor, **fields)
    return _save_visit(actor=actor, visit=visit, lab_values=lab_values)


@transaction.atomic
def visit_update(*, actor, visit, lab_values=None, expected_version=None, **fields):
    # Optimistic locking: refused if someone saved the visit since it was read.
    visit = check_version(Visit, visit.pk, expected_version)
    visit.version += 1
    old_date = visit.date
    for name, value in fields.items():
        setattr(visit, name, value)
    if lab_values and visit.date != old_date:
        # The visit moved: its same-day results move with it (not copied).
        for lab in LabResult.objects.filter(patient=visit.patient, date=old_date, test__in=list(lab_values)):
            if not LabResult.objects.filter(patient=visit.patient, date=visit.date, test=lab.test).exists():
                lab.date = visit.date
                lab._history_user = actor
                lab.save()
    return _save_visit(actor=actor, visit=visit, lab_values=lab_values)


@transaction.atomic
def lab_results_record(*, actor, patient, date, lab_values):
    if date and date > timezone.localdate():
        raise ValidationError({"date": "Sample date cannot be in the future."})
    saved = _save_labs(actor=actor, patient=patient, day=date, lab_values=lab_values)
    # A new haematocrit can change the CDAI of a visit in the following 7 days.
    if any(lab.test == "hematocrit" for lab in saved):
        for visit in Visit.objects.filter(
            patient=patient, date__range=(date, date + timedelta(days=HEMATOCRIT_LOOKBACK_DAYS))
        ):
            _apply_scores(visit, patient)
            visit._history_user = actor
            visit.save()
        patient_outcomes_refresh(patient)
    return saved


# --- endoscopies ----------------------------------------------------------------------
def apply_endoscopy_scores(endoscopy):
    segments = endoscopy.segment_objects()
    result = scoring.cdeis(
        segments=segments,
        ulcerated_stenosis=endoscopy.ulcerated_stenosis,
        nonulcerated_stenosis=endoscopy.nonulcerated_stenosis,
        entered_total=endoscopy.cdeis_entered,
    )
    endoscopy.cdeis = result.value
    endoscopy.cdeis_source = result.source if result.value is not None else ""
    endoscopy.cdeis_reason = result.reason
    if segments:
        # R2.4 mucosal healing: no ulceration in any explored segment.
        endoscopy.ulceration = any(s.deep_ulceration or s.superficial_ulceration for s in segments)
    endoscopy.rules_version = rules_version()


def _save_endoscopy(*, actor, endoscopy):
    endoscopy.full_clean()
    apply_endoscopy_scores(endoscopy)
    endoscopy._history_user = actor
    endoscopy.save()
    return endoscopy


@transaction.atomic
def endoscopy_record(*, actor, patient, **fields):
    return _save_endoscopy(actor=actor, endoscopy=Endoscopy(patient=patient, created_by=actor, **fields))


@transaction.atomic
def endoscopy_update(*, actor, endoscopy, **fields):
    endoscopy = Endoscopy.objects.select_for_update().get(pk=endoscopy.pk)
    for name, value in fields.items():
        setattr(endoscopy, name, value)
    return _save_endoscopy(actor=actor, endoscopy=endoscopy)
