"""Filters for settings.LOGGING."""

from __future__ import annotations

import logging


class OneLineForbidden(logging.Filter):
    """Drop the traceback from the record Django logs for a 403 (`Forbidden (Permission
    denied): /path`): a refused page is an everyday event whose stack says nothing new. Other
    records, server errors included, keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
