"""Fill the accounts' latest-touch columns (added in accounts 0004) from the touches so far."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Account = apps.get_model("accounts", "Account")
    Touch = apps.get_model("csm", "Touch")

    def latest(touches):
        return Subquery(
            touches.filter(account=OuterRef("pk")).order_by("-happened_at").values("happened_at")[:1]
        )

    Account.objects.update(
        last_csm_touch_at=latest(Touch.objects.exclude(kind="automated")),
        last_automated_touch_at=latest(Touch.objects.filter(kind="automated")),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_last_touches"),
        ("csm", "0003_goals_experiments"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
