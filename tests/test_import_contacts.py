"""import_contacts: upsert by account and email, the language column, all-or-nothing, the command
and the managers' upload page."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts import imports
from accounts.models import AuditEntry, Contact, ImportBatch, ImportKind
from feedback.services import send_invitation
from tests.factories import AccountFactory, ContactFactory
from tests.surveys import customer, survey, token_of

HEADER = "external_id,name,email,role,is_primary,language"
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def csv(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def run(text: str, actor=None) -> imports.Plan:
    return imports.run_import(ImportKind.CONTACTS, text, filename="contacts.csv", actor=actor)


def snapshot() -> list[tuple]:
    return list(
        Contact.objects.order_by("pk").values_list(
            "account_id", "name", "email", "role", "is_primary", "language"
        )
    )


@pytest.fixture
def acme(db):
    return AccountFactory(external_id="acme")


def test_a_good_file_creates_and_updates_contacts(acme):
    old_primary = ContactFactory(account=acme, email="li@acme.example", is_primary=True)
    kept = ContactFactory(account=acme, email="kept@acme.example", name="Kept", role="CTO")
    other = AccountFactory(external_id="globex")

    plan = run(
        csv(
            "acme,Li Na,LI@Acme.example,CEO,no,zh-Hans",
            "acme,Wang Wei,wang@acme.example,,yes,",
            "globex,Li Na,li@acme.example,,1,en",
            "acme,Kept,KEPT@acme.example,CTO,,",
        )
    )

    assert plan.summary == {"created": 2, "updated": 1, "unchanged": 1}
    old_primary.refresh_from_db()
    assert (old_primary.name, old_primary.email, old_primary.role) == (
        "Li Na",
        "li@acme.example",
        "CEO",
    )
    assert (old_primary.is_primary, old_primary.language) == (False, "zh-hans")
    wang = Contact.objects.get(account=acme, email="wang@acme.example")
    assert wang.is_primary and wang.language == ""
    globex_li = Contact.objects.get(account=other)
    assert (globex_li.email, globex_li.is_primary, globex_li.language) == (
        "li@acme.example",
        True,
        "en",
    )
    assert Contact.objects.get(pk=kept.pk).name == "Kept"
    assert Contact.objects.filter(account=acme, is_primary=True).get() == wang
    audited = set(
        AuditEntry.objects.filter(action="contact.import").values_list("object_id", "field")
    )
    assert (str(old_primary.pk), "language") in audited and (str(wang.pk), "is_primary") in audited
    assert not any(object_id == str(kept.pk) for object_id, _ in audited)


def test_a_new_primary_in_the_file_takes_over_from_the_stored_one(acme):
    stored = ContactFactory(account=acme, is_primary=True)
    run(csv("acme,New Boss,boss@acme.example,,true,"))
    stored.refresh_from_db()
    assert not stored.is_primary
    assert Contact.objects.get(account=acme, is_primary=True).email == "boss@acme.example"


def test_a_column_left_out_keeps_the_stored_value(acme):
    ContactFactory(account=acme, email="li@acme.example", language="zh-hans", role="CFO")
    run("external_id,name,email\nacme,Li Na,li@acme.example\n")
    contact = Contact.objects.get(account=acme)
    assert (contact.name, contact.role, contact.language) == ("Li Na", "CFO", "zh-hans")


def test_a_file_with_bad_rows_writes_nothing_and_lists_every_problem(acme):
    ContactFactory(account=acme, email="li@acme.example", name="Li")
    before = snapshot()
    text = csv(
        "acme,Li Na,li@acme.example,,,zh-hans",  # line 2: fine on its own
        "nowhere,Ann,ann@x.example,,,",
        "acme,Bob,not-an-email,,,",
        "acme,,carl@acme.example,,,",
        "acme,Dee,dee@acme.example,,,fr",
        "acme,Eve,eve@acme.example,,true,",
        "acme,Fay,fay@acme.example,,yes,",
        "acme,Li again,LI@ACME.example,,,",
        "acme,Gus,gus@acme.example,,maybe,",
    )
    with pytest.raises(imports.ImportErrors) as raised:
        run(text)
    assert raised.value.errors == [
        "line 3: external_id: unknown account",
        "line 4: email: not an email address",
        "line 5: name: required",
        "line 6: language: must be one of en, zh-hans",
        "line 8: is_primary: line 7 already makes a primary contact of this account",
        "line 9: email: duplicate of line 2",
        "line 10: is_primary: must be true or false (or 1/0, yes/no)",
    ]
    assert snapshot() == before
    assert not AuditEntry.objects.exists()


def test_the_language_column_sets_the_language_of_the_survey_page(client, db):
    account, contact = customer(external_id="shanghai-co")
    invitation = send_invitation(survey=survey(), contact=contact)
    url = reverse("feedback:answer", args=[token_of(invitation)])
    assert '<html lang="en"' in client.get(url, **ENGLISH).content.decode()

    run(csv(f"shanghai-co,{contact.name},{contact.email.upper()},,true,zh-Hans"))

    contact.refresh_from_db()
    assert contact.language == "zh-hans"
    body = client.get(url, **ENGLISH).content.decode()
    assert '<html lang="zh-hans"' in body
    response = client.post(url, {"score": "9"}, follow=True, **ENGLISH)
    assert "谢谢您！" in response.content.decode()


# --- The command ---------------------------------------------------------------------------------


def test_the_command_imports_and_prints_a_summary(acme, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(csv("acme,Li Na,li@acme.example,CEO,true,zh-hans"), encoding="utf-8")
    out = StringIO()
    call_command("import_contacts", str(path), stdout=out)
    assert out.getvalue().strip() == "contacts: 1 created, 0 updated, 0 unchanged"
    assert Contact.objects.get(account=acme).language == "zh-hans"


def test_the_command_prints_every_error_and_fails_with_code_1(acme, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text(csv("acme,Li,li@acme.example,,,", "nowhere,Ann,bad,,,xx"), encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_contacts", str(path), stderr=err)
    assert raised.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "line 3: external_id: unknown account",
        "line 3: email: not an email address",
        "line 3: language: must be one of en, zh-hans",
    ]
    assert not Contact.objects.exists()


# --- The upload page -----------------------------------------------------------------------------


def test_the_upload_page_offers_contacts_with_their_columns(maggie_client):
    body = maggie_client.get(reverse("accounts:import_upload")).content.decode()
    assert 'value="contacts"' in body and HEADER in body
    assert "one of en, zh-hans" in body


def test_a_manager_previews_and_imports_a_contacts_file(maggie_client, maggie, acme):
    ContactFactory(account=acme, email="li@acme.example", name="Li")
    text = csv("acme,Li Na,li@acme.example,,,zh-hans", "acme,Wang,wang@acme.example,,,")
    file = SimpleUploadedFile("contacts.csv", text.encode(), content_type="text/csv")
    response = maggie_client.post(
        reverse("accounts:import_upload"), {"kind": "contacts", "file": file}
    )
    batch = ImportBatch.objects.get()
    assert batch.kind == "contacts"
    assert response.url == reverse("accounts:import_preview", args=[batch.pk])
    preview = maggie_client.get(response.url).content.decode()
    assert "wang@acme.example" in preview and "zh-hans" in preview
    assert Contact.objects.count() == 1  # the preview writes nothing

    response = maggie_client.post(response.url, follow=True)
    assert "1 created, 1 updated, 0 unchanged" in response.content.decode()
    assert Contact.objects.get(email="li@acme.example").language == "zh-hans"
    entry = AuditEntry.objects.get(action="contact.import", field="language")
    assert entry.actor == maggie and entry.account == acme


def test_a_contacts_file_with_errors_shows_them_and_imports_nothing(maggie_client, maggie, acme):
    batch = ImportBatch.objects.create(
        kind=ImportKind.CONTACTS,
        filename="contacts.csv",
        content=csv("acme,Li,li@acme.example,,,klingon", "acme,,x@acme.example,,,"),
        uploaded_by=maggie,
    )
    url = reverse("accounts:import_preview", args=[batch.pk])
    body = maggie_client.get(url).content.decode()
    assert "line 2: language: must be one of en, zh-hans" in body
    assert "line 3: name: required" in body and "Import now" not in body
    maggie_client.post(url)
    assert not Contact.objects.exists()
