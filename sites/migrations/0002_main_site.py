"""The site of an existing clinic: ``MAIN`` ("Main clinic"), with every existing user a
member, so a clinic works unchanged after upgrading (its patients go there in
``patients/0012_patient_site``). Only rows of this app and auth's users are touched:
no permissions are created here (the roles get theirs after migrate, post_migrate)."""

from django.db import migrations

MAIN_CODE = "MAIN"
MAIN_NAME = "Main clinic"


def main_site(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    Membership = apps.get_model("sites", "Membership")
    User = apps.get_model("auth", "User")
    site, _ = Site.objects.get_or_create(code=MAIN_CODE, defaults={"name": MAIN_NAME})
    Membership.objects.bulk_create(
        [Membership(site=site, user_id=pk) for pk in User.objects.values_list("pk", flat=True)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("sites", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(main_site, migrations.RunPython.noop)]
