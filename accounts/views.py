"""Editing an account's profile and adding contacts (the account list and page are the
workflow's: csm/workflow/views/accounts.py, since they show health, blueprints and risk), and a
user's own profile (their language)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import AuthenticatedHttpRequest, get_account_for_user
from accounts.forms import AccountForm, ContactForm, ProfileForm
from accounts.models import Account
from accounts.services import add_contact, update_account
from csm.lib.languages import activate_for_request


@login_required
def account_edit(request: AuthenticatedHttpRequest, external_id: str) -> TemplateResponse:
    account = get_account_for_user(request.user, external_id, write=True)
    if request.method == "POST":
        form = AccountForm(
            request.POST, instance=Account.objects.get(pk=account.pk), user=request.user
        )
        if form.is_valid():
            update_account(
                account=account,
                actor=request.user,
                changes=form.changed_values(),
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("Saved the changes to %(name)s.") % {"name": account.name})
            return redirect("accounts:detail", external_id=account.external_id)
    else:
        form = AccountForm(instance=account, user=request.user)
    return TemplateResponse(
        request, "accounts/account_edit.html", {"account": account, "form": form}
    )


@require_POST
@login_required
def contact_add(request: AuthenticatedHttpRequest, external_id: str) -> TemplateResponse:
    account = get_account_for_user(request.user, external_id, write=True)
    form = ContactForm(request.POST, account=account)
    if form.is_valid():
        try:
            contact = add_contact(actor=request.user, account=account, **form.cleaned_data)
        except ValidationError as error:  # added by someone else since the form checked
            form.add_error(None, error)
        else:
            messages.success(request, _("Added %(name)s.") % {"name": contact.name})
            return redirect("accounts:detail", external_id=account.external_id)
    return TemplateResponse(
        request, "accounts/contact_add.html", {"account": account, "contact_form": form}
    )


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A user's own settings. The language is kept on the user (every device, and the emails
    they get) and in the language cookie (the login page then greets them in it); blank forgets
    both and follows the browser's Accept-Language again."""
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            form.save()
            language = form.cleaned_data["language"]
            activate_for_request(request, language)
            messages.success(request, _("Saved your settings."))
            response = redirect("profile")
            if language:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    language,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                )
            else:
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
    else:
        form = ProfileForm(instance=request.user)
    return TemplateResponse(request, "accounts/profile.html", {"form": form, "nav": "profile"})
