"""The ``site`` column of patients.csv (interfaces.md §1, issue 18).

* A cell names a stored site by its code (compared ignoring case). A web import
  (a user) refuses an unknown code and a site the user is not a member of; the
  command line (``actor`` None, the operator's tool) creates an unknown site, with a
  warning, when the datasheet is written.
* An empty cell or no column: a new patient goes to the importing user's only site
  (an error naming the column when the user has several, or none); on the command
  line to the single stored site (else the column is required).
* A stored patient keeps its site: a cell naming another site is refused — an import
  never moves a patient between sites. A stored patient of a site the user is not a
  member of is refused before this (``plan.load`` / ``merging``).
"""

from __future__ import annotations

from patients.models import site_ids_of
from sites.models import SITE_CODE_VALIDATOR, Site
from thalimon.said import join, say

COLUMN = "site"


class SiteResolver:
    def __init__(self, plan):
        self.plan = plan
        self.actor = plan.actor
        self.by_code = {site.code.lower(): site for site in Site.objects.all()}
        self.mine = set(site_ids_of(self.actor)) if self.actor is not None else set(s.pk for s in self.by_code.values())
        self.new_sites = {}  # lower-cased code -> unsaved Site (command line only)

    def _mine_codes(self):
        return join(sorted(s.code for s in self.by_code.values() if s.pk in self.mine), ", ")

    def _default(self, line):
        """The site of a new patient whose row names none, or None (with an error)."""
        findings = self.plan.findings
        if len(self.mine) == 1:
            return next(s for s in self.by_code.values() if s.pk in self.mine)
        if self.actor is None:
            findings.error("patients.csv", line, COLUMN, say(
                "required: there are several sites (%(codes)s); give each new patient's site code",
                codes=self._mine_codes()))
        elif self.mine:
            findings.error("patients.csv", line, COLUMN, say(
                "required: you are a member of several sites (%(codes)s); give each new patient's site code",
                codes=self._mine_codes()))
        else:
            findings.error("patients.csv", line, COLUMN, say(
                "you are a member of no site, so you cannot import patients; ask an admin to add you to your site"))
        return None

    def _named(self, code, line):
        """The site a cell names, or None (with an error)."""
        findings = self.plan.findings
        lower = code.lower()
        site = self.by_code.get(lower) or self.new_sites.get(lower)
        if site is None:
            if self.actor is not None:
                findings.error("patients.csv", line, COLUMN, say(
                    "unknown site '%(code)s'; your sites: %(codes)s", code=code, codes=self._mine_codes()))
                return None
            try:
                SITE_CODE_VALIDATOR(code)
            except Exception:  # noqa: BLE001 - the validator's message is said below
                findings.error("patients.csv", line, COLUMN, say(
                    "'%(code)s' is not a site code: 1–16 letters, digits, '-' or '_'", code=code))
                return None
            site = self.new_sites[lower] = Site(code=code, name=code)
            findings.warn("patients.csv", line, COLUMN, say(
                "site '%(code)s' is not stored: it is created (named '%(code)s'; rename it in the admin)",
                code=code))
            return site
        if site.pk is not None and site.pk not in self.mine:
            findings.error("patients.csv", line, COLUMN, say(
                "you are not a member of site '%(code)s'; your sites: %(codes)s", code=site.code,
                codes=self._mine_codes()))
            return None
        return site

    def resolve(self, row, patient, is_new):
        """Set the site of the row's patient; False when refused (an error is filed)."""
        code = (row.special.get(COLUMN) or "").strip()
        if not is_new:
            if code and code.lower() != self._code_of(patient).lower():
                self.plan.findings.error("patients.csv", row.line, COLUMN, say(
                    "patient '%(patient)s' is stored at site '%(stored)s'; an import never moves a patient "
                    "between sites", patient=patient.code, stored=self._code_of(patient)))
                return False
            return True
        site = self._named(code, row.line) if code else self._default(row.line)
        if site is None:
            return False
        patient.site = site
        return True

    def _code_of(self, patient):
        for site in self.by_code.values():
            if site.pk == patient.site_id:
                return site.code
        return ""

    def save_new_sites(self):
        """The command line's new sites, saved before the patients (``writing``)."""
        for site in self.new_sites.values():
            site.save()
