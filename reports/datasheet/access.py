"""The importing user's access rules, applied to every row of a web import (issue 13).

A datasheet writes clinical data, so it passes the same gates as the pages:

* a stored patient of a site the user is not a member of is refused as such in
  patients.csv (never moved, never taken for a new patient; issue 18) and, in the other
  files, is an unknown patient;
* a stored patient the user may not open (a record restricted to another care team)
  is, for that user, an unknown patient: the row is refused with the message an
  unknown code gets, and nothing about the record is said;
* a user who may not edit clinical data (the clinic lead, the admin) imports new
  patients and their history, never a change to a stored patient's record (a
  datasheet that changes nothing of a stored patient still imports);
* a dose row dated in the last 28 days, for a patient whose thalidomide course is
  active, is checked as the dose page checks it: a hard block (a positive pregnancy
  test) refuses it, any other deviation needs the row's ``override_reason``.

The command line (``actor`` None) is the operator's tool and keeps full access.
"""

from __future__ import annotations

from datetime import timedelta

from patients.models import site_ids_of
from thalimon.said import join, say
from therapy import records as therapy_records
from therapy.rules import doses as dose_rules

from .format import CHILD_FILES

RECENT_DAYS = 28
EDIT_PERMISSION = "patients.change_patient"
UNKNOWN = "unknown patient '{code}': neither in patients.csv nor stored"
NOT_YOURS = say(
    "changes a stored patient's record: your role imports new patients and their history "
    "only; a clinician records changes to a stored patient"
)


def hidden_codes(actor, stored):
    """The lower-cased codes of ``stored`` (code -> Patient) that ``actor`` may not open."""
    if actor is None:
        return set()
    return {lower for lower, patient in stored.items() if not patient.may_be_opened_by(actor)}


def other_site_codes(actor, stored):
    """The lower-cased codes of ``stored`` at a site ``actor`` is not a member of (issue 18):
    a row for one is refused as such, never taken for a new patient nor moved."""
    if actor is None:
        return set()
    mine = set(site_ids_of(actor))
    return {lower for lower, patient in stored.items() if patient.site_id not in mine}


def check_edits(plan):
    """Refuse every change to a stored patient's record by a user who may not edit one."""
    actor = plan.actor
    if actor is None or actor.has_perm(EDIT_PERMISSION):
        return
    for bundle in plan.bundles.values():
        if bundle.is_new or bundle.course_row is None:
            continue
        if bundle.patient_changed or bundle.course_state != "unchanged":
            plan.findings.error("patients.csv", bundle.line, "patient", NOT_YOURS)
    for name in CHILD_FILES:
        states = plan.state[name]
        for bundle, obj in plan.objects[name]:
            state = states.get(id(obj))
            if not bundle.is_new and state is not None and state.status != "unchanged":
                plan.findings.error(name, state.line, "patient", NOT_YOURS)


def check_recent_doses(plan):
    """Recent dose rows of a patient on thalidomide, checked as the dose page checks them."""
    since = plan.today - timedelta(days=RECENT_DAYS)
    states = plan.state["doses.csv"]
    for bundle in plan.bundles.values():
        thalidomide = sorted(
            (d for (drug, _), d in bundle.rows["doses.csv"].items() if drug == "thalidomide" and d.dose_mg is not None),
            key=lambda d: d.date,
        )
        rows = [dose_rules.DoseRow(date=d.date, dose_mg=d.dose_mg) for d in thalidomide]
        if not dose_rules.thalidomide_active(rows, plan.today):
            continue
        for obj in bundle.rows["doses.csv"].values():
            state = states.get(id(obj))
            if state is None or state.status == "unchanged" or obj.date < since:
                continue
            refused = _refusal(obj)
            if refused:
                plan.findings.error("doses.csv", state.line, "dose_mg", refused)


def _refusal(dose):
    codes = list(dose.deviations or [])
    hard = [code for code in codes if code in therapy_records.HARD_BLOCKS]
    if hard:
        return say("dated in the last %(days)s days, so checked as on the dose page: refused "
                   "(%(codes)s; no override is possible)", days=RECENT_DAYS, codes=join(hard, ", "))
    if codes and not (dose.override_reason or "").strip():
        return say("dated in the last %(days)s days, so checked as on the dose page: it breaks "
                   "%(codes)s; give override_reason to record it anyway", days=RECENT_DAYS,
                   codes=join(codes, ", "))
    return ""
