from __future__ import annotations

from django.contrib import admin

from feedback.models import Competitor, Invitation, KeywordRule, Response, Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "every_days", "is_exit_survey", "active"]
    list_filter = ["kind", "active", "is_exit_survey"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    # The nonce is the secret half of the customer's link: never shown.
    list_display = ["survey", "account", "email", "created_at", "opened_at", "answered_at"]
    list_filter = ["survey"]
    search_fields = ["email", "account__name", "account__external_id"]
    exclude = ["nonce"]
    readonly_fields = ["survey", "account", "contact", "email", "outbox", "sent_by", "created_at"]
    list_select_related = ["survey", "account"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "score", "answered_at"]
    list_filter = ["kind"]
    search_fields = ["account__name", "comment"]
    readonly_fields = ["invitation", "survey", "account", "contact", "kind", "score"]
    list_select_related = ["account"]


admin.site.register(Competitor)
admin.site.register(KeywordRule)
