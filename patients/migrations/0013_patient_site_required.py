import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0012_patient_site'),
    ]

    operations = [
        migrations.AlterField(
            model_name='patient',
            name='site',
            field=models.ForeignKey(help_text='The clinic that treats the patient. Only its members see the record.', on_delete=django.db.models.deletion.PROTECT, related_name='patients', to='sites.site', verbose_name='site'),
        ),
    ]
