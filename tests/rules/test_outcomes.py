"""R2.1–R2.6 outcome rules (clinical-rules.md), tables worked by hand.

Every expected value below was worked out on paper from the spec, never by the
code under test. Therapy starts on 2021-01-01 (day 0), so day N is N days later
(day 59 = 2021-03-01). No database: the rules are pure functions.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from thalimon.rules_config import RuleSettings
from visits.efficacy import (
    PaedBaseline,
    PaedVisit,
    paediatric_efficacy,
    treatment_failure_cd,
    treatment_failure_uc,
)
from visits.endoscopy_outcomes import EndoObs, endoscopic_baseline, endoscopic_outcomes
from visits.outcomes import Baseline, VisitObs, baseline_cdai, clinical_statuses, status_of

START = date(2021, 1, 1)
FAR_AS_OF = date(2030, 1, 1)
# The thresholds are configurable, so the rules require them; the cases use the
# configured defaults (150, 70, CDEIS 7) unless they give their own.
RULES = RuleSettings()


def statuses_of(**kwargs):
    thresholds = {"remission_below": RULES.remission_cdai_below, "response_drop": RULES.response_cdai_drop}
    return clinical_statuses(**{**thresholds, **kwargs})


def endoscopic_outcomes_of(**kwargs):
    return endoscopic_outcomes(**{"cdeis_remission_below": RULES.cdeis_remission_below, **kwargs})



def day(n: int) -> date:
    return START + timedelta(days=n)


def clinic(key, n, cdai, event=""):
    return VisitObs(key=key, date=day(n), contact="clinic", cdai=cdai, relapse_event=event)


def phone(key, n, cdai=None, event=""):
    return VisitObs(key=key, date=day(n), contact="phone", cdai=cdai, relapse_event=event)


def course_baseline(cdai):
    return Baseline(cdai=cdai, source="recorded")


# ---------------------------------------------------------------------------
# R2.1 baseline CDAI
# ---------------------------------------------------------------------------

# (recorded, visits, expected cdai, source, visit_key, warning expected)
BASELINE_CASES = [
    pytest.param(224, [], 224, "recorded", None, False, id="R2.1-recorded-only"),
    pytest.param(
        Decimal("224.5"), [], 225, "recorded", None, False, id="R2.1-recorded-224.5-half-up-225"
    ),
    pytest.param(
        Decimal("224.4"), [], 224, "recorded", None, False, id="R2.1-recorded-224.4-down-224"
    ),
    pytest.param("310.5", [], 311, "recorded", None, False, id="R2.1-recorded-310.5-half-up-311"),
    pytest.param(
        None,
        [clinic("a", -10, 260), clinic("b", -2, 240)],
        240,
        "visit",
        "b",
        False,
        id="R2.1-latest-clinic-visit-in-window",
    ),
    pytest.param(
        None,
        [clinic("a", -2, 240), phone("p", 0, 300)],
        240,
        "visit",
        "a",
        False,
        id="R2.1-phone-contact-ignored",
    ),
    pytest.param(
        None, [clinic("a", -15, 260)], None, "", None, False, id="R2.1-day-minus-15-ignored"
    ),
    pytest.param(
        None, [clinic("a", -14, 250)], 250, "visit", "a", False, id="R2.1-day-minus-14-counts"
    ),
    pytest.param(
        None,
        [clinic("a", -14, 250), clinic("b", 0, 230)],
        230,
        "visit",
        "b",
        False,
        id="R2.1-day-0-counts-and-is-latest",
    ),
    pytest.param(
        None, [clinic("a", 1, 230)], None, "", None, False, id="R2.1-day-1-is-not-baseline"
    ),
    pytest.param(
        None,
        [clinic("a", -5, 250), clinic("b", -1, None)],
        250,
        "visit",
        "a",
        False,
        id="R2.1-visit-without-cdai-ignored",
    ),
    pytest.param(
        224,
        [clinic("a", -3, 230)],
        224,
        "recorded",
        "a",
        True,
        id="R2.1-recorded-and-visit-differ-warning",
    ),
    pytest.param(
        230,
        [clinic("a", -3, 230)],
        230,
        "recorded",
        "a",
        False,
        id="R2.1-recorded-and-visit-equal-no-warning",
    ),
    pytest.param(
        Decimal("229.6"),
        [clinic("a", -3, 230)],
        230,
        "recorded",
        "a",
        False,
        id="R2.1-recorded-229.6-rounds-to-visit-230-no-warning",
    ),
    pytest.param(None, [], None, "", None, False, id="R2.1-neither-no-baseline"),
    pytest.param(
        None,
        [clinic("a", -2, 260), clinic("b", -2, 240)],
        240,
        "visit",
        "b",
        True,
        id="R2.1-two-cdais-same-latest-day-lower-taken-and-warned",
    ),
]


@pytest.mark.parametrize("recorded, visits, cdai, source, visit_key, warned", BASELINE_CASES)
def test_r2_1_baseline_cdai(recorded, visits, cdai, source, visit_key, warned):
    result = baseline_cdai(recorded=recorded, visits=visits, start_date=START)
    assert result.cdai == cdai
    assert result.source == source
    assert result.visit_key == visit_key
    assert bool(result.warning) is warned
    assert result.rule == "R2.1"
    assert "(R2.1)" in result.reason


def test_r2_1_warning_names_both_values():
    result = baseline_cdai(recorded=224, visits=[clinic("a", -3, 230)], start_date=START)
    assert "224" in result.warning and "230" in result.warning
    assert "2020-12-29" in result.warning  # day -3


def test_r2_1_no_baseline_reason_says_statuses_are_empty():
    result = baseline_cdai(recorded=None, visits=[], start_date=START)
    assert "statuses are empty" in result.reason


# ---------------------------------------------------------------------------
# R2.2 clinical status: one visit at day 28
# ---------------------------------------------------------------------------

# (baseline, visit CDAI, thresholds, expected status)
STATUS_CASES = [
    pytest.param(224, 132, {}, "remission", id="R2.2-CDAI-132-delta-92-remission"),
    pytest.param(224, 154, {}, "response", id="R2.2-delta-exactly-70-response"),
    pytest.param(224, 155, {}, "no_response", id="R2.2-delta-69-no-response"),
    pytest.param(224, 150, {}, "response", id="R2.2-CDAI-150-delta-74-response-not-remission"),
    pytest.param(224, 149, {}, "remission", id="R2.2-CDAI-149-delta-75-remission"),
    pytest.param(200, 130, {}, "remission", id="R2.2-CDAI-130-delta-exactly-70-remission"),
    pytest.param(200, 140, {}, "no_response", id="R2.2-CDAI-140-delta-60-below-150-not-remission"),
    pytest.param(224, 224, {}, "no_response", id="R2.2-equal-to-baseline-no-response"),
    pytest.param(224, 250, {}, "no_response", id="R2.2-above-baseline-no-response"),
    pytest.param(
        224,
        170,
        {"response_drop": 50},
        "response",
        id="R2.2-configurable-drop-50-delta-54-response",
    ),
    pytest.param(
        224,
        120,
        {"remission_below": 100},
        "response",
        id="R2.2-configurable-remission-below-100-CDAI-120-response",
    ),
]


@pytest.mark.parametrize("base, cdai, thresholds, expected", STATUS_CASES)
def test_r2_2_status(base, cdai, thresholds, expected):
    (result,) = statuses_of(
        visits=[clinic("v", 28, cdai)],
        baseline=course_baseline(base),
        start_date=START,
        as_of=FAR_AS_OF,
        **thresholds,
    )
    assert result.key == "v"
    assert result.status == expected
    assert result.rule == "R2.2"
    assert "(R2.2)" in result.reason


@pytest.mark.parametrize(
    "base, cdai, sentence",
    [
        pytest.param(
            224,
            132,
            "CDAI 132: below 150 and 92 below baseline 224 → remission (R2.2)",
            id="R2.2-remission-reason",
        ),
        pytest.param(
            224,
            150,
            "CDAI 150: 74 below baseline 224 (at least 70) but not below 150 → response (R2.2)",
            id="R2.2-response-reason",
        ),
        pytest.param(
            224,
            155,
            "CDAI 155: only 69 below baseline 224 (less than 70) → no response (R2.2)",
            id="R2.2-no-response-reason",
        ),
        pytest.param(
            224,
            250,
            "CDAI 250: 26 above baseline 224 → no response (R2.2)",
            id="R2.2-above-baseline-reason",
        ),
    ],
)
def test_r2_2_reason_reads_with_the_numbers(base, cdai, sentence):
    (result,) = statuses_of(
        visits=[clinic("v", 28, cdai)],
        baseline=course_baseline(base),
        start_date=START,
        as_of=FAR_AS_OF,
    )
    assert sentence in result.reason


# ---------------------------------------------------------------------------
# R2.1 who gets a status
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "visit, base, start, rule, reason_part",
    [
        pytest.param(
            clinic("v", 0, 100),
            224,
            START,
            "R2.1",
            "from day 1 on",
            id="R2.1-day-0-visit-no-status",
        ),
        pytest.param(
            clinic("v", -3, 100),
            224,
            START,
            "R2.1",
            "from day 1 on",
            id="R2.1-day-minus-3-no-status",
        ),
        pytest.param(
            phone("v", 28, 100), 224, START, "R2.1", "clinic visits only", id="R2.1-phone-no-status"
        ),
        pytest.param(
            clinic("v", 28, 100),
            None,
            START,
            "R2.1",
            "no baseline CDAI: statuses are empty (R2.1)",
            id="R2.1-no-baseline-empty",
        ),
        pytest.param(
            clinic("v", 28, 100),
            224,
            None,
            "R2.1",
            "no thalidomide start date",
            id="R2.1-no-start-date",
        ),
        pytest.param(
            clinic("v", 28, None),
            224,
            START,
            "R2.2",
            "no CDAI",
            id="R2.2-clinic-visit-without-cdai",
        ),
    ],
)
def test_r2_1_no_status(visit, base, start, rule, reason_part):
    (result,) = statuses_of(
        visits=[visit], baseline=course_baseline(base), start_date=start, as_of=FAR_AS_OF
    )
    assert result.status == ""
    assert result.rule == rule
    assert reason_part in result.reason


def test_r2_1_day_1_gets_a_status():
    (result,) = statuses_of(
        visits=[clinic("v", 1, 100)],
        baseline=course_baseline(224),
        start_date=START,
        as_of=FAR_AS_OF,
    )
    assert result.status == "remission"


def test_records_after_as_of_are_ignored():
    visits = [clinic("a", 14, 200), clinic("b", 28, 120), clinic("c", 42, 200)]
    results = statuses_of(
        visits=visits, baseline=course_baseline(300), start_date=START, as_of=day(41)
    )
    assert [r.key for r in results] == ["a", "b"]


def test_results_in_date_order_stable_for_same_date():
    visits = [clinic("late", 42, 200), clinic("same1", 28, 210), clinic("same2", 28, 220)]
    results = statuses_of(
        visits=visits, baseline=course_baseline(300), start_date=START, as_of=FAR_AS_OF
    )
    assert [r.key for r in results] == ["same1", "same2", "late"]


# ---------------------------------------------------------------------------
# R2.3 relapse: sequences of visits, (status, maintenance, nadir) per visit
# ---------------------------------------------------------------------------

RELAPSE_CASES = [
    pytest.param(
        300,
        [clinic(1, 14, 200), clinic(2, 28, 120), clinic(3, 42, 200)],
        # 200 vs baseline 300 would be a response (Δ 100); against the nadir 120 it is
        # above 150 and above 120 + 70 = 190 → relapse.
        [("response", True, None), ("remission", True, 200), ("relapse", True, 120)],
        id="R2.3-relapse-measured-from-nadir-not-baseline",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 200), clinic(2, 28, 81), clinic(3, 42, 151), clinic(4, 56, 152)],
        # nadir 81: 81 + 70 = 151; 151 is not > 151 → R2.2 Δ 149, CDAI 151 → response;
        # 152 > 151 → relapse.
        [
            ("response", True, None),
            ("remission", True, 200),
            ("response", True, 81),
            ("relapse", True, 81),
        ],
        id="R2.3-CDAI-151-at-nadir-plus-70-not-relapse-152-is",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 200), clinic(2, 28, 70), clinic(3, 42, 150)],
        # 150 > 70 + 70 but 150 is not > 150 → R2.2 Δ 150, not below 150 → response.
        [("response", True, None), ("remission", True, 200), ("response", True, 70)],
        id="R2.3-CDAI-exactly-150-not-relapse",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 200), clinic(2, 28, 90, "fistula")],
        [("response", True, None), ("relapse", True, 200)],
        id="R2.3-relapse-by-event-at-CDAI-90",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 200), clinic(2, 28, None, "endoscopic")],
        [("response", True, None), ("relapse", True, 200)],
        id="R2.3-relapse-by-event-without-CDAI",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 260, "abscess"), clinic(2, 28, 200)],
        # Δ 40 → no response; not yet in the maintenance phase → the event is no relapse.
        [("no_response", False, None), ("response", True, None)],
        id="R2.3-event-before-any-response-not-relapse",
    ),
    pytest.param(
        300,
        [clinic(1, 14, None, "obstruction")],
        [("", False, None)],
        id="R2.3-event-without-CDAI-before-response-no-status",
    ),
    pytest.param(
        300,
        [
            clinic(1, 14, 200),  # Δ 100 response: episode 1
            clinic(2, 28, 100),  # Δ 200 remission; nadir 200
            clinic(3, 42, 180),  # nadir 100: 180 > 150 and > 170 → relapse
            clinic(4, 56, 260),  # suspended: Δ 40 no response (vs old nadir 100 it would relapse)
            clinic(5, 70, 240),  # suspended: Δ 60 no response
            clinic(6, 84, 220),  # Δ 80 response: episode 2, nadir reset
            clinic(7, 98, 250),  # nadir 220: 250 not > 290; Δ 50 → no response
            clinic(8, 112, 291),  # 291 > 150 and > 290 → relapse
        ],
        [
            ("response", True, None),
            ("remission", True, 200),
            ("relapse", True, 100),
            ("no_response", False, None),
            ("no_response", False, None),
            ("response", True, None),
            ("no_response", True, 220),
            ("relapse", True, 220),
        ],
        id="R2.3-suspended-after-relapse-then-new-episode-resets-nadir",
    ),
    pytest.param(
        300,
        [
            clinic(1, 14, 200),
            clinic(2, 28, 280),
            clinic(3, 42, 260, "obstruction"),
            clinic(4, 56, 200),
        ],
        # 280 > 200 + 70 → relapse; at 260 the CDAI criterion is suspended but a relapse
        # event in the maintenance phase is still a relapse; 200 (Δ 100) opens episode 2.
        [
            ("response", True, None),
            ("relapse", True, 200),
            ("relapse", False, None),
            ("response", True, None),
        ],
        id="R2.3-event-while-suspended-still-relapse",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 200, "fistula"), clinic(2, 28, 180), clinic(3, 42, 260)],
        # The first response visit is in the maintenance phase → its event makes it a
        # relapse; 180 (Δ 120) opens episode 2; 260 > 180 + 70 = 250 → relapse.
        [("relapse", True, None), ("response", True, None), ("relapse", True, 180)],
        id="R2.3-event-at-first-response-visit",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 200), phone(2, 21, 50), clinic(3, 28, 260)],
        # The phone CDAI 50 is not a visit: nadir stays 200; 260 not > 270; Δ 40.
        [("response", True, None), ("", False, None), ("no_response", True, 200)],
        id="R2.3-phone-contact-does-not-set-nadir",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 200), clinic(2, 28, None), clinic(3, 42, 280)],
        # A visit without a CDAI keeps the episode and the nadir 200; 280 > 270 → relapse.
        [("response", True, None), ("", True, 200), ("relapse", True, 200)],
        id="R2.3-visit-without-CDAI-in-maintenance",
    ),
    pytest.param(
        300,
        [clinic(1, 14, 230), clinic(2, 28, 200), clinic(3, 42, 160)],
        # Δ 70 response at 230; nadir 230 then 200; 160 not > 270 → Δ 140 response.
        [("response", True, None), ("response", True, 230), ("response", True, 200)],
        id="R2.3-falling-CDAI-no-relapse",
    ),
]


@pytest.mark.parametrize("base, visits, expected", RELAPSE_CASES)
def test_r2_3_relapse_sequences(base, visits, expected):
    results = statuses_of(
        visits=visits, baseline=course_baseline(base), start_date=START, as_of=FAR_AS_OF
    )
    assert [(r.status, r.maintenance, r.nadir) for r in results] == expected
    for result in results:
        if result.status == "relapse":
            assert result.rule == "R2.3"
            assert "→ relapse (R2.3)" in result.reason


@pytest.mark.parametrize("base, cdai, thresholds, expected", STATUS_CASES)
def test_r2_2_status_without_reasons(base, cdai, thresholds, expected):
    """The cohort report's walk (explain=False): the same hand-worked statuses, no reason."""
    (result,) = statuses_of(
        visits=[clinic("v", 28, cdai)], baseline=course_baseline(base), start_date=START, as_of=FAR_AS_OF,
        explain=False, **thresholds,
    )
    assert (result.key, result.status, result.rule, result.reason) == ("v", expected, "R2.2", "")
    rules = {"remission_below": RULES.remission_cdai_below, "response_drop": RULES.response_cdai_drop, **thresholds}
    assert status_of(cdai, base, rules["remission_below"], rules["response_drop"]) == expected


