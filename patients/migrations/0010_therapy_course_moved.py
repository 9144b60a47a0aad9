"""The model moved to the therapy app; its table stays (state only)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('therapy', '0001_initial'),
        ('patients', '0009_search_trigram'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.RemoveField(
            model_name='therapycourse',
            name='patient',
        ),
        migrations.DeleteModel(
            name='HistoricalTherapyCourse',
        ),
        migrations.DeleteModel(
            name='TherapyCourse',
        ),
        ]),
    ]
