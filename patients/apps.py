from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from thalimon.roles import sync_role_permissions

    sync_role_permissions()


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = "Patients"

    def ready(self):
        # After every migrate, give the roles the permissions of any model
        # added since (the groups themselves come from migration 0002).
        post_migrate.connect(_sync_roles, dispatch_uid="thalimon_sync_roles")
