"""Keyword tags on survey comments (issue 5): churn-cause categories (DESIGN §2) by the managers'
keyword rules, and competitor names with their aliases.

Matching is pure (`tag_text`): the comment and every keyword are normalised the same way
(accents dropped, case folded, punctuation turned into spaces) and a keyword matches as a whole
word or phrase, so "price" tags "Price!" and "the prices" does not match "price". Keywords written
in a script without spaces between words (Chinese, Japanese) match anywhere in the text.
A comment naming a competitor is also tagged with the "competitor" category.

`tag_response` (re)writes one response's ResponseTag rows; `retag_all_responses` re-tags every
comment after the rules or the competitor list change. The managers' changes to them
(`save_keyword_rules`, `save_competitor`, `delete_competitor`) are audited and re-tag in the same
transaction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.audit import record_changes
from accounts.models import User
from feedback.models import ChurnCategory, Competitor, KeywordRule, Response, ResponseTag

# Starting rules, one list per category; `ensure_default_keyword_rules` writes them into an empty
# table. Managers edit them on the keyword rules page.
DEFAULT_KEYWORD_RULES: dict[str, list[str]] = {
    ChurnCategory.PRICE: [
        "price",
        "pricing",
        "expensive",
        "too costly",
        "cost",
        "costs",
        "budget",
        "cheaper",
        "discount",
        "not worth",
        "value for money",
        "invoice",
    ],
    ChurnCategory.EXPERIENCE: [
        "confusing",
        "hard to use",
        "difficult to use",
        "not intuitive",
        "clunky",
        "ui",
        "ux",
        "user interface",
        "design",
        "too many clicks",
        "complicated",
    ],
    ChurnCategory.SUPPORT: [
        "support team",
        "customer support",
        "tech support",
        "technical support",
        "support was",
        "support is",
        "customer service",
        "no response",
        "slow response",
        "ticket",
        "helpdesk",
        "account manager",
        "nobody answered",
        "unhelpful",
    ],
    ChurnCategory.FUNCTIONALITY: [
        "slow",
        "bug",
        "bugs",
        "crash",
        "crashes",
        "downtime",
        "outage",
        "missing feature",
        "missing features",
        "doesn't support",
        "does not support",
        "integration",
        "lacks",
        "performance",
        "timeout",
    ],
    ChurnCategory.COMPETITOR: [
        "competitor",
        "alternative",
        "switching to",
        "switched to",
        "moving to",
        "another tool",
        "another vendor",
    ],
    ChurnCategory.WRONG_FIT: [
        "not a fit",
        "not the right fit",
        "wrong fit",
        "don't need",
        "do not need",
        "not for us",
        "too big for us",
        "too small for us",
        "our use case",
    ],
    ChurnCategory.NO_UPDATES: [
        "no updates",
        "no new features",
        "outdated",
        "roadmap",
        "stagnant",
        "nothing new",
        "old fashioned",
    ],
    ChurnCategory.ONBOARDING: [
        "onboarding",
        "setup",
        "set up",
        "getting started",
        "training",
        "implementation",
        "documentation",
        "learning curve",
    ],
}

KEYWORD_MAX_CHARS = 100
KEYWORDS_MAX_PER_RULE = 200


def normalise(text: str) -> str:
    """Lower-case, accents dropped, every run of non-word characters one space; the apostrophe
    is dropped so "doesn't" and "doesnt" match."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    no_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = no_marks.casefold().replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[\W_]+", " ", folded).split())


def _unspaced_script(text: str) -> bool:
    """True for CJK text, which is written without spaces between words."""
    return any(
        "\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af"
        for c in text
    )


def parse_keywords(text: str) -> list[str]:
    """One keyword or phrase per line, blank lines dropped, each once (as written)."""
    seen: set[str] = set()
    keywords = []
    for line in (text or "").splitlines():
        keyword = line.strip()
        key = normalise(keyword)
        if key and key not in seen:
            seen.add(key)
            keywords.append(keyword)
    return keywords


@dataclass(frozen=True)
class Matcher:
    """Compiled patterns: one per category and one per competitor."""

    categories: dict[str, re.Pattern[str]] = field(default_factory=dict)
    competitors: dict[Hashable, re.Pattern[str]] = field(default_factory=dict)


