"""safety/policy.py: every reminder kind × role × action → allowed or refused (R7: reminders
close on data; DESIGN rule 7). Worked by hand from the readings in docs/clinical-rules.md:
a nurse never acts on the clinician-owned kinds; a pregnancy test never waits and is never
dismissed; contraception, blood counts and the 20 g review close only by their data."""

import pytest

from safety.policy import CLINICIAN, COMPLETE, DISMISS, NURSE, REMINDER_POLICY, SNOOZE, refusal
from safety.schedule import KINDS

Y, N = "allowed", "refused"
# kind: {role: (complete, snooze, dismiss)}
TABLE = {
    "dose_step_due":           {CLINICIAN: (Y, Y, Y), NURSE: (N, N, N), "lead": (N, N, N)},
    "neuropathy_review":       {CLINICIAN: (Y, Y, Y), NURSE: (N, N, N), "lead": (N, N, N)},
    "cumulative_dose_review":  {CLINICIAN: (Y, Y, N), NURSE: (N, N, N), "lead": (N, N, N)},
    "pregnancy_test_due":      {CLINICIAN: (Y, N, N), NURSE: (Y, N, N), "lead": (N, N, N)},
    "contraception_follow_up": {CLINICIAN: (Y, Y, N), NURSE: (Y, Y, N), "lead": (N, N, N)},
    "ae_follow_up":            {CLINICIAN: (Y, Y, Y), NURSE: (Y, Y, N), "lead": (N, N, N)},
    "blood_test_due":          {CLINICIAN: (Y, Y, N), NURSE: (Y, Y, N), "lead": (N, N, N)},
    "visit_due":               {CLINICIAN: (Y, Y, Y), NURSE: (Y, Y, N), "lead": (N, N, N)},
    "prescription_due":        {CLINICIAN: (Y, Y, N), NURSE: (N, N, N), "lead": (N, N, N)},
}
ROLES = {CLINICIAN: {CLINICIAN, NURSE}, NURSE: {NURSE}, "lead": set()}  # a clinician also works nurse kinds
CASES = [
    (kind, role, action, expected)
    for kind, by_role in TABLE.items()
    for role, answers in by_role.items()
    for action, expected in zip((COMPLETE, SNOOZE, DISMISS), answers, strict=True)
]


def test_the_table_covers_every_kind():
    assert set(TABLE) == set(KINDS) == set(REMINDER_POLICY)


@pytest.mark.parametrize("kind, role, action, expected", CASES, ids=[f"{k}-{r}-{a}" for k, r, a, _ in CASES])
def test_kind_role_action(kind, role, action, expected):
    why = refusal(kind, action, ROLES[role])
    assert (why is None) == (expected == Y), why


@pytest.mark.parametrize("kind, action, words", [
    ("pregnancy_test_due", SNOOZE, "cannot wait"),
    ("pregnancy_test_due", DISMISS, "closed only by its data"),
    ("dose_step_due", COMPLETE, "only a clinician"),
    ("visit_due", DISMISS, "only a clinician"),
])
def test_a_refusal_says_why(kind, action, words):
    assert words in refusal(kind, action, {NURSE})


def test_an_unknown_action_is_an_error_not_a_permission():
    with pytest.raises(ValueError, match="unknown reminder action"):
        refusal("visit_due", "delete", {CLINICIAN})
