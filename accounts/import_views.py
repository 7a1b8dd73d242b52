"""The managers' CSV import pages: upload a file, preview what it would do, confirm.

The uploaded text is kept in an ImportBatch, so the preview and the confirm step validate and apply
the very same file through the same code as the import_accounts / import_subscriptions /
import_contacts commands.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import NamedTuple

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import import_values, imports
from accounts.access import AuthenticatedHttpRequest, manager_required
from accounts.models import ImportBatch, ImportKind

# The preview lists at most this many rows and errors; the counts always cover the whole file.
PREVIEW_LIMIT = 500
RECENT_BATCHES = 10
NOTHING_TO_IMPORT = gettext_lazy(
    "Nothing to import: the file has its header but no rows. Add the rows and upload it again."
)


class CsvUpload(NamedTuple):
    filename: str
    text: str


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("The file holds"), choices=ImportKind.choices)
    file = forms.FileField(label=gettext_lazy("CSV file"))

    def clean_file(self) -> CsvUpload:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > imports.MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB; split it into smaller files.")
                % {"limit": imports.MAX_FILE_BYTES // (1024 * 1024)}
            )
        try:
            text = import_values.decode(upload.read())
        except ValueError:
            raise forms.ValidationError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
            ) from None
        filename = PurePath(upload.name or "upload.csv").name[:255]
        return CsvUpload(filename=filename, text=text)


def _column_help() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(kind, label, header line, optional columns) per kind, read from the importer itself."""
    rows = []
    for kind, label in ImportKind.choices:
        columns, required = imports.columns_of(kind)
        optional_columns = tuple(column for column in columns if column not in required)
        rows.append((kind, label, ",".join(columns), optional_columns))
    return rows


@manager_required
@require_http_methods(["GET", "POST"])
def import_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload: CsvUpload = form.cleaned_data["file"]
            batch = ImportBatch.objects.create(
                kind=form.cleaned_data["kind"],
                filename=upload.filename,
                content=upload.text,
                uploaded_by=request.user,
            )
            return redirect("accounts:import_preview", pk=batch.pk)
    else:
        form = ImportUploadForm()
    # defer: the stored files may be large and only their names are shown.
    recent = list(
        ImportBatch.objects.select_related("uploaded_by").defer("content")[:RECENT_BATCHES]
    )
    return TemplateResponse(
        request,
        "accounts/import_upload.html",
        {
            "form": form,
            "columns": _column_help(),
            "language_codes": ", ".join(code for code, _name in settings.LANGUAGES),
            "recent": recent,
            "nav": "imports",
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def import_preview(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(ImportBatch.objects.select_related("uploaded_by"), pk=pk)
    if request.method == "POST":
        try:
            plan = imports.apply_batch(batch, actor=request.user)
        except imports.AlreadyApplied:
            messages.warning(
                request, _("This file was already imported; nothing was written twice.")
            )
            return redirect("accounts:import_preview", pk=batch.pk)
        except imports.ImportErrors:
            messages.error(request, _("The file has errors, so nothing was imported."))
            return redirect("accounts:import_preview", pk=batch.pk)
        except imports.NothingToImport:
            messages.error(request, NOTHING_TO_IMPORT)
            return redirect("accounts:import_preview", pk=batch.pk)
        messages.success(
            request,
            _(
                "Imported %(filename)s: %(created)d created, %(updated)d updated, "
                "%(unchanged)d unchanged."
            )
            % {"filename": batch.filename, **plan.summary},
        )
        return redirect("accounts:list")

    context: dict[str, object] = {"batch": batch, "nav": "imports", "limit": PREVIEW_LIMIT}
    if batch.applied_at is None:
        plan = imports.plan_import(batch.kind, batch.content, filename=batch.filename)
        # Updates first: they change what is already there, so they deserve the first look.
        order = {imports.UPDATE: 0, imports.CREATE: 1, imports.UNCHANGED: 2}
        rows = sorted(plan.rows, key=lambda row: order[row.action])
        context.update(
            {
                "nothing_to_import": NOTHING_TO_IMPORT if plan.is_empty else "",
                "errors": plan.errors[:PREVIEW_LIMIT],
                "error_count": len(plan.errors),
                "rows": rows[:PREVIEW_LIMIT],
                "row_count": len(rows),
                "summary": plan.summary,
            }
        )
    return TemplateResponse(request, "accounts/import_preview.html", context)
