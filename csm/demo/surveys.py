"""Survey history for the demo book (seed_demo calls this after the accounts, subscriptions and
usage are written, before the nightly run), so the feedback pages, the NPS trend, the sentiment
measure and the detractor rule have something believable to show.

1. The three demo competitors the comments mention (Retainly, Gainwise, Vitalsuite;
   csm.demo.churns) and the default keyword rules (feedback.tagging), unless there are some.
2. Quarterly NPS to every primary contact for the last ~18 months, while the account was a
   customer; the latest within the last 90 days, so the schedule is not due at once.
3. Support CSAT to about a third of the customers now and then, and Onboarding CES to each run's
   first weeks.
4. About 42% answer (more for tier A); scores lean on the account's fate: lower in the months
   before it churned, and lower now for accounts whose usage is thin. Comments come from a list
   mentioning price, slowness, missing features, support, onboarding and the competitors.
5. About 3% of invitations bounce; some unanswered ones were opened; detractors answered more
   than two weeks ago were mostly followed up by the owner.
6. The comments tagged with the keyword rules and competitors.

Everything is drawn from random.Random(seed): the same seed and day give the same history.
Historical invitations have no outbox email (they were "sent" before today's outbox).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Account, Contact, Subscription
from csm.demo.churns import ensure_demo_competitors
from feedback.models import Invitation, Response, Survey, SurveyKind
from feedback.tagging import ensure_default_keyword_rules, retag_all_responses
from feedback.tokens import new_nonce
from health.models import UsageEvent

HISTORY_DAYS = 540  # about 18 months
NPS_EVERY_DAYS = 90
ANSWER_RATE = 0.42
BOUNCE_RATE = 0.03
OPENED_UNANSWERED = 0.3
COMMENT_RATE = 0.65
CHURN_SHADOW_DAYS = 180  # answers this close before a churn lean negative

DETRACTOR_COMMENTS = [
    "Too expensive for what we actually use.",
    "The price went up again and the value did not.",
    "Reports are far too slow, we wait minutes for a dashboard.",
    "The app is slow and times out every Monday morning.",
    "Still missing the Salesforce integration we were promised.",
    "Missing features we need: no bulk export, no custom fields.",
    "Support takes days to answer and tickets get closed unsolved.",
    "Nobody from support followed up on our outage.",
    "Onboarding was confusing, half the team never got set up.",
    "We never got proper training during onboarding.",
    "Retainly does the same for half the price.",
    "Looking at Gainwise, their reporting is better.",
    "Vitalsuite offered us a free migration.",
    "The interface is clunky and hard to find anything in.",
    "No real updates in a year; the product feels abandoned.",
]
PASSIVE_COMMENTS = [
    "Does the job, but the reports could be faster.",
    "Good product, a bit pricey for a team our size.",
    "Fine overall; the mobile view needs work.",
    "Useful, though we still miss a proper API.",
    "Support is friendly but slow.",
    "Okay. We compared it with Gainwise last quarter.",
    "Getting started took longer than expected.",
]
PROMOTER_COMMENTS = [
    "Our CSM is great, always quick to help.",
    "The health dashboards changed how we run our week.",
    "Easy to use and the team loves the reports.",
    "Support solved our problem the same day.",
    "Onboarding was smooth, we were live in a week.",
    "Great value for the price.",
    "Switched from Retainly and never looked back.",
]


@dataclass
class _Customer:
    account_id: int
    tier: str
    owner_id: int | None
    contact_id: int
    email: str
    runs: list[tuple[date, date | None]]  # customer periods [start, end)
    usage: float  # events in the last 60 days, relative to the median


def _runs(subscriptions: list[tuple[date, date | None]]) -> list[tuple[date, date | None]]:
    """Merge an account's subscriptions into the periods it was a customer."""
    merged: list[list[date | None]] = []
    for start, end in sorted(subscriptions, key=lambda s: s[0]):
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):  # type: ignore[operator]
            last_end = merged[-1][1]
            merged[-1][1] = None if end is None or last_end is None else max(last_end, end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]  # type: ignore[misc]