@pytest.mark.parametrize("base, visits, expected", RELAPSE_CASES)
def test_r2_3_relapse_sequences_without_reasons(base, visits, expected):
    results = statuses_of(
        visits=visits, baseline=course_baseline(base), start_date=START, as_of=FAR_AS_OF, explain=False
    )
    assert [(r.status, r.maintenance, r.nadir) for r in results] == expected
    assert {r.reason for r in results} == {""}
    assert [r.rule for r in results] == [
        r.rule for r in statuses_of(visits=visits, baseline=course_baseline(base), start_date=START, as_of=FAR_AS_OF)
    ]


@pytest.mark.parametrize("visits, base, start", [
    pytest.param([phone(1, 28, 100), clinic(2, 0, 100), clinic(3, 28, 120)], 224, START, id="phone-day-0-judged"),
    pytest.param([clinic(1, 28, 100)], None, START, id="no-baseline"),
    pytest.param([clinic(1, 28, 100)], 224, None, id="no-start"),
])
def test_unjudged_visits_without_reasons(visits, base, start):
    """Phone contacts, day < 1, no baseline, no start: no status (R2.1), and no reason said."""
    results = statuses_of(visits=visits, baseline=course_baseline(base), start_date=start, as_of=FAR_AS_OF,
                          explain=False)
    explained = statuses_of(visits=visits, baseline=course_baseline(base), start_date=start, as_of=FAR_AS_OF)
    assert [(r.key, r.status, r.rule) for r in results] == [(r.key, r.status, r.rule) for r in explained]
    assert {r.reason for r in results} == {""}
    assert all(r.reason for r in explained)


