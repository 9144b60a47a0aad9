"""Thalidomide course, dose changes and pregnancy tests move to the therapy app."""

import django.core.validators
import django.db.models.deletion
import simple_history.models
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


MOVED = {
    "patients": ["therapycourse", "historicaltherapycourse"],
    "visits": ["dosechange", "historicaldosechange"],
    "safety": ["pregnancytest", "historicalpregnancytest"],
}


def _relabel(apps, pairs):
    """Move the models' content types (and so their permissions, kept by the role groups)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for old_label, new_label, model in pairs:
        old = ContentType.objects.filter(app_label=old_label, model=model).first()
        if old is None:
            continue
        if ContentType.objects.filter(app_label=new_label, model=model).exists():
            continue
        old.app_label = new_label
        old.save(update_fields=["app_label"])


def move_content_types(apps, schema_editor):
    _relabel(apps, [(app, "therapy", m) for app, models in MOVED.items() for m in models])


def move_content_types_back(apps, schema_editor):
    _relabel(apps, [("therapy", app, m) for app, models in MOVED.items() for m in models])


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('patients', '0009_search_trigram'),
        ('visits', '0004_edit_version'),
        ('safety', '0003_reminder_open_by_due'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables stay where they are (db_table): only Django's model state moves.
    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.CreateModel(
            name='HistoricalDoseChange',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('drug', models.CharField(choices=[('thalidomide', 'Thalidomide'), ('azathioprine', 'Azathioprine')], max_length=12)),
                ('date', models.DateField(verbose_name='date of the change')),
                ('dose_mg', models.DecimalField(decimal_places=1, help_text='0 = stopped.', max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0'), message='Dose must be between 0 and 400 mg/day.'), django.core.validators.MaxValueValidator(Decimal('400'), message='Dose must be between 0 and 400 mg/day.')], verbose_name='dose (mg/day)')),
                ('reason', models.CharField(blank=True, max_length=200)),
                ('override_reason', models.TextField(blank=True, help_text='Why the change was made despite the rules (required for any deviation).', verbose_name='override reason')),
                ('kind', models.CharField(blank=True, editable=False, max_length=14)),
                ('deviations', models.JSONField(blank=True, default=list, editable=False)),
                ('warnings', models.JSONField(blank=True, default=list, editable=False)),
                ('check_reasons', models.JSONField(blank=True, default=list, editable=False)),
                ('rules_version', models.CharField(blank=True, editable=False, max_length=60)),
                ('created_at', models.DateTimeField(blank=True, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('decided_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('patient', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='patients.patient')),
            ],
            options={
                'verbose_name': 'historical dose change',
                'verbose_name_plural': 'historical dose changes',
                'db_table': 'visits_historicaldosechange',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalPregnancyTest',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('date', models.DateField(verbose_name='test date')),
                ('result', models.CharField(choices=[('negative', 'Negative'), ('positive', 'Positive')], max_length=8)),
                ('created_at', models.DateTimeField(blank=True, editable=False)),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('patient', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='patients.patient')),
                ('recorded_by', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical pregnancy test',
                'verbose_name_plural': 'historical pregnancy tests',
                'db_table': 'safety_historicalpregnancytest',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='HistoricalTherapyCourse',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('start_date', models.DateField(verbose_name='thalidomide start (day 0)')),
                ('stop_date', models.DateField(blank=True, help_text='First day without the drug; empty = ongoing.', null=True, verbose_name='thalidomide stop')),
                ('stop_reason', models.CharField(blank=True, max_length=200, verbose_name='stop reason')),
                ('target_dose_mg', models.DecimalField(blank=True, decimal_places=1, help_text='Adult: 50–100 mg/day (default 100). Paediatric: the R3.3 cap.', max_digits=5, null=True, validators=[django.core.validators.MinValueValidator(Decimal('12.5'), message='Target dose must be between 12.5 and 100 mg/day.'), django.core.validators.MaxValueValidator(Decimal('100'), message='Target dose must be between 12.5 and 100 mg/day.')], verbose_name='target dose (mg/day)')),
                ('regimen', models.CharField(blank=True, choices=[('adult', 'Adult (Li 2020)'), ('paediatric', 'Paediatric (Zhang 2023)')], max_length=12)),
                ('regimen_reason', models.CharField(blank=True, help_text='Required when the regimen differs from age (R3.1).', max_length=200, verbose_name='regimen reason')),
                ('consent_signed_date', models.DateField(blank=True, help_text='The patient signed the thalidomide risk and pregnancy-prevention consent.', null=True, verbose_name='teratogenicity consent signed')),
                ('contraception_counselling_date', models.DateField(blank=True, help_text='Female of reproductive potential: two methods, one highly effective (R5.3).', null=True, verbose_name='contraception counselling')),
                ('checklist_override_reason', models.TextField(blank=True, help_text='Only when a clinician starts therapy with the checklist incomplete.', verbose_name='checklist override reason')),
                ('checklist_override_date', models.DateField(blank=True, help_text='The override covers this start only, never a later restart.', null=True, verbose_name='checklist override for the start on')),
                ('checklist_override_missing', models.JSONField(blank=True, default=list, verbose_name='checklist items missing at the override')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('patient', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='patients.patient')),
            ],
            options={
                'verbose_name': 'historical therapy course',
                'verbose_name_plural': 'historical therapy courses',
                'db_table': 'patients_historicaltherapycourse',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='DoseChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('drug', models.CharField(choices=[('thalidomide', 'Thalidomide'), ('azathioprine', 'Azathioprine')], max_length=12)),
                ('date', models.DateField(verbose_name='date of the change')),
                ('dose_mg', models.DecimalField(decimal_places=1, help_text='0 = stopped.', max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0'), message='Dose must be between 0 and 400 mg/day.'), django.core.validators.MaxValueValidator(Decimal('400'), message='Dose must be between 0 and 400 mg/day.')], verbose_name='dose (mg/day)')),
                ('reason', models.CharField(blank=True, max_length=200)),
                ('override_reason', models.TextField(blank=True, help_text='Why the change was made despite the rules (required for any deviation).', verbose_name='override reason')),
                ('kind', models.CharField(blank=True, editable=False, max_length=14)),
                ('deviations', models.JSONField(blank=True, default=list, editable=False)),
                ('warnings', models.JSONField(blank=True, default=list, editable=False)),
                ('check_reasons', models.JSONField(blank=True, default=list, editable=False)),
                ('rules_version', models.CharField(blank=True, editable=False, max_length=60)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('decided_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='dose_changes', to='patients.patient')),
            ],
            options={
                'db_table': 'visits_dosechange',
                'ordering': ['patient', 'drug', 'date'],
                'indexes': [models.Index(fields=['patient', 'drug', 'date'], name='visits_dose_patient_b4c8fd_idx')],
                'constraints': [models.UniqueConstraint(fields=('patient', 'drug', 'date'), name='dose_unique_per_patient_drug_date', violation_error_message='This patient already has a dose record of this drug on that date.'), models.CheckConstraint(condition=models.Q(('dose_mg__gte', 0)), name='dose_not_negative', violation_error_message='Dose cannot be negative.')],
            },
        ),
        migrations.CreateModel(
            name='PregnancyTest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('date', models.DateField(verbose_name='test date')),
                ('result', models.CharField(choices=[('negative', 'Negative'), ('positive', 'Positive')], max_length=8)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='pregnancy_tests', to='patients.patient')),
                ('recorded_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'safety_pregnancytest',
                'ordering': ['patient', 'date'],
                'constraints': [models.UniqueConstraint(fields=('patient', 'date'), name='pregnancy_test_unique_per_patient_date', violation_error_message='This patient already has a pregnancy test on that date.')],
            },
        ),
        migrations.CreateModel(
            name='TherapyCourse',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start_date', models.DateField(verbose_name='thalidomide start (day 0)')),
                ('stop_date', models.DateField(blank=True, help_text='First day without the drug; empty = ongoing.', null=True, verbose_name='thalidomide stop')),
                ('stop_reason', models.CharField(blank=True, max_length=200, verbose_name='stop reason')),
                ('target_dose_mg', models.DecimalField(blank=True, decimal_places=1, help_text='Adult: 50–100 mg/day (default 100). Paediatric: the R3.3 cap.', max_digits=5, null=True, validators=[django.core.validators.MinValueValidator(Decimal('12.5'), message='Target dose must be between 12.5 and 100 mg/day.'), django.core.validators.MaxValueValidator(Decimal('100'), message='Target dose must be between 12.5 and 100 mg/day.')], verbose_name='target dose (mg/day)')),
                ('regimen', models.CharField(blank=True, choices=[('adult', 'Adult (Li 2020)'), ('paediatric', 'Paediatric (Zhang 2023)')], max_length=12)),
                ('regimen_reason', models.CharField(blank=True, help_text='Required when the regimen differs from age (R3.1).', max_length=200, verbose_name='regimen reason')),
                ('consent_signed_date', models.DateField(blank=True, help_text='The patient signed the thalidomide risk and pregnancy-prevention consent.', null=True, verbose_name='teratogenicity consent signed')),
                ('contraception_counselling_date', models.DateField(blank=True, help_text='Female of reproductive potential: two methods, one highly effective (R5.3).', null=True, verbose_name='contraception counselling')),
                ('checklist_override_reason', models.TextField(blank=True, help_text='Only when a clinician starts therapy with the checklist incomplete.', verbose_name='checklist override reason')),
                ('checklist_override_date', models.DateField(blank=True, help_text='The override covers this start only, never a later restart.', null=True, verbose_name='checklist override for the start on')),
                ('checklist_override_missing', models.JSONField(blank=True, default=list, verbose_name='checklist items missing at the override')),
                ('patient', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='course', to='patients.patient')),
            ],
            options={
                'db_table': 'patients_therapycourse',
                'constraints': [models.CheckConstraint(condition=models.Q(('stop_date__isnull', True), ('stop_date__gte', models.F('start_date')), _connector='OR'), name='course_stop_not_before_start', violation_error_message='Thalidomide stop cannot be before the start.')],
            },
        ),
        ]),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
