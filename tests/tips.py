"""Helpers for the outbox and usage-tips tests: the night the tips are queued (NOW; the `tips_night`
fixture in conftest.py freezes it), a tier C customer with a primary contact, and a feature it used
on a day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from health.models import UsageEvent
from tests.factories import AccountFactory, ContactFactory, SubscriptionFactory

DAY = date(2026, 11, 22)  # the nightly run at 02:00 on the 23rd queues tips for the 22nd
NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def c_customer(name="Tiny Co", contact="Pat Lee", tier="C", **kwargs):
    account = AccountFactory(name=name, tier=tier, contract_start=date(2025, 1, 1), **kwargs)
    SubscriptionFactory(account=account, start_date=date(2025, 1, 1))
    if contact:
        ContactFactory(account=account, name=contact, is_primary=True)
    return account


def used(account, feature, day):
    UsageEvent.objects.create(
        event_id=f"{account.pk}-{feature}-{day}",
        account=account,
        event=feature,
        timestamp=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        day=day,
    )
