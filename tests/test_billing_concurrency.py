"""Two pushes of the same new subscription at once (Stripe's `created` and `updated` events of a
new subscription can arrive together) on PostgreSQL: one creates it, the other updates that row;
neither fails. Real threads, each with its own database connection."""

from __future__ import annotations

import os
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from accounts.billing import Outcome, Terms, record_subscription
from accounts.models import Subscription
from tests.factories import AccountFactory

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="row locks are PostgreSQL's; DATABASE_URL is not PostgreSQL",
)


def test_two_pushes_of_a_new_subscription_at_once_make_one_row(transactional_db):
    account = AccountFactory(external_id="acme")
    barrier = threading.Barrier(2)
    outcomes: list[Outcome] = []
    failures: list[BaseException] = []

    def push(amount: str) -> None:
        terms = Terms("sub_1", account, date(2025, 1, 5), None, Decimal(amount), "month")
        try:
            barrier.wait()
            outcomes.append(record_subscription(terms)[1])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=push, args=(amount,)) for amount in ("100", "200")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(outcomes) == sorted([Outcome.CREATED, Outcome.UPDATED])
    assert Subscription.objects.count() == 1
