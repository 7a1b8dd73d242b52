"""What a fresh installation starts with; managers edit all of it in the app.

- Blueprint templates per segment, from the source material (DESIGN §2): we solve the basic
  problems within 30 days and deliver the first data report within 60, with a demo focused on the
  customer's top 3 features; the customer names a contact person and gives regular usage
  feedback. Basic adds the quick-start pack, strategic a product manager's requirements review.
- Save plays per risk reason (price → value review and plan right-sizing; poor experience →
  training; competitor → comparison and executive call; inactivity → re-onboarding).
- Usage tips for the demo's feature events, mailed to C-tier accounts that do not use them yet.
"""

from django.db import migrations

COMMON = [
    ("ours", "Kick-off call and success plan agreed", "", 7),
    ("customer", "Name a contact person for the rollout", "", 7),
    ("ours", "Demo focused on the customer's top 3 features", "", 14),
    ("ours", "Basic problems solved", "Every blocking setup or usage problem reported so far is closed.", 30),
    ("customer", "Regular usage feedback (first round)", "", 30),
    ("ours", "First data report delivered", "", 60),
    ("customer", "Regular usage feedback (second round)", "", 60),
]
BY_SEGMENT = {
    "basic": (
        "Basic needs",
        [("ours", "Quick-start pack sent (videos, FAQ)", "", 3)],
    ),
    "advanced": (
        "Advanced needs",
        [("ours", "Feature-combination workshop and data support", "", 45)],
    ),
    "strategic": (
        "Strategic needs",
        [("ours", "Product manager joins a requirements review", "", 45)],
    ),
}
SAVE_PLAYS = {
    "price": ["Value review: what the account got for its money", "Propose plan right-sizing"],
    "experience": ["Book a training session", "Log the product issues raised and follow up"],
    "competitor": ["Prepare a comparison with the competitor", "Set up an executive call"],
    "inactive": ["Call the main contact", "Re-onboarding session", "Check usage again in 14 days"],
    "red_band": ["Review the health measures with the account", "Agree a recovery plan"],
    "score_drop": ["Find out what changed", "Call the main contact"],
    "detractor": ["Call the person who answered within 2 days", "Close the loop on their comment"],
    "overdue_milestone": ["Complete or reschedule the overdue milestones"],
    "failed_payment": ["Check the payment method with the billing contact"],
    "renewal": ["Renewal review: value delivered, plans for next year"],
    "touch_overdue": ["Schedule the cadence touch"],
}
TIPS = {
    "report_viewed": ("See the numbers that matter", "Open Reports to see this week's key figures at a glance."),
    "dashboard_created": ("Build your own dashboard", "Pin the charts you check daily to a dashboard."),
    "export_csv": ("Take your data anywhere", "Every table exports to CSV from its menu."),
    "integration_synced": ("Connect your tools", "Sync your CRM or warehouse from Settings → Integrations."),
    "alert_configured": ("Get told, not surprised", "Set an alert on any metric to hear when it moves."),
    "comment_added": ("Discuss in context", "Comment on any report to share findings with your team."),
    "invite_sent": ("Bring your team", "Invite colleagues so everyone works from the same numbers."),
    "workflow_run": ("Automate the routine", "Workflows run repetitive steps for you on a schedule."),
    "data_imported": ("Bring in more data", "Import spreadsheets to combine them with live data."),
    "template_used": ("Start from a template", "Templates give you a ready-made report in one click."),
}


def add(apps, schema_editor):
    BlueprintTemplate = apps.get_model("csm", "BlueprintTemplate")
    MilestoneTemplate = apps.get_model("csm", "MilestoneTemplate")
    SavePlay = apps.get_model("csm", "SavePlay")
    UsageTip = apps.get_model("csm", "UsageTip")
    for segment, (name, extra) in BY_SEGMENT.items():
        template, created = BlueprintTemplate.objects.get_or_create(
            segment=segment, defaults={"name": name}
        )
        if created:
            for position, (side, title, description, offset) in enumerate(COMMON + extra):
                MilestoneTemplate.objects.create(
                    template=template,
                    side=side,
                    title=title,
                    description=description,
                    offset_days=offset,
                    position=position,
                )
    for reason, steps in SAVE_PLAYS.items():
        SavePlay.objects.get_or_create(reason=reason, defaults={"steps": steps})
    for feature, (title, body) in TIPS.items():
        UsageTip.objects.get_or_create(feature=feature, defaults={"title": title, "body": body})


class Migration(migrations.Migration):
    dependencies = [("csm", "0001_initial")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
