"""Reads about patients for pages (HackSoft-style selectors)."""

from thalimon.history import history_entries
from thalimon.rules_config import rule_settings
from visits import outcomes


def relapse_risk_flags(patient):
    """R2.7 flags from the patient's baseline at loss of response."""
    rules = rule_settings()
    return outcomes.relapse_risk_flags(
        crp_at_lor=patient.crp_at_lor,
        tgn_on_aza_mono=patient.tgn_on_aza_mono,
        crp_above=rules.risk_crp_at_lor_above,
        tgn_at_least=rules.risk_tgn_at_least,
    )


def patient_history(patient, *, show_identity):
    hidden = () if show_identity else ("full_name",)
    return history_entries(patient.history.all(), hidden_fields=hidden)
