"""The outbox moved to csm.lib and goals to csm.kpis (their 0001 migrations). Only Django's record
of the models is dropped here: the tables and rows stay, and those apps rename the tables."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('csm', '0006_next_touch_due_index'),
        ('feedback', '0003_outbox_in_lib'),
        ('kpis', '0001_initial'),
        ('lib', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Goal'),
                migrations.DeleteModel(name='OutboxEmail'),
            ],
        ),
    ]
