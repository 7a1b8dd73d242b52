from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import DUPLICATE_CONTACT_EMAIL, Account, Contact, User
from accounts.services import MANAGER_FIELDS, PROFILE_FIELDS
from csm.lib.languages import language_choices


class AccountForm(forms.ModelForm):
    """Edit an account. CSMs get the profile fields of their own accounts; managers also the
    owner and the tier override, which needs a reason."""

    class Meta:
        model = Account
        fields = [*PROFILE_FIELDS, *MANAGER_FIELDS]
        widgets = {
            "renewal_date": forms.DateInput(attrs={"type": "date"}),
            "tier_override_reason": forms.Textarea(attrs={"rows": 2}),
        }

    reason = forms.CharField(
        label=_("Why (kept in the audit trail)"),
        required=False,
        max_length=500,
        widget=forms.TextInput(),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not user.is_manager:
            for field in MANAGER_FIELDS:
                del self.fields[field]
        else:
            self.fields["owner"].queryset = User.objects.filter(is_active=True)
            self.fields["tier_override"].help_text = _(
                "Leave empty to let the tier rule decide (strategic or MRR band)."
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("tier_override") and not (data.get("tier_override_reason") or "").strip():
            self.add_error("tier_override_reason", _("Say why this account gets a different tier."))
        return data

    def changed_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields if name != "reason"}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "role", "is_primary", "language"]
        help_texts = {
            "language": _(
                "Surveys, emails and the blueprint page they get. Blank: their browser's on the "
                "pages, this installation's language in emails."
            )
        }

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["language"].choices = [("", _("Not set")), *language_choices()]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        # The same rule as accounts.services.add_contact, said next to the field before posting.
        if self.account.contacts.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(DUPLICATE_CONTACT_EMAIL)
        return email


class ProfileForm(forms.ModelForm):
    """A user's own settings: the language of their pages and emails."""

    class Meta:
        model = User
        fields = ["language"]
        help_texts = {
            "language": _("Your pages and the emails sent to you. Blank: your browser's language.")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The browser's language")), *language_choices()]
