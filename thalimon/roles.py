"""Roles and what each may do: the single map of groups to permissions.

* Clinician: edits clinical data (patients now; visits, doses later).
* Nurse: reads patients (and later works reminders, records tests).
* Clinic lead: reads and reports; never edits clinical data and, having no
  need for them, does not see patients' names (codes only).
* Admin: manages user accounts and their sites in the Django admin; reads patients.
* Network lead: reads the aggregate reports of every site of the network (issue 18):
  the cohort report and the network report, figures and site codes only. No patient
  permission at all: never a name, never a patient page, never an import.

``sync_role_permissions`` makes the groups match this map exactly. It runs
in the data migration ``patients/0002_roles`` and again after every
``migrate`` (post_migrate), so permissions of models added later are given
to the roles without a hand-written migration each time.
"""

from django.utils.translation import gettext_lazy as _

CLINICIAN = "Clinician"
NURSE = "Nurse"
CLINIC_LEAD = "Clinic lead"
ADMIN = "Admin"
NETWORK_LEAD = "Network lead"
ROLE_ORDER = [CLINICIAN, NURSE, CLINIC_LEAD, ADMIN, NETWORK_LEAD]
# The group names are stable keys; these are the names people read.
ROLE_LABELS = {CLINICIAN: _("Clinician"), NURSE: _("Nurse"), CLINIC_LEAD: _("Clinic lead"), ADMIN: _("Admin"),
               NETWORK_LEAD: _("Network lead")}
# The roles an admin (not a superuser) may grant in the user admin: a site's own roles. The
# network lead sees every site's figures side by side, a decision for the whole network, so
# only a superuser grants it (issue 18).
ADMIN_GRANTABLE_ROLES = [CLINICIAN, NURSE, CLINIC_LEAD, ADMIN]

_CLINICAL_MODELS = [
    "therapy.therapycourse",
    "visits.visit",
    "visits.labresult",
    "visits.endoscopy",
    "therapy.dosechange",
    "therapy.pregnancytest",
    "therapy.prescription",
    "safety.adverseevent",
    "safety.adverseeventnote",
    "safety.alert",
    "safety.reminder",
]
# Nurses record pregnancy tests and contraception confirmations; they do not prescribe.
_NURSE_RECORDS = [
    "therapy.add_pregnancytest",
    "therapy.record_contraception",
    "therapy.record_dispensing",  # the dispensed date of a prescription (R9), never the prescription
    "safety.add_adverseevent",
    "safety.change_adverseevent",
    "safety.add_adverseeventnote",
    "safety.change_alert",
    "safety.work_reminder",
]


def _perms(action, models):
    return [f"{m.split('.')[0]}.{action}_{m.split('.')[1]}" for m in models]


_PATIENT_READ = ["patients.view_patient"] + _perms("view", _CLINICAL_MODELS)
_IDENTITY = ["patients.view_patient_identity"]
_CLINICAL_EDIT = (
    ["patients.add_patient", "patients.change_patient"]
    + _perms("add", _CLINICAL_MODELS)
    + _perms("change", _CLINICAL_MODELS)
)

# Clinic leads report and import; admins may import too (interfaces: "Admins and clinic leads").
_REPORTS = ["reports.view_cohort_report", "reports.import_datasheet", "reports.view_importjob"]

# Every role chooses its own language (issue 17).
_OWN_SETTINGS = ["accounts.choose_language"]

ROLE_PERMISSIONS = {
    CLINICIAN: _OWN_SETTINGS + _PATIENT_READ + _IDENTITY + _CLINICAL_EDIT + [
        "therapy.record_contraception", "therapy.record_dispensing", "safety.work_reminder",
        # Clinical decisions: the clinician-owned reminders, dismissing one with a decision,
        # closing an urgent event with a decision (R7, DESIGN rule 7).
        "safety.work_clinician_reminder", "safety.dismiss_reminder", "safety.decide_alert",
        # Moving a patient to another site of the network (issue 18): a clinician of the patient's site.
        "patients.transfer_patient",
    ],
    NURSE: _OWN_SETTINGS + _PATIENT_READ + _IDENTITY + _NURSE_RECORDS,
    CLINIC_LEAD: _OWN_SETTINGS + _PATIENT_READ + _REPORTS,
    ADMIN: _OWN_SETTINGS + _PATIENT_READ
    + ["reports.import_datasheet", "reports.view_importjob"]
    + [
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
        "axes.view_accessfailurelog",
        # Queued work (the outbox): what waits for the broker, and since when.
        "outbox.view_outboxmessage",
        # The daily digest's deliveries: which failed, when the next try is.
        "safety.view_digestdelivery",
        # The nightly scan's runs and chunks (fanned out across the workers): which are unfinished.
        "safety.view_scanrun",
        # Sites and who is a member of which (issue 18): on the user's page, for the
        # sites the admin is a member of; never the admin's own memberships.
        "sites.view_site", "sites.add_site", "sites.change_site",
        "sites.view_membership", "sites.add_membership", "sites.change_membership", "sites.delete_membership",
    ],
    # Aggregates only (issue 18): the cohort report of any site or of the whole network, and
    # the network report (the sites side by side, the funnel plot). Deliberately nothing of
    # _PATIENT_READ: no patient list, page, PDF, reminder or import.
    NETWORK_LEAD: _OWN_SETTINGS + ["reports.view_cohort_report", "reports.view_network_report"],
}


def sync_role_permissions(apps=None):
    """Create the role groups and give each exactly its permissions."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