def test_r2_3_cdai_relapse_reason():
    visits = [clinic(1, 59, 200), clinic(2, 73, 150), clinic(3, 87, 260)]
    results = statuses_of(
        visits=visits, baseline=course_baseline(300), start_date=START, as_of=FAR_AS_OF
    )
    assert results[2].reason == (
        "CDAI 260: above 150 and 110 above the nadir 150 since the response on 2021-03-01 "
        "→ relapse (R2.3)"
    )


def test_r2_3_event_relapse_reason():
    visits = [clinic(1, 14, 200), clinic(2, 28, 90, "fistula")]
    results = statuses_of(
        visits=visits, baseline=course_baseline(300), start_date=START, as_of=FAR_AS_OF
    )
    assert results[1].reason == (
        "Relapse event recorded (fistula) in the maintenance phase → relapse (R2.3)"
    )


def test_r2_3_event_before_response_is_explained():
    (result,) = statuses_of(
        visits=[clinic(1, 14, 260, "abscess")],
        baseline=course_baseline(300),
        start_date=START,
        as_of=FAR_AS_OF,
    )
    assert "abscess" in result.reason and "not a relapse" in result.reason


def test_r2_3_configurable_thresholds_apply_to_the_relapse_criterion():
    # remission_below 100, response_drop 50: nadir 150; 201 > 100 and > 200 → relapse.
    visits = [clinic(1, 14, 150), clinic(2, 28, 201)]
    results = statuses_of(
        visits=visits,
        baseline=course_baseline(300),
        start_date=START,
        as_of=FAR_AS_OF,
        remission_below=100,
        response_drop=50,
    )
    assert [r.status for r in results] == ["response", "relapse"]


