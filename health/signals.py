"""Signals of the health app: events the layers above answer (connected in their
AppConfig.ready(); README "Architecture")."""

from __future__ import annotations

from django.dispatch import Signal

# Usage events were stored (health.ingest.ingest_events, the one path of every event source):
# sent with `account_ids` after their accounts were marked dirty (health.models.DirtyAccount),
# inside the ingest's transaction. The workflow re-evaluates the marked accounts' risk: at once
# when tasks run in-process, else beat's task within a minute.
usage_ingested = Signal()

# A manager overrode an account's health score or removed an override: sent with `account_id`,
# inside that transaction. The workflow re-evaluates the account's risk (its band changed).
health_overridden = Signal()
