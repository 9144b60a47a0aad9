"""The reminder kinds of R7 in one place: code, label, and the page that resolves each.

The codes and what resolves each kind (``schedule.ACTIONS``) belong to the pure
rules; this module adds what people read and where they act.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from safety import schedule
from thalimon import catalogue
from thalimon.urls_util import url_pattern
from therapy.rules import urgent

# R7 reminder kinds (safety.schedule.KINDS): (label, sentence). The label names the task
# ("Blood test due"); pages write the date beside it without another "due".
REMINDERS = {
    "dose_step_due": (
        _("Dose step due"),
        _("Thalidomide is below the target and 14 days have passed since the last change: consider the next step (R3.2)."),
    ),
    "neuropathy_review": (
        _("Neuropathy review"),
        _("Neuropathy was graded 1 or more: grade it again at a visit (R3.4)."),
    ),
    "pregnancy_test_due": (
        _("Pregnancy test due"),
        _("The next pregnancy test of a woman who could become pregnant is due (R5.2)."),
    ),
    "contraception_follow_up": (
        _("Contraception follow-up"),
        _("After the stop, confirm contraception continues for the 6-month period (R5.3)."),
    ),
    "ae_follow_up": (
        _("Adverse-event follow-up"),
        _("An adverse event is not resolved: follow it up (7 days for grade 3 or more, else 14) (R7)."),
    ),
    "blood_test_due": (
        _("Blood test due"),
        _("A blood count for azathioprine monitoring is due (R4.3)."),
    ),
    "visit_due": (
        _("Visit due"),
        _("A clinic visit on thalidomide is due (day 28, 56, 84, 168, then every 84 days) (R7)."),
    ),
    "cumulative_dose_review": (
        _("Cumulative dose review (20 g)"),
        _("The thalidomide taken has reached 20 g: a neurological review is due (R3.4)."),
    ),
    "prescription_due": (
        _("Prescription due"),
        _("The thalidomide tablets prescribed run out within 7 days: write the next prescription (R9.4)."),
    ),
}
LABELS = catalogue.labels(REMINDERS)
REMINDER_KINDS = [(kind, LABELS[kind]) for kind in schedule.KINDS]
# The data that resolves each kind (said when the scan closes one). Plain English: the scan
# stores it in the resolution; pages translate it where they show it (gettext_noop marks it).
RESOLVED_BY = {
    "dose_step_due": gettext_noop("a dose change was recorded, or the step is no longer due (target reached, neuropathy, stop)"),
    "neuropathy_review": gettext_noop("a later neuropathy grade was recorded"),
    "pregnancy_test_due": gettext_noop("a pregnancy test was recorded, or the patient is no longer tested (R5.1, R5.2)"),
    "contraception_follow_up": gettext_noop("a contraception confirmation was recorded, or the R5.3 period ended"),
    "ae_follow_up": gettext_noop("a follow-up, a visit or the resolution of the adverse event was recorded"),
    "blood_test_due": gettext_noop("a blood count was recorded, or azathioprine is no longer active"),
    "visit_due": gettext_noop("a clinic visit was recorded, or thalidomide is no longer active"),
    "cumulative_dose_review": gettext_noop("a clinic visit recording the neurological review"),
    "prescription_due": gettext_noop("a new prescription moved the run-out date, or thalidomide is no longer active (R9.4)"),
}
# Urgent events (therapy.rules.urgent.CODES): (label, sentence), and the data that resolves each.
URGENT = {
    "positive_pregnancy_test": (
        _("Positive pregnancy test"),
        _("A pregnancy test was positive: thalidomide stops at once and the clinician is told (R5.2)."),
    ),
    "dosed_after_positive_pregnancy_test": (
        _("Thalidomide dosed after a positive pregnancy test"),
        _("A thalidomide dose is recorded after a positive test with no later negative test (R5.2)."),
    ),
    "neuropathy_grade3_on_thalidomide": (
        _("Neuropathy grade 3 on thalidomide"),
        _("Neuropathy reached grade 3 while thalidomide is still taken: it must be stopped (R3.4)."),
    ),
    "withhold_lab_result": (
        _("Withhold-level blood result on azathioprine"),
        _("A blood result is at the clinic's withhold level while azathioprine is taken (R4.4)."),
    ),
    "contraception_not_confirmed": (
        _("Contraception not confirmed"),
        _("Contraception was not confirmed at a contact during or after thalidomide (R5.3)."),
    ),
    "breastfeeding": (
        _("Breast-feeding"),
        _("Breast-feeding is recorded while thalidomide is taken (R5.1)."),
    ),
}
URGENT_LABELS = catalogue.labels(URGENT)
URGENT_RESOLVED_BY = {
    "positive_pregnancy_test": gettext_noop("a later negative pregnancy test was recorded"),
    "dosed_after_positive_pregnancy_test": gettext_noop("a later negative pregnancy test was recorded"),
    "neuropathy_grade3_on_thalidomide": gettext_noop("thalidomide was stopped, or a lower neuropathy grade was recorded"),
    "lab": gettext_noop("a repeat result of the test below the withhold level was recorded, or azathioprine was stopped"),
    "contraception_not_confirmed": gettext_noop("contraception was confirmed at a later contact, or the R5.3 period ended"),
    "breastfeeding": gettext_noop("a later contact recorded no breast-feeding, or thalidomide was stopped"),
}

# The sentences of ``policy.refusal`` (a pure module: plain English there), marked here for the
# catalogue; pages and messages show them through gettext.
REFUSALS = (
    gettext_noop("only a clinician acts on this reminder"),
    gettext_noop("this reminder cannot wait: only the recorded result closes it"),
    gettext_noop("only a clinician may snooze this reminder"),
    gettext_noop("this reminder is closed only by its data, never by a decision"),
    gettext_noop("only a clinician may dismiss a reminder, with a decision"),
)
# The reminder actions (policy.REMINDER_ACTIONS) as pages name them.
ACTION_NAMES = {"complete": _("Complete"), "snooze": _("Snooze"), "dismiss": _("Dismiss")}


@dataclass(frozen=True)
class ActionPage:
    url_name: str  # takes the patient's code
    label: str
    permission: str


# schedule.ACTIONS value -> the page that records what resolves the reminder.
ACTION_PAGES = {
    "pregnancy_test": ActionPage("therapy:pregnancy_test_create", _("Record the test"), "therapy.add_pregnancytest"),
    "dose_change": ActionPage("therapy:dose_change", _("Open the dose change"), "therapy.add_dosechange"),
    "visit": ActionPage("visits:create", _("Record the visit"), "visits.add_visit"),
    "contraception": ActionPage(
        "therapy:contraception_create", _("Record the confirmation"), "therapy.record_contraception"
    ),
    "blood_test": ActionPage("visits:lab_create", _("Record the blood count"), "visits.add_labresult"),
    "prescription": ActionPage("therapy:prescription_new", _("Write the prescription"), "therapy.add_prescription"),
}
# Kinds whose action page is the visit form, said more precisely.
KIND_ACTION_LABELS = {
    "neuropathy_review": _("Record the neuropathy grade"),
    "cumulative_dose_review": _("Record the neurological review"),
}
# Kinds whose action page is the visit form: the part the link opens (never ticked for the clinician).
KIND_ACTION_PARTS = {
    "neuropathy_review": "?part=safety#part-safety",
    "cumulative_dose_review": "?part=review#part-safety",
}
# Urgent events: the one action that resolves each (stop = a 0 mg row on the dose page).
URGENT_ACTION_LABELS = {
    "positive_pregnancy_test": _("Record the next test"),
    "dosed_after_positive_pregnancy_test": _("Stop thalidomide"),
    "neuropathy_grade3_on_thalidomide": _("Stop thalidomide"),
    "withhold_lab_result": _("Record the repeat result"),
    "contraception_not_confirmed": _("Record the confirmation"),
    "breastfeeding": _("Stop thalidomide"),
}
PATIENT_PAGE = ActionPage("patients:detail", _("Open the patient"), "")
ADD_FOLLOW_UP = _("Add the follow-up")  # an adverse event's follow-up reminder
CLINICIAN_ACTS = _("Open the patient (a clinician acts)")


def urgent_code(alert):
    """The urgent event's code (a withhold-level lab alert is ``withhold_lab_result``)."""
    return "withhold_lab_result" if alert.kind == "lab" else alert.kind


