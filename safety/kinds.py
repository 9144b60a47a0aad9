"""The reminder kinds of R7 in one place: code, label, and the page that resolves each.

The codes and what resolves each kind (``schedule.ACTIONS``) belong to the pure
rules; this module adds what people read and where they act.
"""

from dataclasses import dataclass

from django.urls import reverse

from safety import schedule

LABELS = {
    "dose_step_due": "Dose step due",
    "neuropathy_review": "Neuropathy review",
    "pregnancy_test_due": "Pregnancy test due",
    "contraception_follow_up": "Contraception follow-up",
    "ae_follow_up": "Adverse-event follow-up",
    "blood_test_due": "Blood test due",
    "visit_due": "Visit due",
    "cumulative_dose_review": "Cumulative dose review (20 g)",
}
REMINDER_KINDS = [(kind, LABELS[kind]) for kind in schedule.KINDS]


@dataclass(frozen=True)
class ActionPage:
    url_name: str  # takes the patient's code
    label: str
    permission: str


# schedule.ACTIONS value -> the page that records what resolves the reminder.
ACTION_PAGES = {
    "pregnancy_test": ActionPage("therapy:pregnancy_test_create", "Record the test", "therapy.add_pregnancytest"),
    "dose_change": ActionPage("therapy:dose_change", "Open the dose change", "therapy.add_dosechange"),
    "visit": ActionPage("visits:create", "Record the visit", "visits.add_visit"),
    "contraception": ActionPage(
        "therapy:contraception_create", "Record the confirmation", "therapy.record_contraception"
    ),
    "blood_test": ActionPage("visits:lab_create", "Record the blood count", "visits.add_labresult"),
}
# Kinds whose action page is the visit form, said more precisely.
KIND_ACTION_LABELS = {
    "neuropathy_review": "Record the neuropathy grade",
    "cumulative_dose_review": "Record the neurological review",
}
PATIENT_PAGE = ActionPage("patients:detail", "Open the patient", "")
CLINICIAN_ACTS = "Open the patient (a clinician acts)"


def action_link(reminder, user=None):
    """(url, label) of the page that resolves ``reminder`` if ``user`` may use it; else the patient page."""
    code = reminder.patient.code
    if reminder.kind == "ae_follow_up" and reminder.subject:
        return reverse("safety:ae_detail", args=[reminder.subject]), "Add the follow-up"
    page = ACTION_PAGES.get(reminder.action, PATIENT_PAGE)
    label = KIND_ACTION_LABELS.get(reminder.kind, page.label)
    if page.permission and user is not None and not user.has_perm(page.permission):
        return reverse(PATIENT_PAGE.url_name, args=[code]), CLINICIAN_ACTS
    return reverse(page.url_name, args=[code]), label
