"""The model moved to the therapy app; its table stays (state only)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('therapy', '0001_initial'),
        ('visits', '0004_edit_version'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.RemoveField(
            model_name='historicaldosechange',
            name='decided_by',
        ),
        migrations.RemoveField(
            model_name='historicaldosechange',
            name='history_user',
        ),
        migrations.RemoveField(
            model_name='historicaldosechange',
            name='patient',
        ),
        migrations.DeleteModel(
            name='DoseChange',
        ),
        migrations.DeleteModel(
            name='HistoricalDoseChange',
        ),
        ]),
    ]
