"""Ingest API keys: the managers' page (list, create once-shown, revoke) and create_api_key."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import AuditEntry
from health.models import ApiKey
from health.services_keys import create_api_key

KEYS_URL = reverse("health:api_keys")
EVENTS_URL = reverse("health:events")


def revoke_url(api_key: ApiKey) -> str:
    return reverse("health:api_key_revoke", args=[api_key.pk])


def ingest_status(client, key: str) -> int:
    """The status the ingest API answers to an empty batch sent with `key`."""
    return client.post(
        EVENTS_URL,
        data=json.dumps({"events": []}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    ).status_code


# --- Access --------------------------------------------------------------------------------------


def test_a_csm_gets_403_on_every_api_key_page(alice_client, maggie):
    created = create_api_key(name="product", actor=maggie)
    assert alice_client.get(KEYS_URL).status_code == 403
    assert alice_client.post(KEYS_URL, {"name": "mine"}).status_code == 403
    assert alice_client.get(revoke_url(created.api_key)).status_code == 403
    assert alice_client.post(revoke_url(created.api_key)).status_code == 403
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().is_active


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(KEYS_URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_managers_see_the_nav_link(maggie_client):
    assert f'href="{KEYS_URL}"' in maggie_client.get(reverse("accounts:list")).content.decode()


def test_csms_do_not_see_the_nav_link(alice_client):
    assert f'href="{KEYS_URL}"' not in alice_client.get(reverse("accounts:list")).content.decode()


# --- List ----------------------------------------------------------------------------------------


def test_the_list_shows_name_prefix_creator_and_status_but_never_the_key(maggie_client, maggie):
    used = create_api_key(name="product backend", actor=maggie)
    ingest_status(maggie_client, used.key)  # sets last_used_at
    old = create_api_key(name="old exporter", actor=None)
    maggie_client.post(revoke_url(old.api_key))
    response = maggie_client.get(KEYS_URL)
    assert response.status_code == 200 and response.context["nav"] == "api_keys"
    content = response.content.decode()
    assert "product backend" in content and f"{used.api_key.prefix}…" in content
    assert "Maggie Manager" in content and "Revoked" in content
    assert used.key not in content and old.key not in content
    assert used.api_key.hashed_key not in content
    assert content.count("Revoke…") == 1  # only the active key can be revoked


def test_the_list_takes_the_same_queries_for_any_number_of_keys(
    maggie_client, maggie, django_assert_num_queries
):
    create_api_key(name="one", actor=maggie)
    # Session, user, keys with their creators and revokers.
    with django_assert_num_queries(3):
        maggie_client.get(KEYS_URL)
    for n in range(5):
        create_api_key(name=f"key {n}", actor=maggie)
    with django_assert_num_queries(3):
        maggie_client.get(KEYS_URL)


# --- Create --------------------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(maggie_client, maggie):
    response = maggie_client.post(KEYS_URL, {"name": "  product backend ", "scopes": ["ingest"]})
    assert response.status_code == 200
    key = response.context["created"].key
    assert key.startswith("csm_") and len(key) > 40
    assert key in response.content.decode()
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]

    stored = ApiKey.objects.get()
    assert stored.name == "product backend" and stored.created_by == maggie
    assert stored.hashed_key == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:12]
    assert key not in {stored.name, stored.prefix, stored.hashed_key}

    # Never again: not on the list, not on the revoke page.
    assert key not in maggie_client.get(KEYS_URL).content.decode()
    assert key not in maggie_client.get(revoke_url(stored)).content.decode()


def test_a_new_key_works_on_the_ingest_api(maggie_client):
    response = maggie_client.post(KEYS_URL, {"name": "product", "scopes": ["ingest"]})
    assert ingest_status(maggie_client, response.context["created"].key) == 200


def test_a_key_needs_a_name(maggie_client):
    response = maggie_client.post(KEYS_URL, {"name": "   "})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert "field-error" in response.content.decode()
    assert ApiKey.objects.count() == 0


def test_creating_a_key_is_audited(maggie_client, maggie):
    maggie_client.post(KEYS_URL, {"name": "product", "scopes": ["ingest"]})
    api_key = ApiKey.objects.get()
    entries = AuditEntry.objects.filter(action="api_key.create")
    assert {(e.field, e.new_value) for e in entries} == {
        ("name", "product"),
        ("prefix", api_key.prefix),
        ("scopes", "ingest"),
    }
    for entry in entries:
        assert entry.actor == maggie and entry.account is None
        assert (entry.object_type, entry.object_id) == ("health.apikey", str(api_key.pk))


# --- Revoke --------------------------------------------------------------------------------------


def test_revoking_asks_to_confirm_first(maggie_client, maggie):
    created = create_api_key(name="product", actor=maggie)
    response = maggie_client.get(revoke_url(created.api_key))
    assert response.status_code == 200
    assert 'method="post"' in response.content.decode()
    assert ApiKey.objects.get().is_active


def test_a_revoked_key_gets_401_and_the_revocation_is_audited(maggie_client, maggie):
    created = create_api_key(name="product", actor=maggie)
    assert ingest_status(maggie_client, created.key) == 200
    response = maggie_client.post(revoke_url(created.api_key))
    assert response.status_code == 302 and response.url == KEYS_URL

    api_key = ApiKey.objects.get()
    assert not api_key.is_active and api_key.revoked_by == maggie
    assert ingest_status(maggie_client, created.key) == 401
    entry = AuditEntry.objects.get(action="api_key.revoke")
    assert (entry.actor, entry.account, entry.field) == (maggie, None, "revoked_at")
    assert entry.object_id == str(api_key.pk) and entry.new_value


def test_revoking_twice_changes_nothing_the_second_time(maggie_client, maggie):
    created = create_api_key(name="product", actor=maggie)
    maggie_client.post(revoke_url(created.api_key))
    revoked_at = ApiKey.objects.get().revoked_at
    response = maggie_client.post(revoke_url(created.api_key), follow=True)
    assert "already revoked" in response.content.decode()
    assert ApiKey.objects.get().revoked_at == revoked_at
    assert AuditEntry.objects.filter(action="api_key.revoke").count() == 1


def test_revoking_an_unknown_key_is_a_404(maggie_client):
    assert maggie_client.post(reverse("health:api_key_revoke", args=[999])).status_code == 404


# --- create_api_key ------------------------------------------------------------------------------


def test_the_command_prints_a_working_key_once(client, db):
    out, err = StringIO(), StringIO()
    call_command("create_api_key", "product backend", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "\n" not in key and key.startswith("csm_")
    assert "not shown again" in err.getvalue() and key not in err.getvalue()
    stored = ApiKey.objects.get()
    assert stored.name == "product backend" and stored.created_by is None
    assert stored.hashed_key == hashlib.sha256(key.encode()).hexdigest()
    assert AuditEntry.objects.filter(action="api_key.create", actor=None).exists()
    assert ingest_status(client, key) == 200


def test_the_command_refuses_a_blank_name(db):
    with pytest.raises(CommandError, match="name"):
        call_command("create_api_key", " ", stdout=StringIO(), stderr=StringIO())
    assert ApiKey.objects.count() == 0


# --- Scopes --------------------------------------------------------------------------------------


def test_a_manager_chooses_the_scopes_of_a_new_key(maggie_client):
    response = maggie_client.post(KEYS_URL, {"name": "warehouse", "scopes": ["write", "read"]})
    assert response.status_code == 200
    api_key = ApiKey.objects.get()
    assert api_key.scopes == "read write"
    assert "read write" in response.content.decode()
    audited = AuditEntry.objects.filter(action="api_key.create", field="scopes")
    assert audited.get().new_value == "read write"


def test_a_key_needs_at_least_one_scope(maggie_client):
    response = maggie_client.post(KEYS_URL, {"name": "nothing"})
    assert response.status_code == 200
    assert "scopes" in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_an_unknown_scope_is_refused_by_the_form(maggie_client):
    response = maggie_client.post(KEYS_URL, {"name": "x", "scopes": ["admin"]})
    assert "scopes" in response.context["form"].errors and not ApiKey.objects.exists()


def test_the_command_takes_scopes(db):
    out = StringIO()
    call_command(
        "create_api_key", "reader", "--scopes", "read, ingest", stdout=out, stderr=StringIO()
    )
    assert ApiKey.objects.get().scopes == "ingest read"


def test_the_command_refuses_an_unknown_scope_naming_the_option(db):
    with pytest.raises(CommandError, match="--scopes: unknown scope 'admin'"):
        call_command("create_api_key", "x", "--scopes", "read,admin", stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_the_events_api_needs_the_ingest_scope(client, db):
    reader = create_api_key(name="reader", actor=None, scopes=["read", "write"]).key
    response = client.post(
        EVENTS_URL,
        data=json.dumps({"events": []}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert response.status_code == 403
    assert response.json() == {"error": "this API key lacks the ingest scope"}
    assert ingest_status(client, create_api_key(name="p", actor=None).key) == 200
