"""Starting surveys, so a fresh install asks for feedback from day one (issue 5). Managers edit,
switch off or delete them on the Surveys page."""

from django.db import migrations

SURVEYS = [
    {
        "name": "Quarterly NPS",
        "kind": "nps",
        "question": "How likely are you to recommend us to a friend or colleague?",
        "comment_prompt": "What is the main reason for your score?",
        "every_days": 90,
    },
    {
        "name": "Support CSAT",
        "kind": "csat",
        "question": "How satisfied are you with the help you got from our team?",
        "comment_prompt": "What could we have done better?",
    },
    {
        "name": "Onboarding CES",
        "kind": "ces",
        "question": "How easy was it to get started with the product?",
        "comment_prompt": "What got in your way, if anything?",
        "every_days": 30,
        "audience_stage": "onboarding",
    },
    {
        "name": "Exit survey",
        "kind": "nps",
        "question": "How likely are you to recommend us to a friend or colleague, even so?",
        "comment_prompt": "What made you decide to leave?",
        "extra_questions": ["Which product, if any, are you moving to?"],
        "is_exit_survey": True,
    },
]


def add(apps, schema_editor):
    Survey = apps.get_model("feedback", "Survey")
    for fields in SURVEYS:
        Survey.objects.get_or_create(name=fields["name"], defaults=fields)


def remove(apps, schema_editor):
    Survey = apps.get_model("feedback", "Survey")
    Survey.objects.filter(
        name__in=[fields["name"] for fields in SURVEYS], invitations__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]

    operations = [migrations.RunPython(add, remove)]
