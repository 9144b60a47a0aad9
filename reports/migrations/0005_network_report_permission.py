# The network lead's permission (issue 18): every site's aggregate report.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0004_import_messages_said'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='importjob',
            options={'ordering': ['-created_at'], 'permissions': [('view_cohort_report', 'Can view and export the cohort report'), ('import_datasheet', 'Can upload and import cohort datasheets'), ('view_network_report', "Can view every site's aggregate report")]},
        ),
    ]
