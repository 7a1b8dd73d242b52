"""Demo data: a believable SaaS customer book for trying the app (`manage.py seed_demo`).

Two halves:

1. `plan_demo_book` is pure: it draws the whole book (accounts, contacts, subscription histories)
   from one `random.Random(seed)` and a given `today`, so the same seed and day always give the
   same book, whatever the database.
2. `seed_demo` writes that plan in one transaction with bulk inserts, then sets tiers and adds
   months of usage events drawn for the same book (csm.demo.usage).

The histories follow the shape a real book has: monthly and annual plans, upgrades and downgrades
on a billing date (the old subscription ends the day the new one starts), churn that is higher in
the first 90 days and among basic accounts, some churned customers coming back months later, a
few add-on subscriptions running next to the main plan, and a few free plans.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils.text import slugify

from accounts.models import Segment
from accounts.mrr import MONTHLY, YEARLY

DEMO_PASSWORD = "demo"
# The same people whatever the seed, so the printed logins always work.
DEMO_CSMS = (
    ("Maya Chen", "maya@demo.example"),
    ("Daniel Okafor", "daniel@demo.example"),
    ("Priya Natarajan", "priya@demo.example"),
    ("Lucas Moreau", "lucas@demo.example"),
    ("Emma Lindqvist", "emma@demo.example"),
    ("Tomás Herrera", "tomas@demo.example"),
    ("Aisha Bello", "aisha@demo.example"),
    ("Kenji Watanabe", "kenji@demo.example"),
)
DEMO_MANAGERS = (
    ("Sam Rivera", "sam@demo.example"),
    ("Olivia Brandt", "olivia@demo.example"),
)
DEMO_CSM_EMAIL = DEMO_CSMS[0][1]
DEMO_MANAGER_EMAIL = DEMO_MANAGERS[0][1]

MAX_MONTHS = 120
# Days of usage and billing events before today (csm.demo.usage plans them).
USAGE_DAYS = 180

# --- The shape of the book -------------------------------------------------------------------

SEGMENT_WEIGHTS = {Segment.BASIC: 60, Segment.ADVANCED: 30, Segment.STRATEGIC: 10}
# Strategic (a product manager joins requirement reviews) is mostly given to strategic-needs
# accounts, so that about 5% of the book carries the flag.
STRATEGIC_FLAG_RATE = {Segment.BASIC: 0.015, Segment.ADVANCED: 0.05, Segment.STRATEGIC: 0.30}
ANNUAL_RATE = {Segment.BASIC: 0.28, Segment.ADVANCED: 0.40, Segment.STRATEGIC: 0.55}
# Share of accounts that signed before the window, giving the first month a starting book.
STARTING_BOOK_SHARE = 0.30
# Signups per day rise linearly across the window: the last day is this much busier than the first.
GROWTH = 0.6
UNASSIGNED_SHARE = 0.03
FREE_PLAN_RATE = 0.05  # of basic signups
SEATS_KNOWN_RATE = 0.88

# Monthly list prices of the plan ladder. Annual plans cost 10x the monthly price (two months free).
LADDER = (
    # basic
    49, 79, 99, 149, 199, 249, 299,
    # advanced
    349, 399, 499, 599, 749, 899, 999, 1200, 1500,
    # strategic
    1800, 2000, 2500, 3000, 4000, 5000, 6500, 8000,
)  # fmt: skip
# Weights over the ladder for a new account's first plan, by segment.
FIRST_PLAN_WEIGHTS = {
    Segment.BASIC: {49: 10, 79: 14, 99: 18, 149: 16, 199: 12, 249: 8, 299: 6},
    Segment.ADVANCED: {
        349: 2, 399: 3, 499: 5, 599: 12, 749: 16, 899: 16, 999: 14, 1200: 12, 1500: 8,
    },
    Segment.STRATEGIC: {
        1500: 6, 1800: 8, 2000: 14, 2500: 16, 3000: 16, 4000: 14, 5000: 10, 6500: 6, 8000: 4,
    },
}  # fmt: skip
ADDON_PRICES = (99, 149, 199, 299, 499)

# Monthly hazards for a paying account on a monthly plan. Annual plans decide at each renewal
# instead (see _plan_run), and churn more in the first three months.
CHURN_HAZARD = {Segment.BASIC: 0.020, Segment.ADVANCED: 0.011, Segment.STRATEGIC: 0.006}
EARLY_CHURN_FACTOR = 2.5  # the first 90 days: product fit and expectation gaps
UPGRADE_HAZARD = {Segment.BASIC: 0.022, Segment.ADVANCED: 0.024, Segment.STRATEGIC: 0.016}
DOWNGRADE_HAZARD = {Segment.BASIC: 0.006, Segment.ADVANCED: 0.009, Segment.STRATEGIC: 0.008}
ANNUAL_DOWNGRADE_AT_RENEWAL = 0.08
SWITCH_TO_ANNUAL_ON_UPGRADE = 0.2
COMEBACK_RATE = 0.12  # of churned accounts; some comebacks would fall after today
ADDON_HAZARD = 0.006  # per month, advanced and strategic accounts without an add-on
ADDON_END_HAZARD = 0.04
FREE_CONVERSION_HAZARD = 0.18
FREE_ABANDON_HAZARD = 0.04

# --- Names -----------------------------------------------------------------------------------

COMPANY_WORDS = (
    "Acme", "Alder", "Atlas", "Beacon", "Bluefin", "Bramble", "Brightline", "Cedar", "Cobalt",
    "Copperleaf", "Crescent", "Driftwood", "Ember", "Evergreen", "Falcon", "Fieldstone", "Fjord",
    "Foxglove", "Glacier", "Granite", "Harbor", "Helix", "Highland", "Horizon", "Indigo",
    "Ironwood", "Juniper", "Kestrel", "Keystone", "Lakeside", "Lantern", "Lumen", "Magnolia",
    "Maple", "Meridian", "Moonrise", "Nimbus", "Northwind", "Nova", "Oakridge", "Onyx", "Orchid",
    "Pinnacle", "Pioneer", "Polaris", "Prairie", "Quartz", "Quill", "Redwood", "Riverbend",
    "Rookery", "Sable", "Saffron", "Sequoia", "Silverline", "Skyward", "Starling", "Summit",
    "Sunflower", "Tandem", "Tidewater", "Timberline", "Trident", "Vantage", "Verdant",
    "Wildflower", "Willow", "Yarrow", "Zephyr", "Bayview",
)  # fmt: skip
COMPANY_TRADES = (
    "Analytics", "Apparel", "Architects", "Aviation", "Biotech", "Brewing", "Clinics",
    "Construction", "Consulting", "Dental", "Energy", "Farms", "Fitness", "Foods", "Freight",
    "Health", "Hospitality", "Insurance", "Labs", "Learning", "Legal", "Logistics", "Marine",
    "Media", "Motors", "Networks", "Outfitters", "Payments", "Pharma", "Publishing", "Realty",
    "Retail", "Robotics", "Security", "Software", "Studios", "Systems", "Telecom", "Travel",
)  # fmt: skip
COMPANY_FORMS = ("Group", "Inc", "Co", "Partners", "Holdings", "Collective", "Global", "Digital")
FIRST_NAMES = (
    "Alex", "Amara", "Ana", "Ben", "Carla", "Chloe", "David", "Diego", "Elena", "Farah", "Felix",
    "Grace", "Hana", "Hugo", "Ines", "Isaac", "Jamal", "Jin", "Julia", "Karim", "Laura", "Leo",
    "Lina", "Marco", "Mei", "Mila", "Nadia", "Nathan", "Noah", "Omar", "Paula", "Rafael", "Rosa",
    "Ruth", "Sara", "Sofia", "Stefan", "Tara", "Theo", "Valeria", "Victor", "Wei", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Alvarez", "Bauer", "Brooks", "Campbell", "Castillo", "Dubois", "Eriksen", "Fischer",
    "Garcia", "Gupta", "Hansen", "Hughes", "Ito", "Jensen", "Kowalski", "Kim", "Larsen", "Lopez",
    "Mensah", "Moreno", "Murphy", "Nguyen", "Novak", "Olsen", "Park", "Patel", "Quinn", "Rossi",
    "Santos", "Schmidt", "Singh", "Sato", "Silva", "Tanaka", "Turner", "Varga", "Wagner", "Walsh",
    "Wong", "Yilmaz", "Zhang",
)  # fmt: skip
# The primary contact is the customer's named contact person (the success blueprint asks for one).
PRIMARY_ROLES = (
    "Head of Operations", "VP Customer Experience", "Director of Analytics", "COO",
    "Head of Digital", "Operations Manager", "Product Lead",
)  # fmt: skip
OTHER_ROLES = (
    "IT Administrator", "Finance Manager", "Data Analyst", "Procurement Lead", "CTO",
    "Team Lead", "Office Manager", "Head of Sales Ops",
)  # fmt: skip


# --- The plan (pure) -------------------------------------------------------------------------


@dataclass
class PlannedSubscription:
    start_date: date
    end_date: date | None
    amount: Decimal
    interval: str


@dataclass
class PlannedContact:
    name: str
    email: str
    role: str
    is_primary: bool


@dataclass
class PlannedAccount:
    external_id: str
    name: str
    segment: str
    strategic: bool
    owner_email: str | None
    contract_start: date
    renewal_date: date | None
    seats: int | None
    contacts: list[PlannedContact] = field(default_factory=list)
    subscriptions: list[PlannedSubscription] = field(default_factory=list)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clipped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def plan_demo_book(*, accounts: int, months: int, seed: int, today: date) -> list[PlannedAccount]:
    """The whole demo book, drawn from `random.Random(seed)`; no database access.

    Accounts come out in signup order and are numbered in that order, like a billing system does.
    """
    check_sizes(accounts=accounts, months=months)
    rng = random.Random(seed)
    window_start = add_months(today, -months)
    starts = sorted(_draw_contract_start(rng, window_start, today) for _ in range(accounts))
    owners = _draw_owners(rng, accounts)
    used_names: set[str] = set()
    book = []
    for number, (contract_start, owner_email) in enumerate(zip(starts, owners, strict=True), 1):
        name = _draw_company_name(rng, used_names, number)
        slug = slugify(name)
        segment = rng.choices(list(SEGMENT_WEIGHTS), weights=list(SEGMENT_WEIGHTS.values()))[0]
        subscriptions, live_since = _plan_history(rng, segment, contract_start, today)
        book.append(
            PlannedAccount(
                external_id=f"{slug}-{number:04d}",
                name=name,
                segment=segment,
                strategic=rng.random() < STRATEGIC_FLAG_RATE[segment],
                owner_email=owner_email,
                contract_start=contract_start,
                renewal_date=_next_anniversary(live_since, today) if live_since else None,
                seats=_draw_seats(rng, segment),
                contacts=_draw_contacts(rng, domain=f"{slug}.example"),
                subscriptions=subscriptions,
            )
        )
    return book


def check_sizes(*, accounts: int, months: int) -> None:
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {MAX_MONTHS}")


def _draw_contract_start(rng: random.Random, window_start: date, today: date) -> date:
    if rng.random() < STARTING_BOOK_SHARE:
        # Signed in the three years before the window: the book the first month starts from.
        return window_start - timedelta(days=rng.randint(1, 3 * 365))
    # Inverse CDF of a density rising linearly from 1 to 1 + GROWTH across the window.
    u = rng.random()
    x = (-1 + (1 + 2 * GROWTH * u * (1 + GROWTH / 2)) ** 0.5) / GROWTH
    return min(window_start + timedelta(days=round(x * (today - window_start).days)), today)


def _draw_owners(rng: random.Random, accounts: int) -> list[str | None]:
    """An even spread over the CSMs (so every CSM has a book), a few accounts unassigned."""
    owners: list[str | None] = [DEMO_CSMS[i % len(DEMO_CSMS)][1] for i in range(accounts)]
    rng.shuffle(owners)
    return [None if rng.random() < UNASSIGNED_SHARE else owner for owner in owners]


def _draw_company_name(rng: random.Random, used: set[str], number: int) -> str:
    for attempt in range(40):
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_TRADES)}"
        if attempt >= 3 or rng.random() < 0.15:
            name = f"{name} {rng.choice(COMPANY_FORMS)}"
        if name not in used:
            break
    else:
        name = f"{name} {number}"  # the word lists are exhausted: very large books only
    used.add(name)
    return name


def _draw_seats(rng: random.Random, segment: str) -> int | None:
    if rng.random() >= SEATS_KNOWN_RATE:
        return None
    low, high = {
        Segment.BASIC: (2, 25),
        Segment.ADVANCED: (15, 150),
        Segment.STRATEGIC: (100, 2000),
    }[segment]
    return rng.randint(low, high)


def _draw_contacts(rng: random.Random, *, domain: str) -> list[PlannedContact]:
    count = rng.choices((1, 2, 3), weights=(35, 40, 25))[0]
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in names:
            names.append(name)
    other_roles = rng.sample(OTHER_ROLES, count - 1)
    return [
        PlannedContact(
            name=name,
            email=f"{name.lower().replace(' ', '.')}@{domain}",
            role=rng.choice(PRIMARY_ROLES) if i == 0 else other_roles[i - 1],
            is_primary=i == 0,
        )
        for i, name in enumerate(names)
    ]


def _next_anniversary(since: date, today: date) -> date:
    years = 1
    while add_months(since, 12 * years) <= today:
        years += 1
    return add_months(since, 12 * years)


def _price(level: int, interval: str) -> Decimal:
    monthly = LADDER[level]
    return Decimal(monthly * 10 if interval == YEARLY else monthly).quantize(Decimal("0.01"))


def _plan_history(
    rng: random.Random, segment: str, contract_start: date, today: date
) -> tuple[list[PlannedSubscription], date | None]:
    """Every subscription of one account, and the start of the run live today (None if churned)."""
    history: list[PlannedSubscription] = []
    run_start = contract_start
    comeback = False
    while True:
        run, ended_on = _plan_run(rng, segment, run_start, today, comeback=comeback)
        history.extend(run)
        if ended_on is None:
            paying = any(s.end_date is None and s.amount > 0 for s in run)
            return history, run_start if paying else None
        if rng.random() >= COMEBACK_RATE:
            return history, None
        run_start = add_months(ended_on, rng.randint(2, 10)) + timedelta(days=rng.randint(0, 20))
        if run_start > today:
            return history, None
        comeback = True


def _plan_run(
    rng: random.Random, segment: str, run_start: date, today: date, *, comeback: bool
) -> tuple[list[PlannedSubscription], date | None]:
    """One stretch as a customer, from signing (or coming back) until churn or today.

    Month k of the run is the billing date k months after its start; plan changes and churn happen
    on billing dates, so every subscription ends strictly after it starts. Returns the run's
    subscriptions and the day it ended (None when still running today).
    """
    if segment == Segment.BASIC and not comeback and rng.random() < FREE_PLAN_RATE:
        level: int | None = None
        main = PlannedSubscription(run_start, None, Decimal("0.00"), MONTHLY)
    else:
        level = _first_level(rng, segment, comeback=comeback)
        interval = YEARLY if rng.random() < ANNUAL_RATE[segment] else MONTHLY
        main = PlannedSubscription(run_start, None, _price(level, interval), interval)
    run = [main]
    addon: PlannedSubscription | None = None
    plan_month = 0  # the run month the current main plan started in
    month = 0
    while True:
        month += 1
        day = add_months(run_start, month)
        if day > today:
            return run, None
        draw = rng.random()

        if level is None:  # a free plan: converts to a small paid plan, or is abandoned
            if draw < FREE_CONVERSION_HAZARD:
                level = rng.randint(0, 3)
                main.end_date = day
                main = PlannedSubscription(day, None, _price(level, MONTHLY), MONTHLY)
                run.append(main)
                plan_month = month
            elif draw < FREE_CONVERSION_HAZARD + FREE_ABANDON_HAZARD:
                main.end_date = day
                return run, day
            continue

        at_renewal = main.interval == MONTHLY or (month - plan_month) % 12 == 0
        hazard = CHURN_HAZARD[segment]
        if main.interval == MONTHLY:
            churn = hazard * (EARLY_CHURN_FACTOR if month <= 3 else 1)
        else:
            # Annual customers decide once a year; they are a little stickier than monthly ones.
            churn = 1 - (1 - 0.7 * hazard) ** 12 if at_renewal else 0.0
        upgrade = UPGRADE_HAZARD[segment] if level < len(LADDER) - 1 else 0.0
        if level == 0:
            downgrade = 0.0
        elif main.interval == MONTHLY:
            downgrade = DOWNGRADE_HAZARD[segment]
        else:
            downgrade = ANNUAL_DOWNGRADE_AT_RENEWAL if at_renewal else 0.0

        if draw < churn:
            main.end_date = day
            if addon is not None:
                addon.end_date = day
            return run, day
        if draw < churn + upgrade:
            level = min(level + rng.choices((1, 2, 3), weights=(5, 3, 1))[0], len(LADDER) - 1)
            interval = main.interval
            if interval == MONTHLY and rng.random() < SWITCH_TO_ANNUAL_ON_UPGRADE:
                interval = YEARLY
            main.end_date = day
            main = PlannedSubscription(day, None, _price(level, interval), interval)
            run.append(main)
            plan_month = month
        elif draw < churn + upgrade + downgrade:
            level = max(level - rng.choices((1, 2), weights=(3, 1))[0], 0)
            interval = main.interval
            if interval == YEARLY and rng.random() < 0.3:
                interval = MONTHLY
            main.end_date = day
            main = PlannedSubscription(day, None, _price(level, interval), interval)
            run.append(main)
            plan_month = month

        if segment != Segment.BASIC:
            addon_draw = rng.random()
            if addon is None and addon_draw < ADDON_HAZARD:
                addon = PlannedSubscription(
                    day, None, Decimal(rng.choice(ADDON_PRICES)).quantize(Decimal("0.01")), MONTHLY
                )
                run.append(addon)
            elif addon is not None and addon.end_date is None and addon_draw < ADDON_END_HAZARD:
                addon.end_date = day


def _first_level(rng: random.Random, segment: str, *, comeback: bool) -> int:
    weights = FIRST_PLAN_WEIGHTS[segment]
    level = LADDER.index(rng.choices(list(weights), weights=list(weights.values()))[0])
    if comeback:  # customers who come back usually start smaller
        level = max(level - rng.randint(0, 2), 0)
    return level


# --- Writing it ------------------------------------------------------------------------------