def test_r2_3_later_visit_after_as_of_does_not_relapse():
    visits = [clinic(1, 14, 200), clinic(2, 28, 120), clinic(3, 42, 200)]
    results = statuses_of(
        visits=visits, baseline=course_baseline(300), start_date=START, as_of=day(28)
    )
    assert [r.status for r in results] == ["response", "remission"]


# ---------------------------------------------------------------------------
# R2.1 / R2.4 endoscopic baseline
# ---------------------------------------------------------------------------


def endo(key, n, cdeis=None, rutgeerts=None, ulceration=None, ses_cd=None):
    return EndoObs(
        key=key,
        date=day(n),
        cdeis=None if cdeis is None else Decimal(cdeis),
        ses_cd=ses_cd,
        rutgeerts=rutgeerts,
        ulceration=ulceration,
    )


@pytest.mark.parametrize(
    "endoscopies, score, expected_key",
    [
        pytest.param([endo("a", -91, "12.0")], "cdeis", None, id="R2.1-endo-day-minus-91-outside"),
        pytest.param([endo("a", -90, "12.0")], "cdeis", "a", id="R2.1-endo-day-minus-90-inside"),
        pytest.param([endo("a", 14, "12.0")], "cdeis", "a", id="R2.1-endo-day-14-inside"),
        pytest.param([endo("a", 15, "12.0")], "cdeis", None, id="R2.1-endo-day-15-outside"),
        pytest.param(
            [endo("a", -30, "12.0"), endo("b", 10, "9.0")],
            "cdeis",
            "b",
            id="R2.1-endo-nearest-day-0",
        ),
        pytest.param(
            [endo("late", 5, "9.0"), endo("early", -5, "12.0")],
            "cdeis",
            "early",
            id="R2.1-endo-tie-the-earlier",
        ),
        pytest.param(
            [endo("a", -2, rutgeerts=3), endo("b", -20, "12.0")],
            "cdeis",
            "b",
            id="R2.1-endo-must-carry-the-score",
        ),
        pytest.param(
            [endo("a", -2, rutgeerts=3), endo("b", -20, "12.0")],
            "rutgeerts",
            "a",
            id="R2.1-endo-rutgeerts-baseline",
        ),
        pytest.param(
            [endo("a", -2, ses_cd=14), endo("b", -20, "12.0")],
            "ses_cd",
            "a",
            id="R2.1-endo-ses-cd-baseline",
        ),
    ],
)
def test_r2_1_endoscopic_baseline(endoscopies, score, expected_key):
    result = endoscopic_baseline(endoscopies=endoscopies, start_date=START, score=score)
    assert (None if result is None else result.key) == expected_key


