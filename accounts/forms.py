from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, Contact, LifecycleStage, Segment, Tier, User
from accounts.services import MANAGER_FIELDS, PROFILE_FIELDS
from health.models import Band

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "mrr": ("mrr", "name", "pk"),
    "-mrr": ("-mrr", "name", "pk"),
    "renewal": ("renewal_date", "name", "pk"),
    "-renewal": ("-renewal_date", "name", "pk"),
    # Accounts without a score come last either way.
    "health": (F("health_score").asc(nulls_last=True), "name", "pk"),
    "-health": (F("health_score").desc(nulls_last=True), "name", "pk"),
}
BAND_CHOICES = [("", _("All bands")), *Band.choices, ("none", _("No score yet"))]
PAGE_SIZES = (25, 50, 100)


class AccountFilterForm(forms.Form):
    """The account list's filters, read from the query string."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=[("", _("All tiers")), *Tier.choices]
    )
    segment = forms.ChoiceField(
        label=_("Segment"), required=False, choices=[("", _("All segments")), *Segment.choices]
    )
    stage = forms.ChoiceField(
        label=_("Lifecycle stage"),
        required=False,
        choices=[("", _("All stages")), *LifecycleStage.choices],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    band = forms.ChoiceField(label=_("Health"), required=False, choices=BAND_CHOICES)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("-mrr", _("MRR, highest first")),
            ("mrr", _("MRR, lowest first")),
            ("name", _("Name, A–Z")),
            ("-name", _("Name, Z–A")),
            ("renewal", _("Renewal, soonest first")),
            ("-renewal", _("Renewal, latest first")),
            ("health", _("Health, lowest first")),
            ("-health", _("Health, highest first")),
        ],
    )

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("All owners")),
            ("me", _("My book")),
            ("none", _("Unassigned")),
            *[(str(u.pk), str(u)) for u in owners],
        ]

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "-mrr"


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
        fields = ["name", "email", "role", "is_primary"]

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if self.account.contacts.filter(email=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("This account already has a contact with this email."))
        return email
