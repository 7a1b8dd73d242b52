"""A 403 is an everyday event (a CSM opening a managers' page): the log gets one line for it, not
a traceback, and not the same record twice (Django's own console handler beside the root's)."""

from __future__ import annotations

import io
import logging

import pytest


def stream_handlers_of(logger_name):
    """Every console handler a record of `logger_name` reaches, as Logger.callHandlers walks
    them (pytest's capturing handlers are subclasses of StreamHandler: not those)."""
    logger = logging.getLogger(logger_name)
    handlers = []
    while logger:
        handlers += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        logger = logger.parent if logger.propagate else None
    return handlers


@pytest.fixture
def log_output():
    """What the configured log handlers print while the test runs (settings.LOGGING's console
    handler, and Django's own, which prints only when DEBUG is on)."""
    output = io.StringIO()
    handlers = stream_handlers_of("django.request")
    assert handlers, "settings.LOGGING has no console handler"
    # Swapped by hand, not by setStream(), which flushes the old stream first: an earlier test
    # may have left a handler on pytest's captured stderr, closed since.
    previous = [handler.stream for handler in handlers]
    for handler in handlers:
        handler.stream = output
    yield output
    for handler, stream in zip(handlers, previous, strict=True):
        handler.stream = stream


@pytest.mark.parametrize("debug", [False, True])
def test_a_403_prints_one_line(alice_client, settings, log_output, debug):
    settings.DEBUG = debug

    response = alice_client.get("/settings/scorecard/")

    assert response.status_code == 403
    lines = log_output.getvalue().splitlines()
    assert lines == ["Forbidden (Permission denied): /settings/scorecard/"]


def test_a_403_record_carries_no_traceback(alice_client, caplog):
    with caplog.at_level(logging.WARNING):
        alice_client.get("/kpis/goals/new/")

    forbidden = [r for r in caplog.records if getattr(r, "status_code", None) == 403]
    assert len(forbidden) == 1
    assert forbidden[0].exc_info is None
    assert "Traceback" not in caplog.text


def test_other_errors_keep_their_traceback(log_output):
    """Only 403s lose the traceback: a server error keeps it, that is what it is for."""
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        logging.getLogger("django.request").error(
            "Internal Server Error: /x/", exc_info=error, extra={"status_code": 500}
        )

    printed = log_output.getvalue()
    assert "Internal Server Error: /x/" in printed
    assert "Traceback" in printed and "RuntimeError: boom" in printed
