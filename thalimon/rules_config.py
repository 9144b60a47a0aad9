"""The one place for the configurable values of clinical-rules.md.

Defaults are those of the specification; a deployment overrides any of
them with ``THALIMON_RULES = {"name": value}`` in settings. Every stored
computed result records ``RULES_VERSION``; a changed threshold changes the
version string, so results computed under other thresholds can be told apart.
"""

from dataclasses import dataclass, fields, replace
from decimal import Decimal

RULES_SPEC_VERSION = "2026.1"


@dataclass(frozen=True)
class RuleSettings:
    # R1.1 CDAI weight term floor
    cdai_weight_floor: Decimal = Decimal("-10")
    # R2.2 clinical status (Li 2020; the default reads the table's ">= 70")
    remission_cdai_below: int = 150
    response_cdai_drop: int = 70
    # R2.4 endoscopic remission (Li 2020)
    cdeis_remission_below: Decimal = Decimal("7")
    # R5.3 contraception after the last dose, days (Li 2020: 6 months; US REMS minimum: 28)
    contraception_period_days: int = 182
    # R2.7 relapse-risk flags (information only)
    risk_crp_at_lor_above: float = 10.0  # mg/L, strictly above
    risk_tgn_at_least: float = 235.0  # pmol/8x10^8 RBC, at or above


def rule_settings():
    """The rule settings in force: defaults overridden by settings.THALIMON_RULES."""
    from django.conf import settings

    overrides = getattr(settings, "THALIMON_RULES", {}) or {}
    known = {f.name for f in fields(RuleSettings)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"THALIMON_RULES has unknown keys: {sorted(unknown)}")
    return replace(RuleSettings(), **overrides)


def rules_version():
    """Spec version plus a marker when any threshold is overridden."""
    from django.conf import settings

    overrides = getattr(settings, "THALIMON_RULES", {}) or {}
    if not overrides:
        return RULES_SPEC_VERSION
    marker = ",".join(f"{k}={overrides[k]}" for k in sorted(overrides))
    return f"{RULES_SPEC_VERSION}+{marker}"
