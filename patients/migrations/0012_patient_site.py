"""Every patient belongs to a site (issue 18): the existing ones (and their history
rows) go to the site ``MAIN`` made by ``sites/0002_main_site``; then the column is
required (0013: a separate transaction, as PostgreSQL will not alter a table with
pending constraint checks)."""

import django.db.models.deletion
from django.db import migrations, models


def to_main_site(apps, schema_editor):
    Site = apps.get_model("sites", "Site")
    site, _ = Site.objects.get_or_create(code="MAIN", defaults={"name": "Main clinic"})
    apps.get_model("patients", "Patient").objects.filter(site__isnull=True).update(site=site)
    # Before sites there was one clinic: its history is that site's history.
    apps.get_model("patients", "HistoricalPatient").objects.filter(site__isnull=True).update(site=site)


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0011_patient_phone'),
        ('sites', '0002_main_site'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalpatient',
            name='site',
            field=models.ForeignKey(blank=True, db_constraint=False, help_text='The clinic that treats the patient. Only its members see the record.', null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sites.site', verbose_name='site'),
        ),
        migrations.AddField(
            model_name='patient',
            name='site',
            field=models.ForeignKey(help_text='The clinic that treats the patient. Only its members see the record.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='patients', to='sites.site', verbose_name='site'),
        ),
        migrations.RunPython(to_main_site, migrations.RunPython.noop),
    ]