def urgent_label(alert):
    return URGENT_LABELS.get(urgent_code(alert), alert.kind)


def urgent_action_link(alert, user=None):
    """(url, label) of the page that records what resolves an urgent event, if ``user`` may."""
    code = urgent_code(alert)
    page = ACTION_PAGES.get(alert.action or urgent.ACTIONS.get(code, ""), PATIENT_PAGE)
    if page.permission and user is not None and not user.has_perm(page.permission):
        return reverse(PATIENT_PAGE.url_name, args=[alert.patient.code]), CLINICIAN_ACTS
    return reverse(page.url_name, args=[alert.patient.code]), URGENT_ACTION_LABELS.get(code, page.label)


def _may(user, permission):
    """``user.has_perm(permission)``, remembered on the user object for the request (the
    inbox asks it for every row; Django's own check walks the backends each time)."""
    answers = user.__dict__.setdefault("_inbox_perm_answers", {})
    if permission not in answers:
        answers[permission] = user.has_perm(permission)
    return answers[permission]


def action_link(reminder, user=None):
    """(url, label) of the page that resolves ``reminder`` if ``user`` may use it; else the patient page."""
    code = reminder.patient.code
    if reminder.kind == "ae_follow_up" and reminder.subject:
        return url_pattern("safety:ae_detail")(reminder.subject), ADD_FOLLOW_UP
    page = ACTION_PAGES.get(reminder.action, PATIENT_PAGE)
    label = KIND_ACTION_LABELS.get(reminder.kind, page.label)
    if page.permission and user is not None and not _may(user, page.permission):
        return url_pattern(PATIENT_PAGE.url_name)(code), CLINICIAN_ACTS
    part = KIND_ACTION_PARTS.get(reminder.kind, "") if page.url_name == "visits:create" else ""
    return url_pattern(page.url_name)(code) + part, label
