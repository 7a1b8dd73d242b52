"""The moved tables take this app's name (renames; the rows and indexes stay):
accounts_mrrmovement, accounts_kpisnapshot, accounts_cohortsnapshot and csm_goal become kpis_*."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0005_kpis_moved'),
        ('csm', '0007_outbox_and_goals_moved'),
        ('kpis', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelTable(name='cohortsnapshot', table=None),
        migrations.AlterModelTable(name='goal', table=None),
        migrations.AlterModelTable(name='kpisnapshot', table=None),
        migrations.AlterModelTable(name='mrrmovement', table=None),
    ]
