"""Experiment plays become tasks: each treatment assignment of an experiment not yet over gets
its play as a task of the account's owner (done when the play was done), as
csm.workflow.task_list.add_experiment_tasks does at the draw."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

TITLE_MAX_CHARS = 300
EXPERIMENT_PLAY_DUE_DAYS = 7


def add_play_tasks(apps, schema_editor):
    Experiment = apps.get_model("csm", "Experiment")
    ExperimentAssignment = apps.get_model("csm", "ExperimentAssignment")
    Task = apps.get_model("csm", "Task")
    today = timezone.localdate()
    tasks = []
    for experiment in Experiment.objects.filter(ends_on__gte=today).iterator():
        due = min(
            experiment.starts_on + timedelta(days=EXPERIMENT_PLAY_DUE_DAYS), experiment.ends_on
        )
        title = " ".join(experiment.play.split())[:TITLE_MAX_CHARS]
        rows = ExperimentAssignment.objects.filter(
            experiment=experiment, group="treatment", task__isnull=True
        ).values_list("pk", "account_id", "account__owner_id", "play_done_at")
        for pk, account_id, owner_id, done_at in rows:
            tasks.append(
                Task(
                    account_id=account_id,
                    title=title,
                    assignee_id=owner_id,
                    due_on=due if done_at else max(due, today),
                    source="experiment",
                    assignment_id=pk,
                    status="done" if done_at else "open",
                    done_at=done_at,
                )
            )
    Task.objects.bulk_create(tasks, batch_size=1000)


def remove_play_tasks(apps, schema_editor):
    apps.get_model("csm", "Task").objects.filter(source="experiment").delete()


class Migration(migrations.Migration):
    dependencies = [("csm", "0009_risk_reason_history")]

    operations = [migrations.RunPython(add_play_tasks, remove_play_tasks)]
