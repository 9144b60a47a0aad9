"""The model moved to the therapy app; its table stays (state only)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('therapy', '0001_initial'),
        ('safety', '0003_reminder_open_by_due'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.RemoveField(
            model_name='pregnancytest',
            name='patient',
        ),
        migrations.RemoveField(
            model_name='pregnancytest',
            name='recorded_by',
        ),
        migrations.DeleteModel(
            name='HistoricalPregnancyTest',
        ),
        migrations.DeleteModel(
            name='PregnancyTest',
        ),
        ]),
    ]
