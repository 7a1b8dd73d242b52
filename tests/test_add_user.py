from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User


def run(*args, **env):
    from io import StringIO

    out = StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue()


def test_it_creates_a_csm_and_prints_a_one_time_password(db):
    out = run("Nina@Example.com", "--role", "csm", "--name", "Nina Novak")
    user = User.objects.get(email="nina@example.com")
    assert user.role == "csm" and user.name == "Nina Novak"
    password = out.split("One-time password: ")[1].strip()
    assert user.check_password(password)


def test_it_changes_the_role_of_an_existing_user_without_touching_the_password(db):
    run("lee@example.com", "--role", "csm")
    user = User.objects.get(email="lee@example.com")
    old_hash = user.password
    out = run("lee@example.com", "--role", "manager")
    user.refresh_from_db()
    assert user.role == "manager" and user.password == old_hash
    assert "One-time password" not in out


def test_it_takes_the_password_from_a_named_environment_variable(db, monkeypatch):
    monkeypatch.setenv("NEW_PW", "s3cret-horse-battery")
    out = run("kim@example.com", "--role", "manager", "--password-env", "NEW_PW")
    assert "s3cret" not in out and "One-time password" not in out
    assert User.objects.get(email="kim@example.com").check_password("s3cret-horse-battery")


def test_a_missing_password_variable_is_an_error_and_writes_nothing(db, monkeypatch):
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(CommandError, match="--password-env"):
        run("kim@example.com", "--role", "csm", "--password-env", "NOPE")
    assert not User.objects.exists()


def test_a_bad_email_or_role_is_refused(db):
    with pytest.raises(CommandError, match="email"):
        run("not-an-email", "--role", "csm")
    with pytest.raises(CommandError):
        run("ok@example.com", "--role", "boss")
    assert not User.objects.exists()
