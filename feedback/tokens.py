"""The survey link's token (DESIGN §5): the invitation's random nonce, signed with SECRET_KEY.

The nonce (128 random bits) makes a link unguessable; the signature makes a tampered link fail
before any database lookup. Expiry, the single answer and revocation live on the Invitation row,
so a link can be withdrawn or closed without changing the key.
"""

from __future__ import annotations

import secrets

from django.core import signing

SALT = "feedback.invitation"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def make_token(nonce: str) -> str:
    return signing.dumps(nonce, salt=SALT)


def read_token(token: str) -> str | None:
    """The nonce a token carries, or None when it was not signed by us (tampered, truncated)."""
    try:
        nonce = signing.loads(token, salt=SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return nonce if isinstance(nonce, str) and nonce else None