# ---------------------------------------------------------------------------
# R2.4 endoscopic outcomes: baseline endoscopy and one follow-up at day 180
# ---------------------------------------------------------------------------

# (endoscopies, kwargs, expected (remission, response, complete remission, mucosal healing))
ENDO_CASES = [
    pytest.param(
        [endo("b", -10, "12.0"), endo("f", 180, "6.9")],
        {},
        (True, True, False, None),  # 6.9 < 7; 12.0 - 6.9 = 5.1 > 5; 6.9 not < 3
        id="R2.4-CDEIS-6.9-remission-decrease-5.1-response",
    ),
    pytest.param(
        [endo("b", -10, "12.0"), endo("f", 180, "7.0")],
        {},
        (False, False, False, None),  # 7.0 not < 7; decrease exactly 5.0 is not > 5
        id="R2.4-CDEIS-7.0-not-remission-decrease-exactly-5-not-response",
    ),
    pytest.param(
        [endo("b", -10, "5.5"), endo("f", 180, "0.4")],
        {},
        (True, None, True, None),  # baseline 5.5 < 6 → response not evaluable
        id="R2.4-baseline-CDEIS-below-6-response-not-evaluable",
    ),
    pytest.param(
        [endo("b", -10, "6.0"), endo("f", 180, "0.9")],
        {},
        (True, True, True, None),  # baseline exactly 6; decrease 5.1
        id="R2.4-baseline-CDEIS-exactly-6-response",
    ),
    pytest.param(
        [endo("f", 30, "2.9")],
        {},
        (True, None, True, None),  # no baseline: judged as after day 0
        id="R2.4-no-baseline-CDEIS-2.9-complete-remission",
    ),
    pytest.param(
        [endo("b", -10, "12.0"), endo("f", 180, "3.0")],
        {},
        (True, True, False, None),  # 3.0 not < 3; 12.0 - 3.0 = 9.0
        id="R2.4-CDEIS-3.0-not-complete-remission",
    ),
    pytest.param(
        [endo("b", -30, rutgeerts=2), endo("f", 180, rutgeerts=1)],
        {},
        (True, None, None, None),
        id="R2.4-Rutgeerts-1-from-baseline-2-remission",
    ),
    pytest.param(
        [endo("b", -30, rutgeerts=3), endo("f", 180, rutgeerts=2)],
        {},
        (False, None, None, None),
        id="R2.4-Rutgeerts-2-from-baseline-3-no-remission",
    ),
    pytest.param(
        [endo("b", -30, rutgeerts=1), endo("f", 180, rutgeerts=0)],
        {},
        (None, None, None, None),  # baseline Rutgeerts 1 < 2 → criterion does not apply
        id="R2.4-Rutgeerts-from-baseline-1-not-used",
    ),
    pytest.param(
        [endo("b", -30, "9.0", rutgeerts=3), endo("f", 180, "8.0", rutgeerts=0)],
        {},
        (True, False, False, None),  # CDEIS 8.0 fails, Rutgeerts 0 from 3 meets → remission
        id="R2.4-Rutgeerts-meets-though-CDEIS-fails",
    ),
    pytest.param(
        [endo("b", -10, "12.0", ulceration=True), endo("f", 180, "4.0", ulceration=False)],
        {},
        (True, True, False, True),
        id="R2.4-no-ulceration-mucosal-healing",
    ),
    pytest.param(
        [endo("b", -10, "12.0", ulceration=True), endo("f", 180, "4.0", ulceration=True)],
        {},
        (True, True, False, False),
        id="R2.4-ulceration-no-mucosal-healing",
    ),
    pytest.param(
        [endo("b", -10, "12.0"), endo("f", 180, "6.9")],
        {"cdeis_remission_below": Decimal("5")},
        (False, True, False, None),
        id="R2.4-configurable-CDEIS-5-6.9-not-remission",
    ),
    pytest.param(
        [endo("b", -91, "12.0"), endo("f", 180, "8.0")],
        {},
        (False, None, False, None),  # day -91 is no baseline → response not evaluable
        id="R2.4-endoscopy-at-day-minus-91-is-no-baseline",
    ),
]


