from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory

from accounts.models import Account, Contact, Role, Subscription, User
from accounts.mrr import subscription_mrr
from health.models import DailyUsage
from health.scoring import band_for


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    role = Role.CSM
    password = factory.django.Password("password")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    external_id = factory.Sequence(lambda n: f"acct-{n:05d}")
    name = factory.Sequence(lambda n: f"Customer {n:05d}")
    segment = "basic"
    contract_start = date(2025, 1, 15)
    tier = "C"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    subscription_id = factory.Sequence(lambda n: f"sub-{n:06d}")
    account = factory.SubFactory(AccountFactory)
    start_date = date(2025, 1, 15)
    end_date = None
    amount = Decimal("100.00")
    interval = "month"
    # Stored as the imports store it (Subscription.set_mrr).
    mrr = factory.LazyAttribute(lambda s: subscription_mrr(s.amount, s.interval))


class HealthScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "health.HealthScore"

    account = factory.SubFactory(AccountFactory)
    day = date(2026, 11, 22)
    score = 80
    computed_score = factory.SelfAttribute("score")
    band = factory.LazyAttribute(lambda o: band_for(o.score))
    # One measure whose contribution is the whole score.
    measures = factory.LazyAttribute(
        lambda o: [
            {
                "key": "active_days",
                "raw": 20,
                "score": o.score,
                "weight": 25,
                "contribution": o.score,
            }
        ]
    )


class RiskItemFactory(factory.django.DjangoModelFactory):
    """An open at-risk item for the account's owner (the nightly's defaults)."""

    class Meta:
        model = "csm.RiskItem"
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    assignee = factory.LazyAttribute(lambda o: o.account.owner)
    opened_on = date(2026, 11, 20)
    updated_on = date(2026, 11, 22)
    reasons = factory.LazyFunction(lambda: [{"key": "red_band", "text": "health score 30 (red)"}])
    mrr = Decimal("1000.00")
    priority = Decimal("1000.00")

    @factory.post_generation
    def play_tasks(obj, create, extracted, **kwargs):
        """The save play's tasks: `play_tasks=[{"text": str, "done": bool}, ...]` (by default
        two open steps), due two days after the item opened, for its first reason."""
        if not create:
            return
        steps = DEFAULT_PLAY if extracted is None else extracted
        for position, step in enumerate(steps):
            TaskFactory(
                account=obj.account,
                title=step["text"],
                assignee_id=obj.assignee_id or obj.account.owner_id,
                due_on=obj.opened_on + timedelta(days=2),
                status="done" if step.get("done") else "open",
                source="save_play",
                risk_item=obj,
                reason=obj.reasons[0]["key"] if obj.reasons else "",
                step=position,
            )


DEFAULT_PLAY = [
    {"text": "Review the health measures with the account", "done": False},
    {"text": "Agree a recovery plan", "done": False},
]


class TaskFactory(factory.django.DjangoModelFactory):
    """An open task typed by hand, for the account's owner, due on 2026-11-23."""

    class Meta:
        model = "csm.Task"

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    assignee = factory.LazyAttribute(lambda o: o.account.owner)
    due_on = date(2026, 11, 23)
    source = "manual"


def used_on(account, *days, events=5):
    """Usage rollups on `days` (the inactivity rule reads them; a customer without any is idle)."""
    for day in days:
        DailyUsage.objects.update_or_create(
            account=account,
            day=day,
            defaults={
                "events": events,
                "active_users": 1,
                "active_features": 1,
                "logins": 0,
                "billing_events": 0,
                "failed_payments": 0,
            },
        )
