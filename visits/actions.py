"""Visit actions: visits, lab results and endoscopies.

Each public function is one clinical use case in one durable transaction, doing
in order: the write with its history row and acting user, the derived fields
(scores with the rules version, the patient's R2 status series), the R4.4
alerts, and one rescan of the patient's reminders queued on commit. Stored and
imported visits are scored by the same ``visits.records`` functions.
"""

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from patients.models import Patient
from safety.actions import lab_alerts_refresh, request_rescan, visit_alerts_refresh
from thalimon.concurrency import check_version
from thalimon.history import (
    bulk_create_recorded,
    bulk_update_recorded,
    delete_with_history,
    save_with_history,
)
from thalimon.rules_config import rules_version
from therapy.models import TherapyCourse
from visits import labs, records
from visits.endoscopy_scores import cdeis
from visits.models import Endoscopy, LabResult, Visit

STATUS_FIELDS = ["clinical_status", "status_rule", "status_reason", "rules_version"]
SCORE_FIELDS = ["cdai", "cdai_source", "cdai_reason", "hbi", "mayo", "rules_version"]


# --- derived fields ---------------------------------------------------------------
def _hematocrits(patient):
    return list(LabResult.objects.filter(patient=patient, test="hematocrit").values_list("date", "value"))


def scores_refresh(patient, *, visits=None):
    """Re-score visits of the patient (all by default): sex, height, standard weight or a
    lab haematocrit changed (R1.1). Only changed rows are written."""
    visits = list(Visit.objects.filter(patient=patient)) if visits is None else visits
    hematocrits = _hematocrits(patient)
    changed = [v for v in visits if records.visit_scores(patient, v, lab_hematocrits=hematocrits).apply_to(v)]
    if changed:
        Visit.objects.bulk_update(changed, SCORE_FIELDS)
    return changed


def statuses_refresh(patient, *, as_of=None):
    """Recompute and store the R2.2/R2.3 status of every visit of the patient (the whole
    series: the nadir and relapse episodes link them); only changed rows are written."""
    as_of = as_of or timezone.localdate()
    course = TherapyCourse.objects.filter(patient=patient).only("start_date").first()
    visits = records.ordered(Visit.objects.filter(patient=patient))
    series = records.status_series(
        recorded_baseline=patient.baseline_cdai, start_date=course.start_date if course else None,
        visits=visits, as_of=as_of,
    )
    version = rules_version()
    changed = []
    for visit, (status, rule, reason) in zip(visits, series, strict=True):
        new = (status, rule, reason, version)
        if (visit.clinical_status, visit.status_rule, visit.status_reason, visit.rules_version) != new:
            visit.clinical_status, visit.status_rule, visit.status_reason, visit.rules_version = new
            changed.append(visit)
    if changed:
        Visit.objects.bulk_update(changed, STATUS_FIELDS)
    return visits


# --- lab results --------------------------------------------------------------------
def _save_labs(*, actor, patient, day, lab_values, liver_uln=None):
    """Create or update same-day results (a value of None deletes that result: the visit
    form's emptied field; tests not named are left alone) in a fixed number of queries.
    ``liver_uln``: the lab's own ALT/AST upper limit given with them (R12), stored as the range
    0–ULN of each ALT and AST result named here; None keeps the limit each already has (a new
    result then has none: R12's 0–40). Returns (saved, removed_ids)."""
    lab_values = lab_values or {}
    existing = {lab.test: lab for lab in LabResult.objects.filter(patient=patient, date=day, test__in=list(lab_values))}
    liver_range = (None, None) if liver_uln is None else (Decimal(0), Decimal(str(liver_uln)))
    new, changed, removed = [], [], []
    for test, value in lab_values.items():
        lab = existing.get(test)
        if value is None or value == "":
            if lab is not None:
                removed.append(lab)
            continue
        liver = test in labs.LIVER_TESTS and liver_uln is not None
        if lab is None:
            lab = LabResult(patient=patient, date=day, test=test, created_by=actor)
            new.append(lab)
        elif lab.value == Decimal(str(value)) and (not liver or (lab.lab_low, lab.lab_high) == liver_range):
            continue
        else:
            changed.append(lab)
        lab.value = Decimal(str(value))
        if liver:
            lab.lab_low, lab.lab_high = liver_range
        # The patient is known and same-day uniqueness was read above: no query per result.
        lab.full_clean(exclude=["patient", "created_by"], validate_unique=False, validate_constraints=False)
    removed_ids = [lab.pk for lab in removed]
    for lab in removed:
        delete_with_history(lab, actor)
    created = bulk_create_recorded(LabResult, new, actor)
    bulk_update_recorded(LabResult, changed, ["value", "lab_low", "lab_high"], actor)
    return [*created, *changed], removed_ids


def _after_labs(patient, day, saved, removed_ids):
    """A new haematocrit can change the CDAI of a visit in the following 7 days; every
    saved result gets its R4.4 alert."""
    if any(lab.test == "hematocrit" for lab in saved) or removed_ids:
        window = (day, day + timedelta(days=records.HEMATOCRIT_LOOKBACK_DAYS))
        if scores_refresh(patient, visits=list(Visit.objects.filter(patient=patient, date__range=window))):
            statuses_refresh(patient)
    lab_alerts_refresh(patient, saved, removed_ids=removed_ids)


