"""Segment / RudderStack calls in (Segment's HTTP tracking API spec; the views are in
health.segment_api): what each message means here, stored through health.ingest like any event.

1. Every message gets its user (userId, else anonymousId) and its event time: `timestamp`, else
   `originalTimestamp` moved by the sender's clock error (receive time − `sentAt`), as Segment
   corrects it, else the receive time.
2. `group` links the user to the account whose external_id is `groupId`; `alias` gives the new
   userId the account of `previousId`. A link is one row per user (SegmentUserLink), the last one
   wins, and later messages of the same batch already see it.
3. `track`, `page` and `screen` become usage events of the message's account: `context.groupId`,
   else the user's linked account. `track` keeps its event name (so `login`, `payment_failed`,
   `payment_succeeded` keep their meaning); `page` is stored as PAGE_EVENT and `screen` as
   SCREEN_EVENT (activity: they count as events, active users and last seen, and each as one
   feature). `messageId` is the event id; they are stored in one call of health.ingest's
   ingest_events, so a message sent twice is stored once.
4. `identify` with an email trait adds (or renames) a contact of the user's account.
5. What cannot be stored becomes an ingestion warning (health.ingestion_warnings) with one of the
   causes in CAUSES; the sender still gets 200, as Segment answers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import upsert_contact_from_integration
from csm.lib.languages import language_from_locale
from health.ingest import ingest_events
from health.ingestion_warnings import Warning, record_ingestion_warnings
from health.models import IngestionWarningSource, SegmentUserLink

SOURCE = IngestionWarningSource.SEGMENT
MESSAGE_TYPES = ("track", "identify", "group", "page", "screen", "alias")
# The stored names of page and screen calls (docs/api.md).
PAGE_EVENT = "page_viewed"
SCREEN_EVENT = "screen_viewed"
MAX_USER = SegmentUserLink._meta.get_field("user").max_length

# Warning causes (docs/api.md lists them with what to fix).
UNKNOWN_ACCOUNT = "unknown_account"  # groupId / context.groupId names no account
NO_ACCOUNT = "no_account"  # no context.groupId and the user was never linked by a group call
NO_USER = "no_user"  # neither userId nor anonymousId
BAD_TIMESTAMP = "bad_timestamp"  # not ISO 8601, no offset, or more than a day ahead
BAD_EMAIL = "bad_email"  # identify's email trait is not an email address
INVALID_MESSAGE = "invalid_message"  # not an object, unknown type, missing event name, too long …
CAUSES = (UNKNOWN_ACCOUNT, NO_ACCOUNT, NO_USER, BAD_TIMESTAMP, BAD_EMAIL, INVALID_MESSAGE)


@dataclass
class Outcome:
    """What a request's messages did (for tests and logs; the sender only sees 200)."""

    stored: int = 0
    duplicates: int = 0
    links: int = 0
    contacts: int = 0
    warnings: list[Warning] = field(default_factory=list)


class _Refused(ValueError):
    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