@pytest.mark.parametrize("endoscopies, kwargs, expected", ENDO_CASES)
def test_r2_4_endoscopic_outcomes(endoscopies, kwargs, expected):
    (result,) = endoscopic_outcomes_of(
        endoscopies=endoscopies, start_date=START, as_of=FAR_AS_OF, **kwargs
    )
    assert result.key == "f"
    assert (
        result.remission,
        result.response,
        result.complete_remission,
        result.mucosal_healing,
    ) == expected
    assert result.reasons and all("(R2.4)" in reason for reason in result.reasons)


@pytest.mark.parametrize(
    "endoscopies, as_of, expected_keys",
    [
        pytest.param(
            [endo("b", -10, "12.0"), endo("f1", 90, "8.0"), endo("f2", 200, "5.0")],
            day(150),
            ["f1"],
            id="R2.4-endoscopy-after-as-of-ignored",
        ),
        pytest.param(
            [endo("f2", 200, "5.0"), endo("f1", 90, "8.0"), endo("b", -10, "12.0")],
            FAR_AS_OF,
            ["f1", "f2"],
            id="R2.4-baseline-not-judged-results-in-date-order",
        ),
        pytest.param(
            [endo("early", -10, "12.0"), endo("late", 10, "11.0")],
            FAR_AS_OF,
            ["late"],
            id="R2.4-tie-day-minus-10-is-baseline-day-10-is-judged",
        ),
        pytest.param(
            [endo("pre", -5, ulceration=False), endo("f", 30, ulceration=False)],
            FAR_AS_OF,
            ["f"],
            id="R2.4-no-baseline-only-after-day-0",
        ),
        pytest.param(
            [endo("b", 5, "12.0"), endo("f", 30, "4.0")],
            day(20),
            [],
            id="R2.4-nothing-after-baseline-by-as-of",
        ),
    ],
)
def test_r2_4_which_endoscopies_are_judged(endoscopies, as_of, expected_keys):
    results = endoscopic_outcomes_of(endoscopies=endoscopies, start_date=START, as_of=as_of)
    assert [r.key for r in results] == expected_keys


def test_r2_4_response_reason_has_the_numbers():
    (result,) = endoscopic_outcomes_of(
        endoscopies=[endo("b", -10, "12.0"), endo("f", 180, "6.9")],
        start_date=START,
        as_of=FAR_AS_OF,
    )
    assert any("12.0" in r and "6.9" in r and "5.1" in r for r in result.reasons)


# ---------------------------------------------------------------------------
# R2.5 treatment failure
# ---------------------------------------------------------------------------

HBI_DAY = 100

# (HBI, calprotectins as (day, value), expected status)
CD_FAILURE_CASES = [
    pytest.param(5, [(102, "251")], "failure", id="R2.5-HBI-5-calprotectin-251-failure"),
    pytest.param(5, [(102, "250")], "no_failure", id="R2.5-HBI-5-calprotectin-250-no-failure"),
    pytest.param(4, [(100, "900")], "no_failure", id="R2.5-HBI-4-no-failure"),
    pytest.param(
        5, [(115, "900")], "not_evaluable", id="R2.5-calprotectin-15-days-after-not-evaluable"
    ),
    pytest.param(
        5, [(85, "900")], "not_evaluable", id="R2.5-calprotectin-15-days-before-not-evaluable"
    ),
    pytest.param(5, [(86, "300")], "failure", id="R2.5-calprotectin-14-days-before-counts"),
    pytest.param(5, [(114, "300")], "failure", id="R2.5-calprotectin-14-days-after-counts"),
    pytest.param(
        5, [(90, "900"), (103, "100")], "no_failure", id="R2.5-nearest-chosen-3-days-over-10"
    ),
    pytest.param(5, [(98, "300"), (109, "100")], "failure", id="R2.5-nearest-chosen-2-days-over-9"),
    pytest.param(
        5, [(97, "200"), (103, "260")], "failure", id="R2.5-tie-3-days-either-side-higher-reading"
    ),
    pytest.param(None, [(100, "900")], "not_evaluable", id="R2.5-missing-HBI-not-evaluable"),
    pytest.param(2, [], "not_evaluable", id="R2.5-missing-calprotectin-low-HBI-not-evaluable"),
    pytest.param(
        2, [(115, "20")], "not_evaluable", id="R2.5-low-HBI-calprotectin-outside-not-evaluable"
    ),
]


@pytest.mark.parametrize("hbi, calprotectins, expected", CD_FAILURE_CASES)
def test_r2_5_treatment_failure_cd(hbi, calprotectins, expected):
    result = treatment_failure_cd(
        hbi=hbi,
        hbi_date=day(HBI_DAY),
        calprotectins=[(day(n), Decimal(value)) for n, value in calprotectins],
    )
    assert result.status == expected
    assert result.rule == "R2.5"
    assert "(R2.5)" in result.reason


def test_r2_5_failure_reason_names_values():
    result = treatment_failure_cd(
        hbi=5, hbi_date=day(HBI_DAY), calprotectins=[(day(102), Decimal("251"))]
    )
    assert "HBI 5" in result.reason
    assert "calprotectin 251 µg/g on 2021-04-13" in result.reason  # day 102


def test_r2_5_tie_is_commented():
    result = treatment_failure_cd(
        hbi=5,
        hbi_date=day(HBI_DAY),
        calprotectins=[(day(97), Decimal("200")), (day(103), Decimal("260"))],
    )
    assert "calprotectin 260" in result.reason and "safer" in result.reason


def test_r2_5_calprotectin_after_as_of_ignored():
    result = treatment_failure_cd(
        hbi=5,
        hbi_date=day(HBI_DAY),
        calprotectins=[(day(105), Decimal("900"))],
        as_of=day(102),
    )
    assert result.status == "not_evaluable"


