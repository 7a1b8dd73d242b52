"""MRR movements, KPI and cohort snapshots (from accounts) and goals (from the workflow app,
label "csm") move to csm.kpis. Only Django's record of them moves here: the tables keep their
names and rows (0002 renames them)."""

from decimal import Decimal
from functools import partial

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_types(apps, schema_editor, *, old, new, models):
    """Re-label the models' content types, so their permissions (and admin history) follow them and
    post_migrate adds no second row."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in models:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


FROM_ACCOUNTS = ["cohortsnapshot", "kpisnapshot", "mrrmovement"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0004_last_touches'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('csm', '0006_next_touch_due_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CohortSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField()),
                        ('scope', models.CharField(default='all', max_length=32)),
                        ('cells', models.JSONField()),
                        ('computed_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'accounts_cohortsnapshot',
                        'ordering': ['scope', 'month'],
                        'constraints': [models.UniqueConstraint(fields=('month', 'scope'), name='one_cohort_snapshot_per_scope')],
                    },
                ),
                migrations.CreateModel(
                    name='Goal',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('metric', models.CharField(max_length=32, verbose_name='metric')),
                        ('scope_kind', models.CharField(choices=[('all', 'All accounts'), ('tier', 'Tier'), ('segment', 'Segment'), ('csm', "CSM's book")], max_length=8, verbose_name='scope')),
                        ('scope_value', models.CharField(blank=True, max_length=32, verbose_name='scope value')),
                        ('period_start', models.DateField(verbose_name='from')),
                        ('period_end', models.DateField(verbose_name='until')),
                        ('target', models.DecimalField(decimal_places=6, max_digits=14, verbose_name='target')),
                        ('at_most', models.BooleanField(default=True, help_text='met when the value is at most the target', verbose_name='lower is better')),
                        ('note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'csm_goal',
                        'ordering': ['-period_end', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='KpiSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField()),
                        ('scope', models.CharField(default='all', max_length=32)),
                        ('values', models.JSONField()),
                        ('closed', models.BooleanField(default=False)),
                        ('computed_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'accounts_kpisnapshot',
                        'ordering': ['scope', 'month'],
                        'constraints': [models.UniqueConstraint(fields=('month', 'scope'), name='one_kpi_snapshot_per_scope')],
                    },
                ),
                migrations.CreateModel(
                    name='MrrMovement',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('month', models.DateField()),
                        ('mrr_start', models.DecimalField(decimal_places=2, max_digits=12)),
                        ('mrr_end', models.DecimalField(decimal_places=2, max_digits=12)),
                        ('movement', models.CharField(blank=True, choices=[('new', 'New'), ('reactivation', 'Reactivation'), ('expansion', 'Expansion'), ('contraction', 'Contraction'), ('churn', 'Churn')], max_length=16)),
                        ('amount', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=12)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mrr_months', to='accounts.account')),
                    ],
                    options={
                        'db_table': 'accounts_mrrmovement',
                        'ordering': ['month', 'account_id'],
                        'indexes': [models.Index(fields=['month', 'movement'], name='mrr_movement_month')],
                        'constraints': [models.UniqueConstraint(fields=('account', 'month'), name='one_mrr_movement_per_month')],
                    },
                ),
            ],
        ),
        migrations.RunPython(
            partial(move_content_types, old="accounts", new="kpis", models=FROM_ACCOUNTS),
            partial(move_content_types, old="kpis", new="accounts", models=FROM_ACCOUNTS),
        ),
        migrations.RunPython(
            partial(move_content_types, old="csm", new="kpis", models=["goal"]),
            partial(move_content_types, old="kpis", new="csm", models=["goal"]),
        ),
    ]
