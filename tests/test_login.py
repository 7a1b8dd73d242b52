from __future__ import annotations

from django.urls import reverse

from tests.factories import UserFactory


def test_a_user_logs_in_with_email_and_password_and_lands_on_home(client, db):
    UserFactory(email="carol@example.com", password="correct horse")
    response = client.post(
        reverse("login"), {"username": "carol@example.com", "password": "correct horse"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_wrong_password_gets_a_clear_message(client, db):
    UserFactory(email="carol@example.com", password="correct horse")
    response = client.post(reverse("login"), {"username": "carol@example.com", "password": "nope"})
    assert "do not match" in response.content.decode()


def test_the_navigation_shows_imports_only_to_managers(client, alice, maggie):
    client.force_login(alice)
    assert (
        reverse("accounts:import_upload")
        not in client.get(reverse("accounts:list")).content.decode()
    )
    client.force_login(maggie)
    assert (
        reverse("accounts:import_upload") in client.get(reverse("accounts:list")).content.decode()
    )


def test_logout_is_a_post_and_ends_the_session(alice_client):
    response = alice_client.post(reverse("logout"))
    assert response.status_code == 302
    assert alice_client.get(reverse("accounts:list")).status_code == 302


def test_a_user_changes_their_password(client, db):
    user = UserFactory(email="dan@example.com", password="old-password-1")
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "old-password-1",
            "new_password1": "a-new-long-pass-42",
            "new_password2": "a-new-long-pass-42",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-new-long-pass-42")
