"""The REST API's docs page (/api/v1/docs, ninja's vendored Swagger UI) draws every operation
under the strict Content-Security-Policy without a violation, and can call the API with a key."""

from __future__ import annotations

import pytest

from health.services_keys import create_api_key
from tests.browser.test_csp import Watcher
from tests.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_works_under_the_policy(live_server, chromium):
    AccountFactory(external_id="acme", name="Acme")
    key = create_api_key(name="docs", actor=None, scopes=["read"]).key
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    watcher = Watcher(context)
    page = watcher.page
    watcher.visit(live_server.url + "/api/v1/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 12

    # Authorize with the key, then try "GET /api/v1/accounts" from the page.
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".modal-ux input[type=text], .modal-ux input[type=password]").first.fill(key)
    page.locator(".modal-ux button.modal-btn.authorize").click()
    page.locator(".modal-ux button.btn-done").click()
    page.locator("#operations-accounts-csm_api_accounts_list_accounts").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.locator(".live-responses-table .response-col_status").first.wait_for()
    assert "Acme" in page.locator(".live-responses-table").inner_text()
    watcher.collect()
    assert watcher.found == []
    context.close()