@transaction.atomic
def lab_results_record(*, actor, patient, date, lab_values, liver_uln=None):
    if date and date > timezone.localdate():
        raise ValidationError({"date": gettext("Sample date cannot be in the future.")})
    Patient.objects.lock(patient.pk)
    saved, removed_ids = _save_labs(actor=actor, patient=patient, day=date, lab_values=lab_values, liver_uln=liver_uln)
    _after_labs(patient, date, saved, removed_ids)
    request_rescan(patient.pk)
    return saved


# --- visits ---------------------------------------------------------------------------
def _apply_complications(visit, fields):
    """R1.1 C follows the ticked categories whenever CDAI items are recorded (none ticked = 0)."""
    if "cdai_complication_flags" in fields:
        visit.cdai_complications = records.complication_count(
            flags=visit.cdai_complication_flags,
            count=visit.cdai_complications,
            items_recorded=records.cdai_items_recorded(vars(visit)),
        )


def _menarche_ends_exemption(visit, actor, before):
    """R5.1: the premenarchal exemption ends at menarche. A visit whose answer becomes "reached"
    (``before``: its stored answer; a later edit of an answered visit does not end it again)
    ends the exemption on the patient's row (locked, versioned, with its history), so the
    pregnancy tests and contraception rules apply from the rescan this save requests. A bare
    recorded "no" left without its exemption is cleared with it (never stored without a reason)."""
    if not visit.menarche or before is True:
        return
    stored = Patient.objects.select_for_update().get(pk=visit.patient_id)
    if stored.premenarchal:
        stored.premenarchal = False
        if stored.reproductive_potential is False and not stored.non_reproductive_reason:
            stored.reproductive_potential = None
        stored.version += 1
        save_with_history(stored, actor, reason=f"menarche recorded at the visit of {visit.date.isoformat()} (R5.1)")
    patient = visit.patient
    patient.premenarchal, patient.reproductive_potential, patient.version = (
        stored.premenarchal, stored.reproductive_potential, stored.version
    )


def _save_visit(*, actor, visit, lab_values, fields, moved_labs=(), liver_uln=None, menarche_before=None):
    patient = visit.patient
    _apply_complications(visit, fields)
    visit.full_clean()
    _menarche_ends_exemption(visit, actor, menarche_before)
    saved, removed_ids = _save_labs(
        actor=actor, patient=patient, day=visit.date, lab_values=lab_values, liver_uln=liver_uln
    )
    records.visit_scores(patient, visit, lab_hematocrits=_hematocrits(patient)).apply_to(visit)
    save_with_history(visit, actor)
    statuses_refresh(patient)
    lab_alerts_refresh(patient, [*saved, *(lab for lab in moved_labs if lab not in saved)], removed_ids=removed_ids)
    visit_alerts_refresh(patient, [visit])
    request_rescan(patient.pk)
    visit.refresh_from_db()
    return visit


@transaction.atomic
def visit_record(*, actor, patient, lab_values=None, liver_uln=None, **fields):
    Patient.objects.lock(patient.pk)
    visit = Visit(patient=patient, created_by=actor, **fields)
    return _save_visit(actor=actor, visit=visit, lab_values=lab_values, fields=fields, liver_uln=liver_uln)


@transaction.atomic
def visit_update(*, actor, visit, lab_values=None, expected_version=None, liver_uln=None, **fields):
    # Optimistic locking: refused if someone saved the visit since it was read.
    visit = check_version(Visit, visit.pk, expected_version)
    visit.version += 1
    old_date, menarche_before = visit.date, visit.menarche
    for name, value in fields.items():
        setattr(visit, name, value)
    moving = []
    if lab_values and visit.date != old_date:
        # The visit moved: its same-day results move with it (not copied).
        taken = set(LabResult.objects.filter(patient=visit.patient, date=visit.date).values_list("test", flat=True))
        moving = [
            lab for lab in LabResult.objects.filter(patient=visit.patient, date=old_date, test__in=list(lab_values))
            if lab.test not in taken
        ]
        for lab in moving:
            lab.date = visit.date
        bulk_update_recorded(LabResult, moving, ["date"], actor)
    # Moved results keep their alerts, dated anew.
    return _save_visit(
        actor=actor, visit=visit, lab_values=lab_values, fields=fields, moved_labs=moving, liver_uln=liver_uln,
        menarche_before=menarche_before,
    )


# --- endoscopies ----------------------------------------------------------------------
def endoscopy_scores(endoscopy):
    """R1.3 CDEIS and R2.4 ulceration of one (possibly unsaved) endoscopy."""
    segments = endoscopy.segment_objects()
    result = cdeis(
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
    endoscopy_scores(endoscopy)
    save_with_history(endoscopy, actor)  # no reminder or alert reads endoscopies: no rescan
    return endoscopy


@transaction.atomic
def endoscopy_record(*, actor, patient, **fields):
    Patient.objects.lock(patient.pk)
    return _save_endoscopy(actor=actor, endoscopy=Endoscopy(patient=patient, created_by=actor, **fields))


@transaction.atomic
def endoscopy_update(*, actor, endoscopy, **fields):
    endoscopy = Endoscopy.objects.select_for_update().get(pk=endoscopy.pk)
    for name, value in fields.items():
        setattr(endoscopy, name, value)
    return _save_endoscopy(actor=actor, endoscopy=endoscopy)
