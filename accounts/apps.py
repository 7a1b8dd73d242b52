from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Registers the contacts' kind of CSV import with accounts.imports.
        from accounts import contact_imports  # noqa: F401
