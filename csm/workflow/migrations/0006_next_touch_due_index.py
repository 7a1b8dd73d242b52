"""Index next_touch_due_expression() on PostgreSQL (csm.workflow.touches): Today's "touches due" across
the team read every account to sort them (40 ms at 50,000 accounts); with the index, ten index
entries (0.5 ms). Built from the same expression the queries use, with the settings' cadence
and time zone at migration time. Not on SQLite, whose date functions are Python functions."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from csm.workflow.touches import next_touch_due_index

    schema_editor.add_index(apps.get_model("accounts", "Account"), next_touch_due_index())


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from csm.workflow.touches import next_touch_due_index

    schema_editor.remove_index(apps.get_model("accounts", "Account"), next_touch_due_index())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_last_touches"),
        ("csm", "0005_page_indexes"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
