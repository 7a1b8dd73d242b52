"""The managers' import pages: upload, preview, confirm once."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts import imports
from accounts.models import Account, AuditEntry, ImportBatch, ImportKind, Subscription
from tests.factories import AccountFactory

UPLOAD_URL = reverse("accounts:import_upload")
HEADER = "external_id,name,segment,owner_email,contract_start,renewal_date,strategic,tier,seats"


def csv(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def upload(client, text: str | bytes, kind: str = "accounts", name: str = "accounts.csv"):
    data = text.encode() if isinstance(text, str) else text
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(UPLOAD_URL, {"kind": kind, "file": file})


def batch_of(text: str, maggie, kind: str = ImportKind.ACCOUNTS) -> ImportBatch:
    return ImportBatch.objects.create(
        kind=kind, filename="accounts.csv", content=text, uploaded_by=maggie
    )


def preview_url(batch: ImportBatch) -> str:
    return reverse("accounts:import_preview", args=[batch.pk])


# --- Access --------------------------------------------------------------------------------------


def test_a_csm_gets_403_on_every_import_page(alice_client, maggie):
    batch = batch_of(csv(HEADER, "acme,Acme,basic,,2025-01-15,,,,"), maggie)
    assert alice_client.get(UPLOAD_URL).status_code == 403
    assert upload(alice_client, csv(HEADER)).status_code == 403
    assert alice_client.get(preview_url(batch)).status_code == 403
    assert alice_client.post(preview_url(batch)).status_code == 403
    assert ImportBatch.objects.count() == 1 and Account.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    response = client.get(UPLOAD_URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- Upload --------------------------------------------------------------------------------------


def test_the_upload_page_describes_the_exact_columns(maggie_client):
    response = maggie_client.get(UPLOAD_URL)
    assert response.status_code == 200
    assert response.context["nav"] == "imports"
    content = response.content.decode()
    assert HEADER in content
    assert "subscription_id,account_external_id,start_date,end_date,amount,interval" in content
    assert 'enctype="multipart/form-data"' in content and "csrfmiddlewaretoken" in content


def test_an_upload_is_stored_as_sent_and_redirects_to_its_preview(maggie_client, maggie):
    text = "\ufeff" + csv(HEADER, "acme,Acme,basic,,2025-01-15,,,,").replace("\n", "\r\n")
    response = upload(maggie_client, text, name="q3 accounts.csv")
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == preview_url(batch)
    assert (batch.kind, batch.filename, batch.uploaded_by) == (
        "accounts",
        "q3 accounts.csv",
        maggie,
    )
    assert batch.content == text.removeprefix("\ufeff")
    assert batch.applied_at is None and Account.objects.count() == 0


def test_a_file_that_is_not_utf8_gets_a_form_error(maggie_client):
    latin1 = csv(HEADER, "acme,Café,basic,,2025-01-15,,,,").encode("latin-1")
    response = upload(maggie_client, latin1)
    assert response.status_code == 200
    assert "not UTF-8" in response.context["form"].errors["file"][0]
    assert ImportBatch.objects.count() == 0


def test_a_file_over_20_mb_gets_a_form_error(maggie_client):
    big = HEADER.encode() + b"\n" + b"x" * imports.MAX_FILE_BYTES
    response = upload(maggie_client, big)
    assert response.status_code == 200
    assert "larger than 20 MB" in response.context["form"].errors["file"][0]
    assert ImportBatch.objects.count() == 0


def test_an_upload_without_a_file_gets_a_form_error(maggie_client):
    response = maggie_client.post(UPLOAD_URL, {"kind": "accounts"})
    assert response.status_code == 200 and "file" in response.context["form"].errors


# --- Preview -------------------------------------------------------------------------------------


def test_the_preview_shows_every_row_error_and_no_import_button(maggie_client, maggie):
    batch = batch_of(
        csv(HEADER, "acme,Acme,gold,,2025-01-15,,,,", "globex,Globex,basic,x@example.com,soon,,,,"),
        maggie,
    )
    response = maggie_client.get(preview_url(batch))
    assert response.status_code == 200
    assert response.context["errors"] == [
        "line 2: segment: must be one of basic, advanced, strategic",
        "line 3: owner_email: unknown user",
        "line 3: contract_start: not a date (YYYY-MM-DD)",
    ]
    content = response.content.decode()
    assert "line 3: owner_email: unknown user" in content
    assert "Import now" not in content


def test_the_preview_lists_creates_updates_and_unchanged_rows_and_writes_nothing(
    maggie_client, maggie, alice
):
    AccountFactory(external_id="acme", name="Acme", contract_start="2025-01-15", segment="basic")
    AccountFactory(external_id="same", name="Same", contract_start="2025-01-15", segment="basic")
    batch = batch_of(
        csv(
            "external_id,name,segment,owner_email,contract_start",
            "acme,Acme Inc,basic,alice@example.com,2025-01-15",
            "same,Same,basic,,2025-01-15",
            "new,New,basic,,2025-01-15",
        ),
        maggie,
    )
    response = maggie_client.get(preview_url(batch))
    assert response.status_code == 200
    assert response.context["summary"] == {"created": 1, "updated": 1, "unchanged": 1}
    rows = {row.key: row for row in response.context["rows"]}
    assert rows["acme"].action == "update" and rows["acme"].changed_fields == ["name", "owner"]
    assert rows["new"].action == "create" and rows["same"].action == "unchanged"
    content = response.content.decode()
    assert "Import now" in content and "alice@example.com" in content
    assert Account.objects.get(external_id="acme").name == "Acme"
    assert Account.objects.count() == 2


# --- Confirm -------------------------------------------------------------------------------------


def test_confirming_applies_the_batch_and_redirects_to_the_account_list(maggie_client, maggie):
    AccountFactory(external_id="acme")
    batch = batch_of(
        "subscription_id,account_external_id,start_date,end_date,amount,interval\n"
        "sub-1,acme,2025-01-15,,1200,year\n",
        maggie,
        kind=ImportKind.SUBSCRIPTIONS,
    )
    response = maggie_client.post(preview_url(batch))
    assert response.status_code == 302 and response.url == reverse("accounts:list")
    assert Subscription.objects.get(subscription_id="sub-1").mrr == 100
    batch.refresh_from_db()
    assert batch.applied_at is not None
    assert batch.summary == {"created": 1, "updated": 0, "unchanged": 0}


def test_a_second_confirm_does_not_apply_the_batch_again(maggie_client, maggie):
    batch = batch_of(csv(HEADER, "acme,Acme,basic,,2025-01-15,,,,"), maggie)
    maggie_client.post(preview_url(batch))
    batch.refresh_from_db()
    applied_at = batch.applied_at
    # Someone edits the account afterwards; a replayed confirm must not undo that.
    Account.objects.filter(external_id="acme").update(name="Edited since")

    response = maggie_client.post(preview_url(batch))
    assert response.status_code == 302 and response.url == preview_url(batch)
    assert Account.objects.get(external_id="acme").name == "Edited since"
    batch.refresh_from_db()
    assert batch.applied_at == applied_at
    page = maggie_client.get(preview_url(batch))
    assert "already imported" in page.content.decode()
    assert "Import now" not in page.content.decode()


def test_confirming_a_file_with_errors_writes_nothing(maggie_client, maggie):
    AccountFactory(external_id="acme", name="Acme")
    batch = batch_of(
        csv(HEADER, "acme,Renamed,basic,,2025-01-15,,,,", "new,New,gold,,2025-01-15,,,,"), maggie
    )
    response = maggie_client.post(preview_url(batch))
    assert response.status_code == 302 and response.url == preview_url(batch)
    assert list(Account.objects.values_list("external_id", "name")) == [("acme", "Acme")]
    batch.refresh_from_db()
    assert batch.applied_at is None and batch.summary == {}


def test_owner_and_tier_changes_are_audited_with_the_manager_as_actor(
    maggie_client, maggie, alice, bob
):
    account = AccountFactory(external_id="acme", name="Acme", owner=alice)
    batch = batch_of(csv(HEADER, "acme,Acme,basic,bob@example.com,2025-01-15,,,B,"), maggie)
    maggie_client.post(preview_url(batch))
    entries = AuditEntry.objects.filter(account=account)
    assert {(e.field, e.old_value, e.new_value, e.actor) for e in entries} == {
        ("owner", str(alice), str(bob), maggie),
        ("tier_override", "", "B", maggie),
    }
    account.refresh_from_db()
    assert (account.owner, account.tier, account.tier_override) == (bob, "B", "B")
    assert account.tier_override_reason == "set by import of accounts.csv"


# --- A file without rows -------------------------------------------------------------------------


def test_a_header_only_file_says_nothing_to_import_and_offers_no_button(maggie_client, maggie):
    for kind, header in (
        ("accounts", HEADER),
        (
            "subscriptions",
            "subscription_id,account_external_id,start_date,end_date,amount,interval",
        ),
    ):
        batch = batch_of(csv(header), maggie, kind=kind)
        body = maggie_client.get(preview_url(batch)).content.decode()
        assert "Nothing to import: the file has its header but no rows." in body
        assert "Import now" not in body


def test_confirming_a_header_only_file_writes_nothing_and_can_be_fixed(maggie_client, maggie):
    batch = batch_of(csv(HEADER), maggie)
    response = maggie_client.post(preview_url(batch), follow=True)
    assert "Nothing to import" in response.content.decode()
    batch.refresh_from_db()
    assert batch.applied_at is None and batch.summary == {}
    assert Account.objects.count() == 0 and AuditEntry.objects.count() == 0
