"""The outbox moves from the workflow app (label "csm") to csm.lib, the ground layer. Only
Django's record of it moves here: the table keeps its name and rows (0002 renames it)."""

from functools import partial

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def move_content_types(apps, schema_editor, *, old, new, models):
    """Re-label the models' content types, so their permissions (and admin history) follow them and
    post_migrate adds no second row."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in models:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0004_last_touches'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('csm', '0006_next_touch_due_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OutboxEmail',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=32)),
                        ('to', models.EmailField(max_length=254)),
                        ('subject', models.CharField(max_length=200)),
                        ('body', models.TextField()),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('send_after', models.DateTimeField(default=django.utils.timezone.now)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('last_error', models.TextField(blank=True)),
                        ('account', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.account')),
                    ],
                    options={
                        'ordering': ['created_at', 'pk'],
                        'indexes': [models.Index(fields=['sent_at', 'send_after'], name='outbox_unsent')],
                        'db_table': 'csm_outboxemail',
                    },
                ),
            ],
        ),
        migrations.RunPython(
            partial(move_content_types, old="csm", new="lib", models=["outboxemail"]),
            partial(move_content_types, old="lib", new="csm", models=["outboxemail"]),
        ),
    ]
