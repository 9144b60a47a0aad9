"""Reminders and alerts carry their patient's site (issue 18): the column is added empty,
filled from the patient in bulk — the rows and their history rows, one UPDATE a table,
on SQLite as on PostgreSQL — then made required and indexed in 0012 (a separate
transaction, as PostgreSQL will not alter a table with pending constraint checks).

A history row gets the patient's site now, as ``patients/0012_patient_site`` gave every
patient's history rows the site of the clinic."""

import django.db.models.deletion
from django.db import migrations, models

HELP = "Always the patient's site (a copy, for the site users' reads); set from the patient."


def fill_site(apps, schema_editor):
    """``site_id`` = the patient's ``site_id``, for every row of reminders, alerts and their
    history tables still without one: one UPDATE … SET … = (SELECT …) a table."""
    quote = schema_editor.connection.ops.quote_name
    patients = quote(apps.get_model("patients", "Patient")._meta.db_table)
    for name in ("Reminder", "HistoricalReminder", "Alert", "HistoricalAlert"):
        table = quote(apps.get_model("safety", name)._meta.db_table)
        schema_editor.execute(
            f"UPDATE {table} SET site_id = (SELECT p.site_id FROM {patients} p WHERE p.id = {table}.patient_id) "
            f"WHERE site_id IS NULL"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0014_historicaltransfer_transfer'),
        ('safety', '0010_scan_runs'),
        ('sites', '0002_main_site'),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='site',
            field=models.ForeignKey(db_index=False, editable=False, help_text=HELP, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sites.site'),
        ),
        migrations.AddField(
            model_name='historicalalert',
            name='site',
            field=models.ForeignKey(blank=True, db_constraint=False, editable=False, help_text=HELP, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sites.site'),
        ),
        migrations.AddField(
            model_name='historicalreminder',
            name='site',
            field=models.ForeignKey(blank=True, db_constraint=False, editable=False, help_text=HELP, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sites.site'),
        ),
        migrations.AddField(
            model_name='reminder',
            name='site',
            field=models.ForeignKey(db_index=False, editable=False, help_text=HELP, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sites.site'),
        ),
        migrations.RunPython(fill_site, migrations.RunPython.noop),
    ]
