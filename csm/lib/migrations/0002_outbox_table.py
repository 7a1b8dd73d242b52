"""The outbox's table takes this app's name: csm_outboxemail becomes lib_outboxemail (a rename;
the rows, indexes and the invitations' foreign key stay)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('csm', '0007_outbox_and_goals_moved'),
        ('lib', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(name='outboxemail', table=None),
    ]
