"""Starting weights for accounts in onboarding (their first 30 days), stored as ordinary weight
overrides so managers see, change or clear them on the scorecard page.

An account a week old cannot have 30 active days or broad feature use yet: judge onboarding
mostly on whether it keeps coming back (days since last activity)."""

from django.db import migrations

ONBOARDING_WEIGHTS = {
    "active_days": 10,
    "feature_adoption": 5,
    "days_since_active": 35,
    "seat_utilisation": 5,
}


def add(apps, schema_editor):
    WeightOverride = apps.get_model("health", "WeightOverride")
    for key, weight in ONBOARDING_WEIGHTS.items():
        WeightOverride.objects.get_or_create(
            key=key, tier="", stage="onboarding", defaults={"weight": weight}
        )


def remove(apps, schema_editor):
    WeightOverride = apps.get_model("health", "WeightOverride")
    WeightOverride.objects.filter(stage="onboarding", tier="", key__in=ONBOARDING_WEIGHTS).delete()


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial")]

    operations = [migrations.RunPython(add, remove)]
