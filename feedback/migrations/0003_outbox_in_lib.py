"""An invitation's email now lives in csm.lib's outbox. The same table and column: only Django's
record of the foreign key changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0002_starting_surveys'),
        ('lib', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='invitation',
                    name='outbox',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='lib.outboxemail'),
                ),
            ],
        ),
    ]
