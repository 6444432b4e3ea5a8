"""The records of processing in admin (UU 27/2022 art. 31), drawn from the declarations
next to the models (registry.processing), and their export as CSV or XLSX.

Who sees it: superusers, and the roles that answer for an office's handling of personal
data (registry.view_processing: office administrators and provincial supervisors). The
record is the same for every office (one system), so the permission in any office shows
it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from registry import tenancy
from registry.admin_base import tabular_response
from registry.models import ExportFormat, Role
from registry.processing import ProcessingRecord, processing_records

PROCESSING_PERM = "registry.view_processing"


def may_see_processing(user) -> bool:
    return bool((user.is_superuser and user.is_active)
                or tenancy.offices_with_perm(user, PROCESSING_PERM))


def record_row(record: ProcessingRecord) -> dict:
    declaration = record.declaration
    return {
        "label": record.label,
        "title": record.title,
        "data": [str(item) for item in declaration.data],
        "purpose": str(declaration.purpose),
        "legal_basis": str(declaration.legal_basis),
        "retention": record.retention_text(),
        "roles": [str(Role(role).label) for role in declaration.roles],
        "fields": record.field_names(),
    }


def processing_view(request, admin_site):
    if not may_see_processing(request.user):
        raise PermissionDenied
    return render(request, "admin/registry/processing.html", {
        **admin_site.each_context(request), "title": _("Records of processing"),
        "records": [record_row(record) for record in processing_records()],
        "export_formats": ExportFormat.choices,
    })


def processing_export_view(request, admin_site, file_format):
    if file_format not in ExportFormat.values:
        raise Http404
    if not may_see_processing(request.user):
        raise PermissionDenied
    header = [_("record"), _("personal data"), _("purpose"), _("legal basis"),
              _("retention"), _("roles that may see it"), _("fields")]
    superusers = _("superusers only")
    rows = [[row["title"], "; ".join(row["data"]), row["purpose"], row["legal_basis"],
             row["retention"], "; ".join(row["roles"]) or superusers, "; ".join(row["fields"])]
            for row in map(record_row, processing_records())]
    return tabular_response([(_("Records of processing"), header, rows)],
                            file_format=file_format,
                            filename=f"records-of-processing.{file_format}")
