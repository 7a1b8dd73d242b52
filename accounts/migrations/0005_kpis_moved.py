"""MRR movements and the KPI and cohort snapshots moved to csm.kpis (its 0001 migration). Only
Django's record of the models is dropped here: the tables and rows stay, and kpis renames them."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_last_touches'),
        ('kpis', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='CohortSnapshot'),
                migrations.DeleteModel(name='KpiSnapshot'),
                migrations.DeleteModel(name='MrrMovement'),
            ],
        ),
    ]
