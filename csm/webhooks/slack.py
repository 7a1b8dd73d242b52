"""The Slack message for an event (an incoming webhook takes `text` and Block Kit `blocks`):
made from the event's payload alone, so what Slack shows is what a standard endpoint gets."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from csm.webhooks.language import in_site_language

# Slack refuses a section text over 3,000 characters.
MAX_SECTION = 3000


def _escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@in_site_language
def slack_message(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("data", {})
    account = data.get("account") or {}
    summary = str(data.get("summary", payload.get("type", "")))
    name = account.get("name")
    text = f"{name}: {summary}" if name else summary
    headline = f"*{_escape(name)}*: {_escape(summary)}" if name else _escape(summary)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline[:MAX_SECTION]}}
    ]
    reasons = [str(reason.get("text", "")) for reason in data.get("reasons") or []]
    if reasons:
        bullets = "\n".join(f"• {_escape(reason)}" for reason in reasons)
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": bullets[:MAX_SECTION]}}
        )
    if account.get("url"):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": _("Open the account")},
                        "url": account["url"],
                    }
                ],
            }
        )
    return {"text": text, "blocks": blocks}
