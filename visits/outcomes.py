"""Pure outcome rules (clinical-rules.md R2).

No Django imports and no clock: plain values in, results carrying the rule
id and a plain-language reason out.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class RiskFlag:
    rule: str
    code: str
    reason: str


def _fmt(value) -> str:
    value = Decimal(str(value)).normalize()
    return format(value, "f")


def relapse_risk_flags(*, crp_at_lor, tgn_on_aza_mono, crp_above=10.0, tgn_at_least=235.0):
    """R2.7 relapse-risk flags at therapy start (information only).

    * CRP > 10 mg/L at loss of response (adjusted HR 4.72, Li 2020)
    * 6-TGN >= 235 on AZA monotherapy (adjusted HR 5.32, Li 2020)

    A missing value raises no flag (the flags inform, they do not gate).
    """
    flags = []
    if crp_at_lor is not None and Decimal(str(crp_at_lor)) > Decimal(str(crp_above)):
        flags.append(
            RiskFlag(
                rule="R2.7",
                code="crp_above_10_at_loss_of_response",
                reason=(
                    f"CRP {_fmt(crp_at_lor)} mg/L at loss of response is above {_fmt(crp_above)} "
                    "mg/L: higher relapse risk (adjusted HR 4.72, Li 2020) (R2.7)"
                ),
            )
        )
    if tgn_on_aza_mono is not None and Decimal(str(tgn_on_aza_mono)) >= Decimal(str(tgn_at_least)):
        flags.append(
            RiskFlag(
                rule="R2.7",
                code="tgn_at_least_235_on_aza_monotherapy",
                reason=(
                    f"6-TGN {_fmt(tgn_on_aza_mono)} pmol/8×10⁸ RBC on azathioprine monotherapy is "
                    f"at or above {_fmt(tgn_at_least)}: higher relapse risk "
                    "(adjusted HR 5.32, Li 2020) (R2.7)"
                ),
            )
        )
    return flags
