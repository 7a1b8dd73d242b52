"""`{% churn_card account %}`: the account page's churn records card (mark churned, complete the
why, send the exit survey), so the account page shows it without its view knowing about churn."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.models import Account, User
from feedback.models import ChurnEvent, ChurnType
from feedback.report_forms import ChurnCompleteForm, MarkChurnedForm

register = template.Library()


def churn_card_context(user: User, account: Account, next_url: str = "") -> dict[str, Any]:
    """One query for the account's churns (with their competitor and who completed them); the
    completion form's competitor choices only when a churn is still to complete."""
    events = list(
        ChurnEvent.objects.filter(account=account).select_related("competitor", "completed_by")
    )
    can_edit = account.can_be_edited_by(user)
    open_event = next((e for e in events if e.reactivated_on is None), None)
    to_complete = next((e for e in events if e.completed_at is None), None)
    return {
        "account": account,
        "events": events,
        "open_event": open_event,
        "to_complete": to_complete,
        "can_edit": can_edit,
        "user": user,
        "next": next_url,
        "mark_form": MarkChurnedForm() if can_edit and open_event is None else None,
        "complete_form": (
            ChurnCompleteForm(
                initial={
                    "category": to_complete.category,
                    "churn_type": to_complete.churn_type or ChurnType.VOLUNTARY,
                    "competitor": to_complete.competitor_id,
                    "note": to_complete.note,
                }
            )
            if can_edit and to_complete is not None
            else None
        ),
    }


@register.inclusion_tag("feedback/churn_card.html", takes_context=True)
def churn_card(context: template.Context, account: Account) -> dict[str, Any]:
    request = context.get("request")
    next_url = request.get_full_path() if request is not None else ""
    result = churn_card_context(context["user"], account, next_url)
    result["csrf_token"] = context.get("csrf_token")
    return result