@pytest.mark.parametrize(
    "mayo, endoscopic, expected",
    [
        pytest.param(6, 2, "failure", id="R2.5-UC-Mayo-6-endoscopic-2-failure"),
        pytest.param(5, 2, "no_failure", id="R2.5-UC-Mayo-5-no-failure"),
        pytest.param(6, 1, "no_failure", id="R2.5-UC-endoscopic-1-no-failure"),
        pytest.param(12, 3, "failure", id="R2.5-UC-Mayo-12-endoscopic-3-failure"),
        pytest.param(None, 2, "not_evaluable", id="R2.5-UC-missing-Mayo-not-evaluable"),
        pytest.param(2, None, "not_evaluable", id="R2.5-UC-missing-endoscopic-not-evaluable"),
    ],
)
def test_r2_5_treatment_failure_uc(mayo, endoscopic, expected):
    result = treatment_failure_uc(mayo=mayo, mayo_endoscopic=endoscopic)
    assert result.status == expected
    assert result.rule == "R2.5"
    assert "(R2.5)" in result.reason


# ---------------------------------------------------------------------------
# R2.6 paediatric efficacy
#
# Month windows (30.4375 × m ± 14, whole days inside):
#   month 3: day 91.3125  → days 78–105      month 6: day 182.625  → days 169–196
#   month 9: day 273.9375 → days 260–287     month 12: day 365.25  → days 352–379
# ---------------------------------------------------------------------------

ACTIVE = PaedBaseline(activity_score=Decimal("10"), crp=Decimal("20"), esr=Decimal("30"))
NORMAL_LABS = PaedBaseline(activity_score=Decimal("10"), crp=Decimal("3"), esr=Decimal("10"))
NO_LABS = PaedBaseline(activity_score=Decimal("10"), crp=None, esr=None)


def paed(n, score=None, global_="", crp=None, esr=None, therapy=""):
    return PaedVisit(
        date=day(n),
        activity_score=None if score is None else Decimal(score),
        global_assessment=global_,
        crp=None if crp is None else Decimal(crp),
        esr=None if esr is None else Decimal(esr),
        background_therapy=therapy,
    )


# One visit at day 91, as_of day 110: only month 3 (its window closed at 105.3125).
# (baseline, visit, expected domains (D1, D2, D3), expected status)
PAED_CASES = [
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="5", esr="10", therapy="unchanged"),
        ("met", "met", "not_worse"),
        "effective",
        id="R2.6-two-met-third-not-worse-effective",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="5", esr="10", therapy="stopped"),
        ("met", "met", "met"),
        "effective",
        id="R2.6-three-met-effective",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="5", esr="10", therapy="increased"),
        ("met", "met", "worse"),
        "not_effective",
        id="R2.6-two-met-third-worse-not-effective",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "10", crp="5", esr="10", therapy="unchanged"),
        ("not_worse", "met", "not_worse"),
        "not_effective",
        id="R2.6-one-met-not-effective",
    ),
    pytest.param(
        NORMAL_LABS,
        paed(91, "4", crp="2", esr="12", therapy="reduced"),
        ("met", "not_worse", "met"),
        "effective",
        id="R2.6-D2-normal-at-baseline-and-still-normal-not-worse",
    ),
    pytest.param(
        NORMAL_LABS,
        paed(91, "4", crp="2", esr="12", therapy="unchanged"),
        ("met", "not_worse", "not_worse"),
        "not_effective",
        id="R2.6-D2-normal-at-baseline-is-not-met",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="8", esr="20", therapy="unchanged"),
        ("met", "met", "not_worse"),
        "effective",
        id="R2.6-D2-CRP-8-ESR-20-normal",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="9", esr="10", therapy="reduced"),
        ("met", "not_worse", "met"),
        "effective",
        id="R2.6-D2-CRP-9-abnormal-but-below-baseline-not-worse",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="25", esr="10", therapy="reduced"),
        ("met", "worse", "met"),
        "not_effective",
        id="R2.6-D2-CRP-25-above-baseline-20-worse",
    ),
    pytest.param(
        ACTIVE,
        paed(91, global_="improved", crp="5", esr="10", therapy="unchanged"),
        ("met", "met", "not_worse"),
        "effective",
        id="R2.6-D1-clinician-global-improved",
    ),
    pytest.param(
        ACTIVE,
        paed(91, global_="worse", crp="5", esr="10", therapy="reduced"),
        ("worse", "met", "met"),
        "not_effective",
        id="R2.6-D1-clinician-global-worse",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "12", crp="5", esr="10", therapy="reduced"),
        ("worse", "met", "met"),
        "not_effective",
        id="R2.6-D1-score-above-baseline-worse",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", global_="worse", crp="5", esr="10", therapy="reduced"),
        ("worse", "met", "met"),
        "not_effective",
        id="R2.6-D1-score-better-global-worse-worse-wins",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="5", esr="10"),
        ("met", "met", "unknown"),
        "not_evaluable",
        id="R2.6-D3-unknown-not-called-effective",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "12", crp="5", esr="10"),
        ("worse", "met", "unknown"),
        "not_effective",
        id="R2.6-D1-worse-decides-despite-unknown",
    ),
    pytest.param(
        ACTIVE,
        paed(91, crp="5", esr="10", therapy="unchanged"),
        ("unknown", "met", "not_worse"),
        "not_evaluable",
        id="R2.6-D1-unknown-not-evaluable",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "10", crp="25", esr="40", therapy="unchanged"),
        ("not_worse", "worse", "not_worse"),
        "not_effective",
        id="R2.6-nothing-met-not-effective",
    ),
    pytest.param(
        ACTIVE,
        paed(91, "4", crp="5", therapy="reduced"),
        ("met", "unknown", "met"),
        "not_evaluable",
        id="R2.6-D2-ESR-missing-unknown",
    ),
    pytest.param(
        PaedBaseline(activity_score=Decimal("10"), crp=Decimal("20"), esr=None),
        paed(91, "4", crp="15", esr="25", therapy="reduced"),
        ("met", "not_met", "met"),
        "not_evaluable",
        id="R2.6-D2-abnormal-baseline-ESR-missing-not-met",
    ),
    pytest.param(
        NO_LABS,
        paed(91, "4", crp="5", esr="10", therapy="unchanged"),
        ("met", "not_worse", "not_worse"),
        "not_evaluable",
        id="R2.6-D2-normal-now-baseline-unknown-not-credited",
    ),
    pytest.param(
        NO_LABS,
        paed(91, "4", crp="5", esr="10", therapy="reduced"),
        ("met", "not_worse", "met"),
        "effective",
        id="R2.6-D2-normal-now-baseline-unknown-two-others-met",
    ),
]


