from __future__ import annotations

from django.urls import path

from accounts import import_views, views

# The "accounts" namespace also holds the list and the account page (csm/workflow/urls.py);
# csm/urls.py joins the two.
app_name = "accounts"
urlpatterns = [
    # Editing an account (its owner's or a manager's).
    path("accounts/<str:external_id>/edit/", views.account_edit, name="edit"),
    path("accounts/<str:external_id>/contacts/", views.contact_add, name="contact_add"),
    # Managers' CSV imports: upload, then preview before anything is written.
    path("imports/", import_views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", import_views.import_preview, name="import_preview"),
]