def _parse_time(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise _Refused(BAD_TIMESTAMP, f"{name}: must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused(BAD_TIMESTAMP, f"{name}: not an ISO-8601 date and time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Refused(BAD_TIMESTAMP, f"{name}: has no UTC offset")
    return parsed


def event_time(message: dict[str, Any], *, sent_at: object, received_at: datetime) -> str:
    """The message's event time as ISO 8601 (step 1 of the module docstring)."""
    if message.get("timestamp") is not None:
        return _parse_time(message["timestamp"], "timestamp").isoformat()
    original = message.get("originalTimestamp")
    if original is None:
        return received_at.isoformat()
    moment = _parse_time(original, "originalTimestamp")
    if sent_at is not None:
        # The sender's clock was off by (sentAt − receive time): take that off its timestamp.
        moment = moment + (received_at - _parse_time(sent_at, "sentAt"))
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:
        raise _Refused(BAD_TIMESTAMP, "originalTimestamp: out of range") from None


def _user(message: dict[str, Any]) -> str:
    for name in ("userId", "anonymousId"):
        value = message.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # the clients send numbers as they are given
        if isinstance(value, str) and value.strip():
            if len(value) > MAX_USER:
                raise _Refused(INVALID_MESSAGE, f"{name}: longer than {MAX_USER} characters")
            return value
    raise _Refused(NO_USER, "the message has neither userId nor anonymousId")


def _message_id(message: dict[str, Any]) -> str:
    """`messageId`, or (when a hand-written sender left it out) a hash of the message, so the same
    message sent again is still a duplicate."""
    value = message.get("messageId")
    if isinstance(value, str) and value:
        return value
    canonical = json.dumps(message, sort_keys=True, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _context_group(message: dict[str, Any]) -> str | None:
    context = message.get("context")
    group = context.get("groupId") if isinstance(context, dict) else None
    if isinstance(group, int) and not isinstance(group, bool):
        group = str(group)
    return group if isinstance(group, str) and group else None


def _lookups(messages: Sequence[object]) -> tuple[set[str], set[str]]:
    """The external ids whose account must be looked up here (group calls, and identify calls
    that name their account: track/page/screen leave theirs to ingest_events' own look-up), and
    the users whose link may be needed (messages without context.groupId, alias's previousId)."""
    groups, users = set(), set()
    for message in messages:
        if not isinstance(message, dict):
            continue
        kind = message.get("type")
        group = _context_group(message)
        if kind == "group" and message.get("groupId") is not None:
            groups.add(str(message["groupId"]))
        elif kind == "alias" and message.get("previousId") is not None:
            users.add(str(message["previousId"]))
        elif group is None:
            users.update(
                str(message[name]) for name in ("userId", "anonymousId") if message.get(name)
            )
        elif kind == "identify":
            groups.add(group)
    return groups, users


def _event_name(message: dict[str, Any]) -> object:
    kind = message["type"]
    if kind == "track":
        return message.get("event")
    return PAGE_EVENT if kind == "page" else SCREEN_EVENT


def _properties(message: dict[str, Any]) -> object:
    properties = message.get("properties")
    if message["type"] in ("page", "screen") and isinstance(message.get("name"), str):
        # A page call's own name (and category) is the interesting part: keep it with the rest.
        extra = {"name": message["name"]}
        if isinstance(message.get("category"), str):
            extra["category"] = message["category"]
        properties = {**(properties if isinstance(properties, dict) else {}), **extra}
    return properties


def _email_and_name(message: dict[str, Any]) -> tuple[str, str] | None:
    traits = message.get("traits")
    if not isinstance(traits, dict):
        context = message.get("context")
        traits = context.get("traits") if isinstance(context, dict) else None
    if not isinstance(traits, dict) or not traits.get("email"):
        return None
    name = traits.get("name")
    if not isinstance(name, str):
        parts = [traits.get("firstName"), traits.get("lastName")]
        name = " ".join(part for part in parts if isinstance(part, str) and part)
    return str(traits["email"]), name


def process_messages(
    messages: Sequence[object], *, sent_at: object, received_at: datetime | None = None
) -> Outcome:
    """Apply a request's messages in order (see the module docstring). A batch of track calls
    naming their account costs ingest_events' two statements and nothing more."""
    received_at = received_at or timezone.now()
    outcome = Outcome()

    def warn(cause: str, message: str, example: object) -> None:
        outcome.warnings.append(Warning(SOURCE, cause, message, example))

    groups, users = _lookups(messages)
    # {external_id: pk} of the accounts named by group (and identify) calls.
    accounts: dict[str, int] = {}
    if groups:
        found = Account.objects.filter(external_id__in=groups).values_list("external_id", "pk")
        accounts = dict(found)
    # {user: (external_id, pk)} of the users' links, as stored and as this batch changes them.
    links: dict[str, tuple[str, int]] = {}
    if users:
        stored = SegmentUserLink.objects.filter(user__in=users).values_list(
            "user", "account__external_id", "account_id"
        )
        links = {user: (external_id, pk) for user, external_id, pk in stored}
    changed_links: dict[str, int] = {}
    events: list[dict[str, Any]] = []
    event_messages: list[dict[str, Any]] = []
    contacts: list[tuple[int, str, str, dict[str, Any]]] = []

    for message in messages:
        if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
            kinds = ", ".join(MESSAGE_TYPES)
            warn(INVALID_MESSAGE, f"type: not a message object of type {kinds}", message)
            continue
        try:
            user = _user(message)
            kind = message["type"]
            if kind == "alias":
                previous = message.get("previousId")
                if previous is not None and str(previous) in links:
                    links[user] = links[str(previous)]
                    changed_links[user] = links[user][1]
                continue
            if kind == "group":
                group = str(message.get("groupId") or "")
                if group not in accounts:
                    raise _Refused(
                        UNKNOWN_ACCOUNT, f'groupId: no account with external id "{group}"'
                    )
                links[user] = (group, accounts[group])
                changed_links[user] = accounts[group]
                continue
            group = _context_group(message)
            account_id = accounts.get(group) if group is not None else None
            if group is None:
                if user not in links:
                    raise _Refused(
                        NO_ACCOUNT,
                        f'user "{user}": no context.groupId and no group call linked it to an'
                        " account",
                    )
                group, account_id = links[user]
            if kind == "identify":
                person = _email_and_name(message)
                if person is not None:
                    if account_id is None:
                        text = f'context.groupId: no account with external id "{group}"'
                        raise _Refused(UNKNOWN_ACCOUNT, text)
                    contacts.append((account_id, *person, message))
                continue
            events.append(
                {
                    "id": _message_id(message),
                    "account": group,
                    "user": user,
                    "event": _event_name(message),
                    "timestamp": event_time(
                        message,
                        sent_at=message.get("sentAt", sent_at),
                        received_at=received_at,
                    ),
                    "properties": _properties(message),
                }
            )
            event_messages.append(message)
        except _Refused as refused:
            warn(refused.cause, str(refused), message)

    if changed_links or contacts:
        with transaction.atomic():
            _save_links(changed_links, received_at)
            for account_id, email, name, message in contacts:
                context = message.get("context")
                locale = context.get("locale") if isinstance(context, dict) else None
                try:
                    upsert_contact_from_integration(
                        account=Account(pk=account_id),
                        email=email,
                        name=name,
                        language=language_from_locale(locale),
                    )
                    outcome.contacts += 1
                except ValidationError:
                    text = f'traits.email: "{email[:100]}" is not an email address'
                    warn(BAD_EMAIL, text, message)
        outcome.links = len(changed_links)
    if events:
        # After the links: a message's account came from them. Its own transaction (the insert's).
        _store_events(events, event_messages, outcome)
    if outcome.warnings:
        record_ingestion_warnings(outcome.warnings)
    return outcome


def _save_links(changed: dict[str, int], now: datetime) -> None:
    SegmentUserLink.objects.bulk_create(
        [
            SegmentUserLink(user=user, account_id=account_id, updated_at=now)
            for user, account_id in sorted(changed.items())
        ],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["account", "updated_at"],
    )


def _store_events(
    events: list[dict[str, Any]], messages: list[dict[str, Any]], outcome: Outcome
) -> None:
    """Store the usage events through ingest_events: the one insert path, with its validation,
    its account look-up, its duplicate rule, and whatever else reacts to new events there."""
    result = ingest_events(events)
    outcome.stored += result.accepted
    outcome.duplicates += result.duplicates
    for error in result.errors:
        text = error["error"]
        if text == "account: unknown account":
            cause = UNKNOWN_ACCOUNT
            account = events[error["index"]]["account"]
            text = f'context.groupId: no account with external id "{account}"'
        elif text.startswith("account:"):
            cause = UNKNOWN_ACCOUNT
        elif text.startswith("timestamp:"):
            cause = BAD_TIMESTAMP
        else:
            cause = INVALID_MESSAGE
        outcome.warnings.append(Warning(SOURCE, cause, text, messages[error["index"]]))
