"""The managers' Outbox page (Setup → Outbox): every email the app queued (survey invitations,
usage tips, detractor alerts), queued, failed or sent, filtered and paged; one message to read;
a failed one retried now. The outbox itself is csm.lib.outbox; the retry is audited here.

Without EMAIL_URL (the embedded default) nothing leaves the machine: the drain marks emails sent
to Django's dummy backend, and this page is where they are read."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.access import AuthenticatedHttpRequest, manager_required
from accounts.audit import record_changes
from csm.lib.http import paged, partial_template
from csm.lib.models import OutboxEmail, OutboxStatus
from csm.lib.outbox import retry_now
from csm.lib.tasks import request_drain

PAGE_SIZE = 50
DUMMY_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any"))] + list(OutboxStatus.choices),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False, choices=[])
    to = forms.CharField(label=gettext_lazy("To"), required=False, max_length=254)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        kinds = OutboxEmail.objects.order_by("kind").values_list("kind", flat=True).distinct()
        self.fields["kind"].choices = [("", _("Any"))] + [(k, k) for k in kinds]  # type: ignore[attr-defined]


def emails_delivered() -> bool:
    """False in the embedded default: no EMAIL_URL, so the backend keeps nothing and sends
    nothing, and the outbox is the only copy."""
    return settings.EMAIL_BACKEND != DUMMY_BACKEND


@manager_required
@require_GET
def outbox_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    # Newest first by id: the primary key's index serves the page on a large table.
    emails = OutboxEmail.objects.order_by("-pk")
    if form.is_valid():
        emails = emails.with_status(form.cleaned_data["status"])
        if form.cleaned_data["kind"]:
            emails = emails.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["to"]:
            emails = emails.filter(to__icontains=form.cleaned_data["to"])
    # The body is not shown in the list: leave it in the database.
    page, query = paged(request, emails.defer("body"), PAGE_SIZE)
    template = partial_template(request, "outbox/outbox_list.html", "outbox-table")
    context = {"form": form, "page": page, "query": query, "nav": "outbox"}
    context["delivered"] = emails_delivered()
    return TemplateResponse(request, template, context)


@manager_required
@require_GET
def outbox_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    email = get_object_or_404(OutboxEmail.objects.select_related("account"), pk=pk)
    return TemplateResponse(
        request,
        "outbox/outbox_detail.html",
        {"email": email, "delivered": emails_delivered(), "nav": "outbox"},
    )


@manager_required
@require_POST
def outbox_retry(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Send a failed (or still queued) email now rather than at its next scheduled attempt.
    Audited: who asked, and when the attempt was due before."""
    email = get_object_or_404(OutboxEmail, pk=pk)
    with transaction.atomic():
        was_due = email.send_after
        if retry_now(email.pk):
            record_changes(
                actor=request.user,
                obj=email,
                action="outbox.retry",
                changes={"send_after": (timezone.localtime(was_due), _("now"))},
                account=email.account,
            )
            transaction.on_commit(request_drain)
            messages.success(request, _("The email is queued to be sent now."))
        else:
            messages.info(request, _("This email was already sent."))
    return redirect("outbox:detail", pk=email.pk)
