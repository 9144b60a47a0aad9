"""Sites (clinics of a network) and who is a member of which (issue 18).

Every patient belongs to one site (``Patient.site``); a user sees and opens only the
patients of the sites they are a member of. The rule itself lives beside the
care-team rule, in ``patients.models`` (``PatientQuerySet.visible_to`` /
``Patient.may_be_opened_by``); this app only holds the tables.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# The site made by the migration that introduced sites: an existing clinic's patients
# and users go there, so the clinic works unchanged after upgrading.
MAIN_CODE = "MAIN"
MAIN_NAME = "Main clinic"

SITE_CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$",
    message=_("Site code must be 1–16 letters, digits, '-' or '_', starting with a letter or digit."),
)


class Site(models.Model):
    code = models.CharField(
        _("site code"),
        max_length=16,
        unique=True,
        validators=[SITE_CODE_VALIDATOR],
        help_text=_("A short code, e.g. MAIN or EAST. Used in datasheets and reports."),
    )
    name = models.CharField(_("name"), max_length=200)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="sites", verbose_name=_("members")
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self):
        return f"{self.code} — {self.name}"


class Membership(models.Model):
    """A user's membership of one site: they see and treat that site's patients."""

    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="site_memberships"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["site__code"]
        verbose_name = _("site membership")
        verbose_name_plural = _("site memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site"],
                name="membership_once_per_site",
                violation_error_message=_("This user is already a member of this site."),
            ),
        ]

    def __str__(self):
        return f"{self.user} @ {self.site.code}"
