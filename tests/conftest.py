"""The fixed cast: Alice is a CSM who owns accounts, Bob is another CSM, Maggie is a manager."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache
from django.utils import translation

from accounts.models import Role
from csm.celery import app
from health.services_keys import create_api_key
from tests.factories import UserFactory
from tests.tips import LOCMEM, NOW
from tests.webhook_receiver import Receiver, free_port


@pytest.fixture(autouse=True)
def default_language_after_each_test():
    """A request in Chinese leaves Chinese active in the thread (LocaleMiddleware sets the
    language per request and never resets it): the next test starts in the default language."""
    yield
    translation.deactivate()


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", name="Alice Archer", role=Role.CSM)


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", name="Bob Baker", role=Role.CSM)


@pytest.fixture
def maggie(db):
    return UserFactory(email="maggie@example.com", name="Maggie Manager", role=Role.MANAGER)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def maggie_client(client, maggie):
    client.force_login(maggie)
    return client


@pytest.fixture
def receiver():
    """A real HTTP server in a thread for the outbound webhook tests (tests/webhook_receiver.py)."""
    server = Receiver(port=free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def tasks_in_process():
    """Celery runs the drain in-process, as in the embedded default, also when the suite runs
    with REDIS_URL set (no worker there)."""
    before = app.conf.task_always_eager
    app.conf.update(task_always_eager=True)
    yield
    app.conf.update(task_always_eager=before)


@pytest.fixture
def tips_night(settings):
    """The outbox and usage-tips tests run at tests.tips.NOW, with email kept in memory."""
    settings.EMAIL_BACKEND = LOCMEM
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ingest_key(db) -> str:
    """A new ingest API key (the events API's Bearer key, Segment's write key)."""
    return create_api_key(name="product", actor=None).key


@pytest.fixture(autouse=True)
def _fresh_local_cache(settings):
    """Without REDIS_URL the cache is this process's memory: empty it after each test, so a value
    cached from one test's rows (the backtest page's report, say) is never read by the next. A
    shared Redis cache is left alone (other workers use it at the same time)."""
    yield
    if "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        cache.clear()
