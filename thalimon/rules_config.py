"""The one place for the configurable values of clinical-rules.md.

Defaults are those of the specification; a deployment overrides any of
them with ``THALIMON_RULES = {"name": value}`` in settings. Every stored
computed result records ``RULES_VERSION``; a changed threshold changes the
version string, so results computed under other thresholds can be told apart.
"""

from dataclasses import dataclass, fields, replace
from decimal import Decimal

RULES_SPEC_VERSION = "2026.2"  # 2026.2: R9 prescriptions


PRESCRIPTION_PROGRAMMES = ("eu_ppp", "us_rems")


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
    # R9.1 prescription programme: "eu_ppp" (EU pregnancy-prevention programme) or "us_rems".
    # The profile's values below are its defaults; each may be overridden on its own
    # (``prescription_<name>``), and any override changes the rules version.
    prescription_programme: str = "eu_ppp"
    # Thalidomide unit strength (R9.1): 25 mg tablets, halves allowed (the Chinese product of
    # Li 2020). EU 50 mg capsules: unit 50, halves not allowed.
    thalidomide_unit_mg: Decimal = Decimal("25")
    thalidomide_unit_halves_allowed: bool = True
    # Per-value overrides of the profile (None = the profile's value, R9.1 table).
    prescription_max_days_reproductive_potential: int | None = None
    prescription_max_days_other: int | None = None
    prescription_test_window_days: int | None = None
    prescription_dispense_days_reproductive_potential: int | None = None
    prescription_dispense_days_other: int | None = None  # 0 = not checked
    prescription_authorisation_required: bool | None = None


def rule_settings():
    """The rule settings in force: defaults overridden by settings.THALIMON_RULES."""
    from django.conf import settings

    overrides = getattr(settings, "THALIMON_RULES", {}) or {}
    known = {f.name for f in fields(RuleSettings)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"THALIMON_RULES has unknown keys: {sorted(unknown)}")
    chosen = replace(RuleSettings(), **overrides)
    if chosen.prescription_programme not in PRESCRIPTION_PROGRAMMES:
        raise ValueError(
            f"THALIMON_RULES prescription_programme must be one of {', '.join(PRESCRIPTION_PROGRAMMES)}, "
            f"got {chosen.prescription_programme!r}"
        )
    return chosen


def rules_version():
    """Spec version plus a marker when any threshold is overridden."""
    from django.conf import settings

    overrides = getattr(settings, "THALIMON_RULES", {}) or {}
    if not overrides:
        return RULES_SPEC_VERSION
    marker = ",".join(f"{k}={overrides[k]}" for k in sorted(overrides))
    return f"{RULES_SPEC_VERSION}+{marker}"