def _pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for keyword in keywords:
        key = normalise(keyword)
        if not key:
            continue
        if _unspaced_script(key):
            parts.append(re.escape(key))
        else:
            # The text is normalised and padded with a space each side (tag_text), so a whole
            # word or phrase is the keyword between two spaces: no look-arounds, a fast scan.
            parts.append(re.escape(f" {key} "))
    if not parts:
        return None
    # Longest first, so a phrase wins over a word it starts with (no effect on the result).
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts))


def build_matcher(
    rules: Iterable[tuple[str, Iterable[str]]],
    competitors: Iterable[tuple[Hashable, Iterable[str]]],
) -> Matcher:
    """rules: (category, keywords); competitors: (key, names: the name and its aliases)."""
    keywords_by_category: dict[str, list[str]] = {}
    for category, keywords in rules:
        keywords_by_category.setdefault(category, []).extend(keywords)
    matcher = Matcher()
    for category, keywords in keywords_by_category.items():
        pattern = _pattern(keywords)
        if pattern is not None:
            matcher.categories[category] = pattern
    for key, names in competitors:
        pattern = _pattern(names)
        if pattern is not None:
            matcher.competitors[key] = pattern
    return matcher


def tag_text(text: str, matcher: Matcher) -> tuple[set[str], set[Hashable]]:
    """(categories, competitor keys) a comment mentions. Pure."""
    clean = normalise(text)
    if not clean:
        return set(), set()
    clean = f" {clean} "
    categories = {c for c, pattern in matcher.categories.items() if pattern.search(clean)}
    competitors = {k for k, pattern in matcher.competitors.items() if pattern.search(clean)}
    if competitors:
        categories.add(ChurnCategory.COMPETITOR)
    return categories, competitors


# --- The database side ---------------------------------------------------------------------------


def competitor_names(competitor: Competitor) -> list[str]:
    return [competitor.name, *parse_keywords(competitor.aliases)]


def load_matcher() -> Matcher:
    """The active rules and every competitor (two queries)."""
    rules = [
        (rule.category, parse_keywords(rule.keywords))
        for rule in KeywordRule.objects.filter(active=True)
    ]
    competitors = [(c.pk, competitor_names(c)) for c in Competitor.objects.all()]
    return build_matcher(rules, competitors)


def _tags_for(response_id: int, text: str, matcher: Matcher) -> list[ResponseTag]:
    categories, competitors = tag_text(text, matcher)
    return [
        *(ResponseTag(response_id=response_id, category=c) for c in sorted(categories)),
        *(
            ResponseTag(response_id=response_id, competitor_id=k)  # type: ignore[misc]
            for k in sorted(competitors)  # type: ignore[type-var]
        ),
    ]


def response_text(comment: str, answers: object) -> str:
    """What a response says in words: the comment and the answers to extra questions (an exit
    survey's "why did you leave?" is often one of those)."""
    extra = answers.values() if isinstance(answers, dict) else []
    return "\n".join([comment or "", *(str(value) for value in extra if value)])


def tag_response(response: Response, matcher: Matcher | None = None) -> None:
    """Rewrite the response's tags from its comment and extra answers (idempotent: same text,
    same rows)."""
    matcher = matcher or load_matcher()
    text = response_text(response.comment, response.answers)
    with transaction.atomic():
        ResponseTag.objects.filter(response_id=response.pk).delete()
        ResponseTag.objects.bulk_create(_tags_for(response.pk, text, matcher))


def retag_all_responses(batch_size: int = 2000) -> int:
    """Re-tag every comment with the current rules and competitors; returns how many responses
    with words were read. One delete, then the responses read in batches and their tags
    bulk-inserted, all in one transaction (pages never see a half-tagged stream)."""
    matcher = load_matcher()
    read = 0
    with transaction.atomic():
        ResponseTag.objects.all().delete()
        rows = Response.objects.order_by().values_list("pk", "comment", "answers")
        pending: list[ResponseTag] = []
        for pk, comment, answers in rows.iterator(chunk_size=batch_size):
            text = response_text(comment, answers)
            if not text.strip():
                continue
            read += 1
            pending.extend(_tags_for(pk, text, matcher))
            if len(pending) >= batch_size:
                ResponseTag.objects.bulk_create(pending)
                pending = []
        ResponseTag.objects.bulk_create(pending)
    return read


