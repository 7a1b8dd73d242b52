"""One survey per name, ignoring case, and a schedule of at most every 3 years.

Surveys that already share a name (in any case) keep it on the oldest; the others get " (2)",
" (3)"… appended before the constraint is added, so the migration never fails on existing data
and nothing is deleted."""

import django.core.validators
import django.db.models.functions.text
from django.db import migrations, models


def rename_duplicates(apps, schema_editor):
    Survey = apps.get_model("feedback", "Survey")
    surveys = list(Survey.objects.order_by("created_at", "pk"))
    # Every name in use, so a new one never collides with a survey processed later.
    taken = {survey.name.strip().lower() for survey in surveys}
    kept = set()
    for survey in surveys:
        key = survey.name.strip().lower()
        if key not in kept:
            kept.add(key)
            continue
        n = 2
        while f"{key[: 200 - len(f' ({n})')]} ({n})" in taken:
            n += 1
        suffix = f" ({n})"  # the name stays within its 200 characters
        survey.name = survey.name.strip()[: 200 - len(suffix)] + suffix
        taken.add(survey.name.lower())
        survey.save(update_fields=["name"])


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0003_outbox_in_lib"),
    ]

    operations = [
        migrations.AlterField(
            model_name="survey",
            name="every_days",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="blank = not scheduled",
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(
                        1, "Give a number of days of at least 1, or leave it blank."
                    ),
                    django.core.validators.MaxValueValidator(
                        1095, "At most every %(limit_value)s days (3 years), or leave it blank."
                    ),
                ],
                verbose_name="send every (days)",
            ),
        ),
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="survey",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("name"), name="one_survey_per_name"
            ),
        ),
    ]
