"""Who may do what with a reminder (R7: reminders close on data) — pure: no Django, no clock.

A reminder is closed by the data that satisfies its rule (the scan's auto-resolve),
never by a note. What people may do instead is limited per kind and role: *complete*
asks the scan to check the record now (it closes only if the data is there); *snooze*
hides it for at most 7 days, with a reason, after which it comes back if still due;
*dismiss* is a clinician's recorded decision, only for kinds where that is clinically
valid. The table ``REMINDER_POLICY`` is tested case by case in
``tests/rules/test_reminder_policy.py``.
"""

from dataclasses import dataclass

from thalimon.said import Said, say

CLINICIAN = "clinician"
NURSE = "nurse"
COMPLETE, SNOOZE, DISMISS = "complete", "snooze", "dismiss"
REMINDER_ACTIONS = (COMPLETE, SNOOZE, DISMISS)
MAX_SNOOZE_DAYS = 7


@dataclass(frozen=True)
class KindPolicy:
    """Who owns a kind, and whether it may wait (snooze) or end by a clinician's decision."""

    owner: str  # CLINICIAN: only a clinician acts; NURSE: nurse or clinician
    snooze: bool
    dismiss: bool  # a clinician may close it with a recorded decision


# Readings chosen (safest for the patient): a pregnancy test neither waits nor is
# dismissed (only a test result or a change of the recorded reproductive status ends
# it); contraception, blood-count and the 20 g neurological review are closed only by
# their data; a dose step, a neuropathy review, a visit and an AE follow-up may end
# by a clinician's recorded decision (e.g. "no further step: stays at 50 mg"). A prescription
# is written by a clinician only (nurses don't prescribe) and is closed by the next
# prescription or the stop, never by a decision: a patient on thalidomide must not run out.
REMINDER_POLICY = {
    "dose_step_due": KindPolicy(owner=CLINICIAN, snooze=True, dismiss=True),
    "neuropathy_review": KindPolicy(owner=CLINICIAN, snooze=True, dismiss=True),
    "cumulative_dose_review": KindPolicy(owner=CLINICIAN, snooze=True, dismiss=False),
    "pregnancy_test_due": KindPolicy(owner=NURSE, snooze=False, dismiss=False),
    "contraception_follow_up": KindPolicy(owner=NURSE, snooze=True, dismiss=False),
    "ae_follow_up": KindPolicy(owner=NURSE, snooze=True, dismiss=True),
    "blood_test_due": KindPolicy(owner=NURSE, snooze=True, dismiss=False),
    "visit_due": KindPolicy(owner=NURSE, snooze=True, dismiss=True),
    "prescription_due": KindPolicy(owner=CLINICIAN, snooze=True, dismiss=False),
}


def refusal(kind: str, action: str, roles: set[str]) -> Said | None:
    """Why ``roles`` may not ``action`` a reminder of ``kind`` (None when allowed).

    ``complete`` is allowed to the kind's owner (a clinician always) and succeeds only
    when the data now resolves the reminder; ``snooze`` (≤ 7 days, with a reason) to the
    owner where the kind may wait; ``dismiss`` (a clinician's decision) where valid.
    """
    policy = REMINDER_POLICY[kind]
    is_clinician, is_nurse = CLINICIAN in roles, NURSE in roles
    owner_may = is_clinician or (policy.owner == NURSE and is_nurse)
    if action == COMPLETE:
        return None if owner_may else say("only a clinician acts on this reminder")
    if action == SNOOZE:
        if not policy.snooze:
            return say("this reminder cannot wait: only the recorded result closes it")
        return None if owner_may else say("only a clinician may snooze this reminder")
    if action == DISMISS:
        if not policy.dismiss:
            return say("this reminder is closed only by its data, never by a decision")
        return None if is_clinician else say("only a clinician may dismiss a reminder, with a decision")
    raise ValueError(f"unknown reminder action {action!r}")
