"""The patient's site on reminders and alerts, filled by 0011: required, and the site-led
partial indexes that a site user's badge, inbox and counts read."""

import django.db.models.deletion
from django.db import migrations, models

HELP = "Always the patient's site (a copy, for the site users' reads); set from the patient."


class Migration(migrations.Migration):

    dependencies = [
        ('safety', '0011_reminder_alert_site'),
    ]

    operations = [
        migrations.AlterField(
            model_name='alert',
            name='site',
            field=models.ForeignKey(db_index=False, editable=False, help_text=HELP, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sites.site'),
        ),
        migrations.AlterField(
            model_name='reminder',
            name='site',
            field=models.ForeignKey(db_index=False, editable=False, help_text=HELP, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sites.site'),
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(condition=models.Q(('resolved_at__isnull', True), ('tier__in', ('withhold', 'urgent'))), fields=['site'], include=('patient',), name='alert_open_urgent_by_site'),
        ),
        migrations.AddIndex(
            model_name='alert',
            index=models.Index(condition=models.Q(('acknowledged_at__isnull', True), ('tier', 'review')), fields=['site'], include=('patient',), name='alert_review_by_site'),
        ),
        migrations.AddIndex(
            model_name='reminder',
            index=models.Index(condition=models.Q(('state__in', ('open', 'acknowledged'))), fields=['site', 'due', 'id'], include=('patient', 'snoozed_until', 'kind', 'escalated_to'), name='reminder_open_by_site_due'),
        ),
    ]