def ensure_default_keyword_rules() -> int:
    """Write DEFAULT_KEYWORD_RULES when there are no keyword rules at all; returns rows made."""
    with transaction.atomic():
        if KeywordRule.objects.exists():
            return 0
        rules = KeywordRule.objects.bulk_create(
            KeywordRule(category=category, keywords="\n".join(keywords))
            for category, keywords in DEFAULT_KEYWORD_RULES.items()
        )
    return len(rules)


def keywords_by_category(rules: Iterable[KeywordRule]) -> Mapping[str, str]:
    """The keywords text of each category (rules of one category joined), for the rules page."""
    texts: dict[str, list[str]] = {}
    for rule in rules:
        texts.setdefault(rule.category, []).append(rule.keywords.strip())
    return {category: "\n".join(t for t in parts if t) for category, parts in texts.items()}


# --- The managers' rules and competitors ---------------------------------------------------------


def _check_manager(actor: User) -> None:
    if not actor.is_manager:
        raise PermissionDenied("managers only")


def _rules_by_category() -> dict[str, list[KeywordRule]]:
    rules: dict[str, list[KeywordRule]] = {}
    for rule in KeywordRule.objects.all():
        rules.setdefault(rule.category, []).append(rule)
    return rules


def _in_force(rules: Sequence[KeywordRule]) -> tuple[str, bool]:
    """A category's keywords text (its rules joined) and whether any of its rules is active."""
    text = "\n".join(r.keywords.strip() for r in rules if r.keywords.strip())
    return text, any(r.active for r in rules)


def keyword_rules_in_force() -> dict[str, tuple[str, bool]]:
    """{category: (keywords text, active)} of the categories with rules, for the rules page (one
    query)."""
    return {category: _in_force(rules) for category, rules in _rules_by_category().items()}


def save_keyword_rules(
    *, actor: User, rules: Mapping[str, tuple[Sequence[str], bool]]
) -> tuple[int, int]:
    """A manager's keyword rules, {category: (keywords, active)}: each category whose keywords or
    switch changed (or that had several rules) gets one rule in place of its old ones, audited;
    then, when any changed, every comment is re-tagged. One transaction. Returns (categories
    changed, comments re-tagged)."""
    _check_manager(actor)
    changed = 0
    with transaction.atomic():
        existing = _rules_by_category()
        for category, (keywords, active) in rules.items():
            text = "\n".join(keywords)
            old = existing.get(category, [])
            old_text, old_active = _in_force(old) if old else ("", True)
            if text == old_text and active == old_active and len(old) <= 1:
                continue
            KeywordRule.objects.filter(category=category).delete()
            rule = KeywordRule.objects.create(category=category, keywords=text, active=active)
            record_changes(
                actor=actor,
                obj=rule,
                action="keyword_rule.update",
                changes={
                    f"keywords {category}": (old_text, text),
                    f"active {category}": (old_active, active),
                },
            )
            changed += 1
        retagged = retag_all_responses() if changed else 0
    return changed, retagged


def save_competitor(
    *, actor: User, competitor: Competitor | None = None, name: str, aliases: str
) -> tuple[Competitor, int]:
    """Add a competitor (`competitor` None) or change one's name and aliases, audited, and re-tag
    every comment, in one transaction. Returns (the competitor, comments re-tagged)."""
    _check_manager(actor)
    with transaction.atomic():
        if competitor is None:
            saved = Competitor.objects.create(name=name, aliases=aliases)
            old = {"name": "", "aliases": ""}
            action = "competitor.add"
        else:
            saved = Competitor.objects.select_for_update().get(pk=competitor.pk)
            old = {"name": saved.name, "aliases": saved.aliases}
            saved.name, saved.aliases = name, aliases
            saved.save(update_fields=["name", "aliases"])
            action = "competitor.update"
        record_changes(
            actor=actor,
            obj=saved,
            action=action,
            changes={"name": (old["name"], name), "aliases": (old["aliases"], aliases)},
        )
        retagged = retag_all_responses()
    return saved, retagged


def delete_competitor(*, actor: User, competitor: Competitor) -> None:
    """Delete a competitor, audited: its tags go with it; churn records keep their reason."""
    _check_manager(actor)
    with transaction.atomic():
        record_changes(
            actor=actor,
            obj=competitor,
            action="competitor.delete",
            changes={"name": (competitor.name, "")},
        )
        competitor.delete()
