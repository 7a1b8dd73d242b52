"""The starting content the migrations create (blueprint templates and milestones, save plays,
usage tips, surveys), shown in the reader's language while it is still what the migration wrote.

The migrations store these English texts (a migration is frozen: it keeps its own copy); the
catalogue translates them here. A text a manager edited is no longer one of these and is shown
as written; a milestone or a checklist step copied from a template keeps its default text, so it
is translated too. tests/test_starting_content.py checks that every text the migrations write
is listed here."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

_ = gettext_noop

DEFAULT_TEXTS = frozenset(
    {
        # Blueprint templates and their milestones
        # (csm/workflow/migrations/0002_starting_content.py)
        _("Basic needs"),
        _("Advanced needs"),
        _("Strategic needs"),
        _("Kick-off call and success plan agreed"),
        _("Name a contact person for the rollout"),
        _("Demo focused on the customer's top 3 features"),
        _("Basic problems solved"),
        _("Every blocking setup or usage problem reported so far is closed."),
        _("Regular usage feedback (first round)"),
        _("First data report delivered"),
        _("Regular usage feedback (second round)"),
        _("Quick-start pack sent (videos, FAQ)"),
        _("Feature-combination workshop and data support"),
        _("Product manager joins a requirements review"),
        # Save plays' steps (the same migration)
        _("Value review: what the account got for its money"),
        _("Propose plan right-sizing"),
        _("Book a training session"),
        _("Log the product issues raised and follow up"),
        _("Prepare a comparison with the competitor"),
        _("Set up an executive call"),
        _("Call the main contact"),
        _("Re-onboarding session"),
        _("Check usage again in 14 days"),
        _("Review the health measures with the account"),
        _("Agree a recovery plan"),
        _("Find out what changed"),
        _("Call the person who answered within 2 days"),
        _("Close the loop on their comment"),
        _("Complete or reschedule the overdue milestones"),
        _("Check the payment method with the billing contact"),
        _("Renewal review: value delivered, plans for next year"),
        _("Schedule the cadence touch"),
        # Usage tips (the same migration)
        _("See the numbers that matter"),
        _("Open Reports to see this week's key figures at a glance."),
        _("Build your own dashboard"),
        _("Pin the charts you check daily to a dashboard."),
        _("Take your data anywhere"),
        _("Every table exports to CSV from its menu."),
        _("Connect your tools"),
        _("Sync your CRM or warehouse from Settings → Integrations."),
        _("Get told, not surprised"),
        _("Set an alert on any metric to hear when it moves."),
        _("Discuss in context"),
        _("Comment on any report to share findings with your team."),
        _("Bring your team"),
        _("Invite colleagues so everyone works from the same numbers."),
        _("Automate the routine"),
        _("Workflows run repetitive steps for you on a schedule."),
        _("Bring in more data"),
        _("Import spreadsheets to combine them with live data."),
        _("Start from a template"),
        _("Templates give you a ready-made report in one click."),
        # Surveys (feedback/migrations/0002_starting_surveys.py)
        _("Quarterly NPS"),
        _("How likely are you to recommend us to a friend or colleague?"),
        _("What is the main reason for your score?"),
        _("Support CSAT"),
        _("How satisfied are you with the help you got from our team?"),
        _("What could we have done better?"),
        _("Onboarding CES"),
        _("How easy was it to get started with the product?"),
        _("What got in your way, if anything?"),
        _("Exit survey"),
        _("How likely are you to recommend us to a friend or colleague, even so?"),
        _("What made you decide to leave?"),
        _("Which product, if any, are you moving to?"),
    }
)


def in_readers_language(text: str) -> str:
    """`text` translated when it is a starting text left unchanged, else as written."""
    return gettext(text) if text in DEFAULT_TEXTS else text
