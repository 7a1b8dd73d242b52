"""One contact per email on an account, whatever its case (0006 merged existing duplicates)."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_contact_emails_lower_case"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="contact",
            name="contact_email_per_account",
        ),
        migrations.AddConstraint(
            model_name="contact",
            constraint=models.UniqueConstraint(
                models.F("account"),
                django.db.models.functions.text.Lower("email"),
                name="contact_email_per_account_any_case",
            ),
        ),
    ]
