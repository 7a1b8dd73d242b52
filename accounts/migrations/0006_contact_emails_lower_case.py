"""Ready for one contact per email on an account, whatever its case (0007 adds the constraint;
the pages always stored emails in lower case, the admin or a shell could store "Ann@x.com"
beside "ann@x.com").

Every email is stored in lower case, and contacts of one account that
share an email in any case are merged into one (the primary one, else the oldest): what pointed
at the others (invitations, answers, milestones) points at it, and the others go. Nothing else
is deleted, so the migration does not fail on existing duplicates."""

from django.db import migrations


def merge_duplicates(apps, schema_editor):
    Contact = apps.get_model("accounts", "Contact")
    kept = {}
    merged = []
    for contact in Contact.objects.order_by("account_id", "-is_primary", "pk"):
        key = (contact.account_id, contact.email.strip().lower())
        if key in kept:
            merged.append((contact, kept[key]))
        else:
            kept[key] = contact
    # Every foreign key to a contact in the migration state (feedback, workflow).
    relations = [rel for rel in Contact._meta.related_objects if rel.one_to_many]
    for duplicate, keeper in merged:
        for rel in relations:
            rel.related_model._base_manager.filter(**{rel.field.name: duplicate.pk}).update(
                **{rel.field.name: keeper.pk}
            )
        duplicate.delete()
    for contact in kept.values():
        email = contact.email.strip().lower()
        if contact.email != email:
            contact.email = email
            contact.save(update_fields=["email"])


class Migration(migrations.Migration):
    # The constraint comes in a migration of its own: PostgreSQL cannot alter a table in the
    # transaction that deleted rows from it while foreign-key checks are still pending.
    dependencies = [
        ("accounts", "0005_kpis_moved"),
    ]

    operations = [
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop),
    ]
