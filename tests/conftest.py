"""The fixed cast: Alice is a CSM who owns accounts, Bob is another CSM, Maggie is a manager."""

from __future__ import annotations

import pytest
import time_machine
from django.utils import translation

from accounts.models import Role
from tests.factories import UserFactory
from tests.tips import LOCMEM, NOW


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
def tips_night(settings):
    """The outbox and usage-tips tests run at tests.tips.NOW, with email kept in memory."""
    settings.EMAIL_BACKEND = LOCMEM
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
