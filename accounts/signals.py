"""Signals of the accounts app: events the layers above answer (connected in their
AppConfig.ready(); README "Architecture"). Each is sent inside the transaction that made it."""

from __future__ import annotations

from django.dispatch import Signal

# Accounts were created or updated by an import: sent with `account_ids` (sorted). The workflow
# gives the new ones their success blueprint.
accounts_imported = Signal()

# An account's tier, owner or renewal date changed (accounts.services.update_account): sent with
# `account_id`. The workflow re-evaluates its risk (touch cadence, renewal).
account_changed = Signal()