def _customer_on(
    runs: list[tuple[date, date | None]], day: date
) -> tuple[date, date | None] | None:
    for start, end in runs:
        if start <= day and (end is None or day < end):
            return start, end
    return None


def _customers(today: date) -> list[_Customer]:
    primaries = {
        account_id: (contact_id, email)
        for account_id, contact_id, email in Contact.objects.filter(is_primary=True)
        .exclude(email="")
        .values_list("account_id", "pk", "email")
    }
    subscriptions: dict[int, list[tuple[date, date | None]]] = defaultdict(list)
    for account_id, start, end in Subscription.objects.values_list(
        "account_id", "start_date", "end_date"
    ):
        subscriptions[account_id].append((start, end))
    events = dict(
        UsageEvent.objects.filter(day__gt=today - timedelta(days=60))
        .order_by()
        .values_list("account_id")
        .annotate(n=Count("pk"))
        .values_list("account_id", "n")
    )
    counts = sorted(events.values())
    median = counts[len(counts) // 2] if counts else 1
    customers = []
    for account_id, tier, owner_id in Account.objects.order_by("pk").values_list(
        "pk", "tier", "owner_id"
    ):
        if account_id not in primaries or account_id not in subscriptions:
            continue
        contact_id, email = primaries[account_id]
        customers.append(
            _Customer(
                account_id=account_id,
                tier=tier,
                owner_id=owner_id,
                contact_id=contact_id,
                email=email,
                runs=_runs(subscriptions[account_id]),
                usage=events.get(account_id, 0) / max(median, 1),
            )
        )
    return customers


def _mood(rng: random.Random, customer: _Customer, mood: float, day: date, today: date) -> float:
    """How the account feels on `day`, about −3 (leaving) to +3 (delighted)."""
    run = _customer_on(customer.runs, day)
    value = mood
    if run is not None and run[1] is not None and (run[1] - day).days <= CHURN_SHADOW_DAYS:
        value -= 2.5  # the months before a churn
    if (today - day).days <= 120:  # recent answers follow today's usage (and so health)
        if customer.usage < 0.3:
            value -= 1.8
        elif customer.usage > 1.5:
            value += 0.6
    return value + rng.gauss(0, 0.8)


def _score(kind: str, mood: float) -> int:
    if kind == SurveyKind.NPS:
        return max(0, min(10, round(8.2 + 1.4 * mood)))
    if kind == SurveyKind.CSAT:
        return max(1, min(5, round(4.1 + 0.8 * mood)))
    return max(1, min(7, round(5.4 + 1.0 * mood)))


def _comment(rng: random.Random, kind: str, score: int) -> str:
    if rng.random() > COMMENT_RATE:
        return ""
    low, high = {"nps": (6, 9), "csat": (2, 5), "ces": (2, 6)}[kind]
    if score <= low:
        return rng.choice(DETRACTOR_COMMENTS)
    if score >= high:
        return rng.choice(PROMOTER_COMMENTS)
    return rng.choice(PASSIVE_COMMENTS)


def _at(rng: random.Random, day: date) -> datetime:
    zone = timezone.get_current_timezone()
    return datetime.combine(day, time(8, 0), tzinfo=zone) + timedelta(minutes=rng.randrange(600))


def _starting_surveys() -> dict[str, Survey]:
    defaults = {
        SurveyKind.NPS: ("Quarterly NPS", "How likely are you to recommend us to a friend?"),
        SurveyKind.CSAT: ("Support CSAT", "How satisfied are you with the help you got?"),
        SurveyKind.CES: ("Onboarding CES", "How easy was it to get started with the product?"),
    }
    surveys = {}
    for kind, (name, question) in defaults.items():
        survey = Survey.objects.filter(kind=kind, is_exit_survey=False, name=name).first()
        if survey is None:
            survey = Survey.objects.create(
                kind=kind, name=name, question=question, comment_prompt="Why?"
            )
        surveys[kind] = survey
    return surveys


def seed_survey_history(*, seed: int, today: date) -> dict[str, int]:
    """Write the survey history (see the module docstring); returns the counts written."""
    rng = random.Random(f"surveys-{seed}")
    with transaction.atomic():
        ensure_demo_competitors()  # the ones the comments name
        ensure_default_keyword_rules()
        surveys = _starting_surveys()
        first_day = today - timedelta(days=HISTORY_DAYS)
        invitations: list[Invitation] = []
        answers: list[tuple[Invitation, int, str, _Customer]] = []
        for customer in _customers(today):
            mood = rng.gauss(0.2, 1.0)
            planned: list[tuple[str, date]] = []
            offset = rng.randrange(1, NPS_EVERY_DAYS + 1)
            day = today - timedelta(days=offset)
            while day >= first_day:
                planned.append((SurveyKind.NPS, day))
                day -= timedelta(days=NPS_EVERY_DAYS)
            if rng.random() < 0.35:
                for _ in range(rng.randint(1, 3)):
                    planned.append(
                        (SurveyKind.CSAT, today - timedelta(days=rng.randrange(2, HISTORY_DAYS)))
                    )
            for start, _end in customer.runs:
                ces_day = start + timedelta(days=rng.randint(10, 25))
                if first_day <= ces_day < today:
                    planned.append((SurveyKind.CES, ces_day))
            for kind, day in sorted(planned, key=lambda p: p[1]):
                if _customer_on(customer.runs, day) is None:
                    continue
                sent = _at(rng, day)
                invitation = Invitation(
                    survey=surveys[kind],
                    account_id=customer.account_id,
                    contact_id=customer.contact_id,
                    email=customer.email,
                    nonce=new_nonce(),
                    created_at=sent,
                    expires_at=sent + timedelta(days=settings.SURVEY_TOKEN_DAYS),
                )
                invitations.append(invitation)
                rate = (
                    ANSWER_RATE
                    + (0.1 if customer.tier == "A" else 0)
                    + (0.1 if kind != "nps" else 0)
                )
                draw = rng.random()
                if draw < BOUNCE_RATE:
                    invitation.bounced_at = sent + timedelta(minutes=3)
                elif draw < BOUNCE_RATE + rate:
                    answered = sent + timedelta(hours=rng.randint(1, 96))
                    if answered.date() >= today:
                        answered = sent + timedelta(minutes=rng.randint(5, 90))
                    invitation.opened_at = answered - timedelta(minutes=rng.randint(1, 5))
                    invitation.answered_at = answered
                    score = _score(kind, _mood(rng, customer, mood, day, today))
                    answers.append((invitation, score, _comment(rng, kind, score), customer))
                elif rng.random() < OPENED_UNANSWERED:
                    invitation.opened_at = sent + timedelta(hours=rng.randint(1, 48))
        Invitation.objects.bulk_create(invitations, batch_size=1000)
        responses = []
        for invitation, score, comment, customer in answers:
            response = Response.answering(
                invitation, score=score, comment=comment, answered_at=invitation.answered_at
            )
            if (
                response.is_detractor
                and customer.owner_id is not None
                and (today - invitation.answered_at.date()).days > 14  # type: ignore[union-attr]
                and rng.random() < 0.7
            ):
                response.followed_up_at = invitation.answered_at + timedelta(  # type: ignore[operator]
                    days=rng.randint(1, 6)
                )
                response.followed_up_by_id = customer.owner_id
            responses.append(response)
        Response.objects.bulk_create(responses, batch_size=1000)
        retag_all_responses()
    return {"invitations": len(invitations), "responses": len(responses)}
