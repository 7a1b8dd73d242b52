"""`seed_demo`: the demo company written in one transaction, from the plan (csm.demo.accounts),
the usage and billing events (csm.demo.usage) and the touches (csm.demo.workflow)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import Account, Contact, Role, Subscription, User
from accounts.services import refresh_tiers
from csm.demo.accounts import (
    DEMO_CSMS,
    DEMO_MANAGERS,
    DEMO_PASSWORD,
    USAGE_DAYS,
    check_sizes,
    plan_demo_book,
)
from csm.demo.usage import seed_usage
from csm.demo.workflow import seed_touches
from csm.workflow.blueprints import create_blueprints, simulate_demo_progress


def seed_demo(
    *, accounts: int, months: int, seed: int, today: date, usage_days: int = USAGE_DAYS
) -> dict[str, int | bool]:
    """Write the demo book for `seed` and `today`, unless the database already has accounts.

    1. Create or update the demo users by email (password "demo", hashed once).
    2. Bulk-insert accounts, contacts and subscriptions (subscription ids numbered by start date).
    3. Set every account's tier with refresh_tiers.
    4. Bulk-insert the usage and billing events of the `usage_days` days before today
       (csm.demo.usage.seed_usage), and a history of touches (csm.demo.workflow.seed_touches).

    Returns the counts written, with "seeded": False and zero counts when it wrote nothing.
    """
    check_sizes(accounts=accounts, months=months)
    with transaction.atomic():
        if Account.objects.exists():
            return {
                "seeded": False,
                "users": 0,
                "accounts": 0,
                "contacts": 0,
                "subscriptions": 0,
                "usage_events": 0,
                "touches": 0,
            }
        book = plan_demo_book(accounts=accounts, months=months, seed=seed, today=today)
        users = _upsert_demo_users()

        Account.objects.bulk_create(
            [
                Account(
                    external_id=planned.external_id,
                    name=planned.name,
                    segment=planned.segment,
                    strategic=planned.strategic,
                    owner=users[planned.owner_email] if planned.owner_email else None,
                    contract_start=planned.contract_start,
                    renewal_date=planned.renewal_date,
                    seats=planned.seats,
                )
                for planned in book
            ],
            batch_size=1000,
        )
        # Looked up by the natural key rather than relying on bulk_create returning ids.
        account_ids = dict(Account.objects.values_list("external_id", "pk"))

        contacts = [
            Contact(
                account_id=account_ids[planned.external_id],
                name=contact.name,
                email=contact.email,
                role=contact.role,
                is_primary=contact.is_primary,
            )
            for planned in book
            for contact in planned.contacts
        ]
        Contact.objects.bulk_create(contacts, batch_size=1000)
        # After the contacts: the customer's milestones go to the primary contact.
        create_blueprints()
        simulate_demo_progress(seed=seed, today=today)

        # Numbered in start order, the way a billing system hands out ids.
        planned_subs = sorted(
            (
                (sub.start_date, account_number, position, planned.external_id, sub)
                for account_number, planned in enumerate(book)
                for position, sub in enumerate(planned.subscriptions)
            ),
            key=lambda row: row[:3],
        )
        subscriptions = []
        for number, (_, _, _, external_id, sub) in enumerate(planned_subs, 1):
            subscription = Subscription(
                subscription_id=f"sub_{number:06d}",
                account_id=account_ids[external_id],
                start_date=sub.start_date,
                end_date=sub.end_date,
                amount=sub.amount,
                interval=sub.interval,
            )
            subscription.set_mrr()
            subscriptions.append(subscription)
        Subscription.objects.bulk_create(subscriptions, batch_size=1000)

        refresh_tiers(today=today)
        usage_events = seed_usage(book, account_ids, seed=seed, today=today, days=usage_days)
        touches = seed_touches(seed=seed, today=today)
    return {
        "seeded": True,
        "users": len(users),
        "accounts": len(book),
        "contacts": len(contacts),
        "subscriptions": len(subscriptions),
        "usage_events": usage_events,
        "touches": touches,
    }


def _upsert_demo_users() -> dict[str, User]:
    """The fixed demo cast, created or brought back to its demo state; keyed by email."""
    password = make_password(DEMO_PASSWORD)  # hashing is slow on purpose: once for all of them
    cast = [(name, email, Role.CSM) for name, email in DEMO_CSMS]
    cast += [(name, email, Role.MANAGER) for name, email in DEMO_MANAGERS]
    users = {}
    for name, email, role in cast:
        user, _ = User.objects.update_or_create(
            email=email,
            defaults={"name": name, "role": role, "password": password, "is_active": True},
        )
        users[email] = user
    return users
