"""The demo in another language (`seed_demo --locale zh-hans`): the same book, drawn in English
by the generators, with its names, comments and notes swapped for the language's own
(csm/demo/texts_zh.py). Swapping after the draw keeps every random choice, so the story (who
churns, the money, usage and scores) is the same in both languages.

Run once after the survey history (names and comments, before the nightly run writes them into
risk reasons) and again at the end (churn notes, risk resolutions); a text already swapped is
left alone, so a second run changes only what is new."""

from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef, Subquery

from accounts.models import Account, Contact, User
from csm.demo import texts_zh
from csm.lib.bulk import update_rows
from csm.workflow.models import RiskItem, Touch
from feedback.models import ChurnEvent, Invitation, Response, Survey

LOCALES = ("en", "zh-hans")


def company_name(english: str) -> str:
    """ "Polaris Logistics Co" → "北辰物流有限公司"; a trailing number (very large books) stays."""
    words = english.split(" ")
    if len(words) < 2 or words[0] not in texts_zh.COMPANY_WORDS:
        return english
    parts = [texts_zh.COMPANY_WORDS[words[0]], texts_zh.COMPANY_TRADES.get(words[1], words[1])]
    for word in words[2:]:
        parts.append(texts_zh.COMPANY_FORMS.get(word, word))
    return "".join(parts)


def person(english: str) -> tuple[str, str] | None:
    """ "Ana Lima"-style demo names → (李安娜, "anna.li"), or None for another name."""
    first, _space, last = english.partition(" ")
    if first not in texts_zh.FIRST_NAMES or last not in texts_zh.LAST_NAMES:
        return None
    given, given_pinyin = texts_zh.FIRST_NAMES[first]
    family, family_pinyin = texts_zh.LAST_NAMES[last]
    return f"{family}{given}", f"{given_pinyin}.{family_pinyin}"


@transaction.atomic
def localise_demo(locale: str) -> int:
    """Swap the demo's English words for `locale`'s; returns how many rows changed."""
    if locale == "en":
        return 0
    changed = 0
    accounts = [
        (account, ["name"])
        for account in Account.objects.only("pk", "name")
        if _set(account, "name", company_name(account.name))
    ]
    update_rows(Account, accounts)
    changed += len(accounts)

    users = [
        (user, ["name"])
        for user in User.objects.only("pk", "name")
        if _set(user, "name", texts_zh.USERS.get(user.name, user.name))
    ]
    update_rows(User, users)
    changed += len(users)

    contacts = []
    for contact in Contact.objects.only("pk", "name", "email", "role", "language"):
        fields = []
        named = person(contact.name)
        if named is not None:
            name, local_part = named
            contact.name = name
            contact.email = f"{local_part}@{contact.email.partition('@')[2]}"
            fields += ["name", "email"]
        if _set(contact, "role", texts_zh.ROLES.get(contact.role, contact.role)):
            fields.append("role")
        if contact.language != locale:  # the customers read their own language
            contact.language = locale
            fields.append("language")
        if fields:
            contacts.append((contact, fields))
    update_rows(Contact, contacts)
    changed += len(contacts)
    # What was sent to a contact names their new address.
    address = Contact.objects.filter(pk=OuterRef("contact_id")).values("email")[:1]
    Invitation.objects.filter(contact__isnull=False).update(email=Subquery(address))

    for model, field in (
        (Survey, "question"),
        (Survey, "comment_prompt"),
        (Response, "comment"),
        (Touch, "summary"),
        (ChurnEvent, "note"),
        (RiskItem, "resolution_note"),
    ):
        rows = [
            (row, [field])
            for row in model.objects.exclude(**{field: ""}).only("pk", field)
            if _set(row, field, texts_zh.TEXTS.get(getattr(row, field), getattr(row, field)))
        ]
        update_rows(model, rows)
        changed += len(rows)
    return changed


def _set(row: object, field: str, value: str) -> bool:
    if getattr(row, field) == value:
        return False
    setattr(row, field, value)
    return True