@pytest.mark.parametrize("baseline, visit, domains, status", PAED_CASES)
def test_r2_6_paediatric_efficacy(baseline, visit, domains, status):
    (result,) = paediatric_efficacy(
        baseline=baseline, visits=[visit], start_date=START, as_of=day(110)
    )
    assert result.month == 3
    assert result.visit_date == day(91)
    assert (result.domains["D1"], result.domains["D2"], result.domains["D3"]) == domains
    assert result.status == status
    assert result.rule == "R2.6"
    assert "(R2.6)" in result.reason


GOOD = {"score": "4", "crp": "5", "esr": "10", "therapy": "reduced"}

# (visit days, as_of day, expected [(month, visit day or None, status)])
PAED_WINDOW_CASES = [
    pytest.param([77], 110, [(3, None, "not_evaluable")], id="R2.6-day-77-outside-month-3-window"),
    pytest.param([78], 110, [(3, 78, "effective")], id="R2.6-day-78-inside-month-3-window"),
    pytest.param([105], 110, [(3, 105, "effective")], id="R2.6-day-105-inside-month-3-window"),
    pytest.param(
        [106], 110, [(3, None, "not_evaluable")], id="R2.6-day-106-outside-month-3-window"
    ),
    pytest.param([85, 95], 110, [(3, 95, "effective")], id="R2.6-nearest-95-over-85"),
    pytest.param([91, 92], 110, [(3, 91, "effective")], id="R2.6-day-91-nearer-91.3125-than-92"),
    pytest.param(
        [182, 183],
        200,
        [(3, None, "not_evaluable"), (6, 183, "effective")],
        id="R2.6-month-6-day-183-nearer-182.625-than-182",
    ),
    pytest.param([], 105, [], id="R2.6-window-open-on-day-105-not-reported"),
    pytest.param([], 106, [(3, None, "not_evaluable")], id="R2.6-window-closed-day-106"),
    pytest.param([80], 90, [(3, 80, "effective")], id="R2.6-visit-exists-window-open-reported"),
    pytest.param([95], 94, [], id="R2.6-visit-after-as-of-ignored"),
    pytest.param(
        [91, 183, 274, 365],
        400,
        [
            (3, 91, "effective"),
            (6, 183, "effective"),
            (9, 274, "effective"),
            (12, 365, "effective"),
        ],
        id="R2.6-months-3-6-9-12",
    ),
    pytest.param(
        [260, 287, 352, 379],
        400,
        [
            (3, None, "not_evaluable"),
            (6, None, "not_evaluable"),
            (9, 287, "effective"),  # 287 is 13.0625 from 273.9375, 260 is 13.9375
            (12, 352, "effective"),  # 352 is 13.25 from 365.25, 379 is 13.75
        ],
        id="R2.6-month-9-and-12-window-edges-nearest",
    ),
]


@pytest.mark.parametrize("visit_days, as_of_day, expected", PAED_WINDOW_CASES)
def test_r2_6_assessment_windows(visit_days, as_of_day, expected):
    visits = [
        paed(n, GOOD["score"], crp=GOOD["crp"], esr=GOOD["esr"], therapy=GOOD["therapy"])
        for n in visit_days
    ]
    results = paediatric_efficacy(
        baseline=ACTIVE, visits=visits, start_date=START, as_of=day(as_of_day)
    )
    assert [
        (r.month, None if r.visit_date is None else (r.visit_date - START).days, r.status)
        for r in results
    ] == expected


def test_r2_6_reason_reads_with_the_numbers():
    (result,) = paediatric_efficacy(
        baseline=NORMAL_LABS,
        visits=[paed(91, "4", crp="2", esr="12", therapy="reduced")],
        start_date=START,
        as_of=day(110),
    )
    assert "activity score 4 below baseline 10" in result.reason
    assert "normal at baseline and still normal" in result.reason
    assert "background therapy reduced" in result.reason
    assert "→ effective" in result.reason


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda: clinical_statuses(
                visits=[], baseline=course_baseline(300), start_date=START, as_of=FAR_AS_OF
            ),
            id="R2.2-thresholds",
        ),
        pytest.param(
            lambda: endoscopic_outcomes(endoscopies=[], start_date=START, as_of=FAR_AS_OF),
            id="R2.4-cdeis-remission-below",
        ),
    ],
)
def test_configurable_thresholds_are_required(call):
    with pytest.raises(TypeError):
        call()
