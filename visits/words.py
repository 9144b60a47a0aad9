"""What people read for the visit rules' codes: one label and one sentence per code.

The codes belong to the pure rules — the R2.2/R2.3 outcome status of a visit
(``visits.outcomes``), the score bands of R1 (``visits.scoring``,
``visits.other_scores``, ``visits.endoscopy_scores``) and the R2.5 treatment-failure
verdict (``visits.efficacy``); this catalogue is the only place their words live.
Pages use them through the ``words`` template filters; the pure chart module is
given the labels by its caller. tests/test_words.py checks every code has both.
"""

from django.utils.translation import gettext_lazy as _

# R2.2/R2.3 clinical status of a visit ("" = no status: no baseline, or before day 1).
STATUSES = {
    "remission": (
        _("Remission"),
        _("CDAI below 150 and at least 70 below the course baseline (R2.2)."),
    ),
    "response": (
        _("Response"),
        _("CDAI at least 70 below the course baseline (R2.2)."),
    ),
    "no_response": (
        _("No response"),
        _("CDAI less than 70 below the course baseline (R2.2)."),
    ),
    "relapse": (
        _("Relapse"),
        _("In the maintenance phase: CDAI above 150 and more than 70 above its lowest, or a relapse event (R2.3)."),
    ),
    "": (
        _("No status"),
        _("No status: no baseline CDAI, no CDAI at this visit, or the visit is before day 1 (R2.1)."),
    ),
}

# R1 score bands (CDAI R1.1, HBI R1.2, Mayo R1.6, AIDAI R1.7, SES-CD R1.4).
BANDS = {
    "remission-range": (_("Remission range"), _("CDAI below 150: in the remission range (R1.1).")),
    "remission": (_("Remission"), _("The score is in its index's remission range (R1.2, R1.6).")),
    "mild": (_("Mild"), _("Mildly active disease by this score's bands.")),
    "moderate": (_("Moderate"), _("Moderately active disease by this score's bands.")),
    "severe": (_("Severe"), _("Severely active disease by this score's bands.")),
    "active": (_("Active"), _("AIDAI 9 or more: active disease (R1.7).")),
    "inactive": (_("Inactive"), _("AIDAI below 9: inactive disease (R1.7).")),
    "SES-CD remission": (_("SES-CD remission"), _("SES-CD below 3 (R1.4).")),
}

# R2.5 treatment failure verdict.
FAILURE_STATUSES = {
    "failure": (_("Treatment failure"), _("HBI 5 or more with calprotectin above 250 µg/g (CD), or Mayo above 5 with endoscopic subscore above 1 (UC) (R2.5).")),
    "no_failure": (_("No treatment failure"), _("The failure criteria are not met (R2.5).")),
    "not_evaluable": (_("Not evaluable"), _("An input is missing, so failure cannot be judged (R2.5).")),
}


# R2.6 paediatric autoinflammatory efficacy at months 3, 6, 9 and 12.
PAED_EFFICACY = {
    "effective": (_("Effective"), _("At least two of the three domains met and none worse (R2.6).")),
    "not_effective": (_("Not effective"), _("Fewer than two domains met, or a domain worse (R2.6).")),
    "not_evaluable": (_("Not evaluable"), _("Missing data decide it, or no clinic visit in the month's window (R2.6).")),
}


# R12 laboratory tests (visits.labs.LAB_TESTS codes): the name a page, form or chart prints.
LAB_TESTS = {
    "crp": _("CRP"),
    "esr": _("ESR"),
    "wbc": _("WBC"),
    "neutrophils": _("Neutrophils"),
    "hemoglobin": _("Haemoglobin"),
    "hematocrit": _("Haematocrit"),
    "platelets": _("Platelets"),
    "mcv": _("MCV"),
    "alt": _("ALT"),
    "ast": _("AST"),
    "albumin": _("Albumin"),
    "creatinine": _("Creatinine"),
    "calprotectin": _("Faecal calprotectin"),
    "tgn": _("6-TGN"),
    "mmp": _("6-MMP"),
}
