"""R2.7 relapse-risk flags at therapy start, from a table worked by hand."""

import pytest

from thalimon.rules_config import RuleSettings
from visits.outcomes import relapse_risk_flags

# The thresholds are configurable (RuleSettings), passed explicitly: CRP > 10, 6-TGN >= 235.
RULES = RuleSettings()
THRESHOLDS = {"crp_above": RULES.risk_crp_at_lor_above, "tgn_at_least": RULES.risk_tgn_at_least}


@pytest.mark.parametrize(
    "crp, tgn, expected_codes",
    [
        (None, None, []),
        (10, None, []),  # CRP > 10: exactly 10 raises no flag
        (10.1, None, ["crp_above_10_at_loss_of_response"]),
        (None, 234.9, []),
        (None, 235, ["tgn_at_least_235_on_aza_monotherapy"]),  # 6-TGN >= 235: 235 flags
        (25.0, 301.5, ["crp_above_10_at_loss_of_response", "tgn_at_least_235_on_aza_monotherapy"]),
    ],
)
def test_r2_7_flags(crp, tgn, expected_codes):
    flags = relapse_risk_flags(crp_at_lor=crp, tgn_on_aza_mono=tgn, **THRESHOLDS)
    assert [flag.code for flag in flags] == expected_codes
    assert all(flag.rule == "R2.7" for flag in flags)


def test_r2_7_reason_names_the_value_and_the_hazard_ratio():
    (flag,) = relapse_risk_flags(crp_at_lor=18.2, tgn_on_aza_mono=None, **THRESHOLDS)
    assert "CRP 18.2 mg/L" in flag.reason
    assert "HR 4.72" in flag.reason


def test_r2_7_thresholds_are_required():
    with pytest.raises(TypeError):
        relapse_risk_flags(crp_at_lor=18.2, tgn_on_aza_mono=None)
