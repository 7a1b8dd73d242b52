from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Account, AuditEntry, Contact, Subscription, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name", "role"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})
    ]


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["external_id", "name", "segment", "tier", "owner"]
    list_filter = ["tier", "segment"]
    search_fields = ["external_id", "name"]


admin.site.register(Contact)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["subscription_id", "account", "start_date", "end_date", "amount", "interval"]
    readonly_fields = ["mrr"]

    def save_model(self, request, obj, form, change):
        obj.set_mrr()  # MRR follows the amount and interval, as the imports store it
        super().save_model(request, obj, form, change)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "field"]

    def has_change_permission(self, request, obj=None):  # the trail is append-only
        return False
