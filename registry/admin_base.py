"""Admin classes that keep every office's data to itself.

Every ModelAdmin of an office-owned model derives from OfficeScopedAdmin: its list,
search, actions, change form, history and the choices of every foreign key are
limited to the staff member's offices, and object permissions are checked against
the staff member's role in the object's own office (registry.auth).
A test walks the admin registry and fails for any office-owned model whose admin
does not derive from these classes.
"""

import csv
import html
import io
import re
from collections import Counter
from datetime import date, datetime, time

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, lookup_field
from django.contrib.admin.views.main import ALL_VAR, IS_POPUP_VAR, PAGE_VAR, TO_FIELD_VAR
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook

from registry import tenancy
from registry.errors import DomainError
from registry.models import AccessKind, ExportFormat, Office, Resident
from registry.nik import mask_nik
from registry.replica import replica_reads
from registry.services.access_log import record_access
from registry.services.exports import export_record


def _model_has_office(model) -> bool:
    try:
        field = model._meta.get_field("office")
    except Exception:  # FieldDoesNotExist
        return False
    return isinstance(field, models.ForeignKey) and field.related_model is Office


def scoped_choices(model, request):
    """The rows of `model` the user may pick in a form, or None if not scoped here."""
    user = request.user
    office_ids = tenancy.staff_office_ids(user)
    if model is Office:
        return Office.objects.filter(id__in=office_ids)
    if _model_has_office(model):
        return model._default_manager.filter(office_id__in=office_ids)
    if model is Resident:
        from registry.selectors import residents_for_staff

        return residents_for_staff(user=user)
    if model is get_user_model():
        if user.is_superuser:
            return model._default_manager.all()
        return model._default_manager.filter(memberships__office_id__in=office_ids).distinct()
    return None


class NotFoundNotRedirect:
    """An object outside the user's offices answers 404, as in the API, instead of
    Django's redirect to the index with a "perhaps it was deleted" message."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404


class OfficeScopedMixin:
    """Shared by model admins and inlines: scope foreign-key and many-to-many choices."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = scoped_choices(db_field.related_model, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        choices = scoped_choices(db_field.related_model, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class OfficeScopedAdmin(NotFoundNotRedirect, OfficeScopedMixin, admin.ModelAdmin):
    """Admin of a model with an `office` foreign key (or, for Office, itself)."""

    office_lookup = "office_id"
    # Django 6 assumes https for scheme-less URLs; say so now (and silence the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.filter(**{f"{self.office_lookup}__in": tenancy.staff_office_ids(
            request.user)})

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if len(tenancy.staff_office_ids(request.user)) > 1 and self.office_lookup != "id":
            filters.insert(0, ("office", admin.RelatedOnlyFieldListFilter))
        return filters

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if (len(tenancy.staff_office_ids(request.user)) > 1 and self.office_lookup != "id"
                and "office" not in display):
            display.append("office")
        return display

    def _perm(self, action):
        opts = self.opts
        return f"{opts.app_label}.{action}_{opts.model_name}"

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return super().has_view_permission(request)
        return request.user.has_perm(self._perm("view"), obj) or request.user.has_perm(
            self._perm("change"), obj)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return super().has_change_permission(request)
        return request.user.has_perm(self._perm("change"), obj)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        return request.user.has_perm(self._perm("delete"), obj)

    def save_formset(self, request, form, formset, change):
        parent = form.instance
        office_id = parent.id if isinstance(parent, Office) else parent.office_id
        for child in formset.save(commit=False):
            if _model_has_office(type(child)):
                child.office_id = office_id
            child.save()
        for child in formset.deleted_objects:
            child.delete()
        formset.save_m2m()

    def save_model(self, request, obj, form, change):
        # The office field's choices are already scoped; this refuses a forged POST.
        office_id = obj.id if isinstance(obj, Office) else getattr(obj, "office_id", None)
        if office_id is not None and office_id not in tenancy.staff_office_ids(request.user):
            raise Http404
        super().save_model(request, obj, form, change)


class OfficeScopedInline(OfficeScopedMixin):
    """Mix into TabularInline/StackedInline for children of an office-owned parent.
    The child's office is the parent's; it is set on save, never chosen."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _model_has_office(self.model):
            queryset = queryset.filter(office_id__in=tenancy.staff_office_ids(request.user))
        return queryset

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if _model_has_office(self.model):
            exclude.append("office")
        return exclude


def report_domain_error(request, exc: DomainError | ValidationError) -> None:
    """Show a service's refusal as an admin message."""
    text = exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages)
    messages.error(request, str(text))



class DomainErrorAsMessageMixin:
    """A service's refusal while saving the form (a DomainError) is shown as a message
    on the same page, with nothing saved, instead of an error page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            report_domain_error(request, exc)
            return redirect(request.get_full_path())


# --- What the admin may not do ---------------------------------------------------------
# Put before the admin class in the bases, so they win over its permission checks.


class NoAddMixin:
    """Rows made by services (a booking, a ticket, a sent message), never typed in."""

    def has_add_permission(self, request, obj=None):
        return False


class NoChangeMixin:
    """Rows changed only by services, if at all: the admin shows them."""

    def has_change_permission(self, request, obj=None):
        return False


class NoDeleteMixin:
    """Rows kept for the record: a case, a message, a hand-over."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyMixin(NoAddMixin, NoChangeMixin, NoDeleteMixin):
    """A record the admin only shows (a timeline entry, a disclosure, a stock movement)."""


# --- Exports of the lists staff work from -----------------------------------------------

EXPORT_PERM = "registry.export_data"
FULL_NIK_PERM = "registry.view_full_nik"
# A list export is read into memory (its rows are counted and recorded before the file
# is sent); past this, staff narrow the filters (a day, a status) instead.
EXPORT_MAX_ROWS = 20_000
# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV
# injection"); residents type names, complaints and addresses.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")
_NOT_FILTERS = (PAGE_VAR, ALL_VAR, IS_POPUP_VAR, TO_FIELD_VAR)


def _export_text(value) -> str:
    """A list cell as the text a spreadsheet shows, never as a formula."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = _("Yes") if value else _("No")
    elif isinstance(value, datetime):
        text = f"{timezone.localtime(value) if timezone.is_aware(value) else value:%Y-%m-%d %H:%M}"
    elif isinstance(value, time):
        text = f"{value:%H:%M}"
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = html.unescape(strip_tags(str(value)))
    return _formula_safe(text)


def _formula_safe(text: str) -> str:
    if text[:1] in _FORMULA_START and text != "-" and not _NUMBER.fullmatch(text):
        text = "'" + text
    return text


class ListExportMixin:
    """Export the changelist as the staff member sees it (the admin's office-scoped
    queryset with the list's filters, search and ordering, the list's columns) as CSV
    or XLSX. Put before OfficeScopedAdmin in the bases.

    Only rows of the offices where the user's role grants registry.export_data are
    exported (403 when there is none). With `export_resident_path` set, a NIK column
    follows the list's columns: full for rows of offices where the role grants
    registry.view_full_nik (each such resident gets a NikDisclosure), masked elsewhere.
    Each export is recorded (registry.services.exports.export_record).
    """

    # The path from a row to its Resident ("resident", "application__resident").
    export_resident_path: str | None = None
    change_list_template = "admin/export_change_list.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("list-export/<str:file_format>/",
                 self.admin_site.admin_view(self.list_export_view),
                 name="{}_{}_list_export".format(*info)),
            *super().get_urls(),
        ]

    def export_office_ids(self, request) -> set[int]:
        return {office.id for office in tenancy.offices_with_perm(request.user, EXPORT_PERM)}

    def _export_query(self, request) -> str:
        params = request.GET.copy()
        for name in _NOT_FILTERS:
            params.pop(name, None)
        return params.urlencode()

    def changelist_view(self, request, extra_context=None):
        links = []
        if self.has_view_or_change_permission(request) and self.export_office_ids(request):
            info = self.opts.app_label, self.opts.model_name
            query = self._export_query(request)
            for file_format in ExportFormat:
                url = reverse("admin:{}_{}_list_export".format(*info),
                              args=[file_format.value])
                links.append((_("Export %(format)s") % {"format": file_format.label},
                              f"{url}?{query}" if query else url))
        extra_context = {**(extra_context or {}), "export_links": links}
        return super().changelist_view(request, extra_context)

    def _export_changelist(self, request):
        # As ModelAdmin.get_changelist_instance: the list's ?o= counts the checkbox column.
        list_display = self.get_list_display(request)
        list_display_links = self.get_list_display_links(request, list_display)
        if self.get_actions(request):
            list_display = ["action_checkbox", *list_display]
        changelist_class = self.get_changelist(request)

        class ExportChangeList(changelist_class):
            def get_results(self, request):
                return  # no page, no count: the export reads the whole queryset

        return ExportChangeList(
            request, self.model, list_display, list_display_links,
            self.get_list_filter(request), self.date_hierarchy,
            self.get_search_fields(request), self.get_list_select_related(request),
            self.list_per_page, self.list_max_show_all, self.list_editable, self,
            self.sortable_by, self.search_help_text,
        )

    def _export_cell(self, name, obj) -> str:
        try:
            field, _attr, value = lookup_field(name, obj, self)
        except (AttributeError, ObjectDoesNotExist):
            return ""
        if field is not None and field.flatchoices:
            value = dict(field.flatchoices).get(value, value)
        return _export_text(value)

    def _export_resident(self, obj):
        for step in self.export_resident_path.split("__"):
            obj = getattr(obj, step, None)
            if obj is None:
                return None
        return obj

    def list_export_view(self, request, file_format):
        if file_format not in ExportFormat.values:
            raise Http404
        office_ids = self.export_office_ids(request)
        if not office_ids or not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            changelist = self._export_changelist(request)
        except IncorrectLookupParameters:
            messages.error(request, _("These filters cannot be exported."))
            return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        queryset = changelist.queryset.filter(**{f"{self.office_lookup}__in": office_ids})
        with replica_reads():
            objects = list(queryset[:EXPORT_MAX_ROWS + 1])
        if len(objects) > EXPORT_MAX_ROWS:
            messages.error(request, _("An export holds at most %(count)d rows: narrow the "
                                      "filters.") % {"count": EXPORT_MAX_ROWS})
            query = self._export_query(request)
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
            return redirect(f"{url}?{query}" if query else url)

        columns = [name for name in changelist.list_display if name != "action_checkbox"]
        header = [_export_text(capfirst(label_for_field(name, self.model, self)))
                  for name in columns]
        full_nik_offices = {office.id for office in
                            tenancy.offices_with_perm(request.user, FULL_NIK_PERM)}
        if self.export_resident_path:
            header.append("NIK")
        rows, per_office, disclosed, shown = [], Counter(), set(), {}
        for obj in objects:
            row = [self._export_cell(name, obj) for name in columns]
            if self.export_resident_path:
                resident = self._export_resident(obj)
                if resident is None:
                    row.append("")
                else:
                    shown.setdefault(obj.office_id, set()).add(resident.id)
                    if obj.office_id in full_nik_offices:
                        row.append(resident.nik)
                        disclosed.add((obj.office_id, resident.id))
                    else:
                        row.append(mask_nik(resident.nik))
            rows.append(row)
            per_office[obj.office_id] += 1

        export_record(user=request.user,
                      list_name=f"{self.opts.app_label}.{self.opts.model_name}",
                      query=self._export_query(request), file_format=file_format,
                      office_ids=office_ids, rows_by_office=per_office, disclosed=disclosed)
        for office_id, resident_ids in sorted(shown.items()):
            record_access(request.user, kind=AccessKind.EXPORT, residents=resident_ids,
                          office=office_id,
                          target=f"{self.opts.verbose_name_plural} ({file_format.upper()})")
        filename = f"{self.opts.model_name}-{timezone.localdate():%Y-%m-%d}.{file_format}"
        return tabular_response([(str(self.opts.verbose_name_plural), header, rows)],
                                file_format=file_format, filename=filename)


def tabular_response(sheets: list[tuple[str, list, list]], *, file_format: str,
                     filename: str, titled: bool | None = None) -> HttpResponse:
    """Tables `(title, header, rows)` as a CSV download (the tables one after another,
    each under its title when `titled`, by default when there are several) or an XLSX
    one (a sheet each). Cells are written as text a spreadsheet never runs as a
    formula."""
    titled = len(sheets) > 1 if titled is None else titled
    if file_format == ExportFormat.CSV:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write("\ufeff")  # the BOM: Excel then reads the file as UTF-8
        writer = csv.writer(response)
        for index, (title, header, rows) in enumerate(sheets):
            if titled:
                if index:
                    writer.writerow([])
                writer.writerow([_export_cell_value(str(title))])
            writer.writerow([_export_cell_value(cell) for cell in header])
            writer.writerows([[_export_cell_value(cell) for cell in row] for row in rows])
    else:
        workbook = Workbook(write_only=True)
        used = set()
        for title, header, rows in sheets:
            name = _sheet_name(title, used)
            sheet = workbook.create_sheet(name)
            sheet.append([_export_cell_value(cell) for cell in header])
            for row in rows:
                sheet.append([_export_cell_value(cell) for cell in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_cell_value(value):
    """Numbers stay numbers (a chart's figures); text already made safe stays as it is;
    anything else becomes text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _formula_safe(value)
    return _export_text(value)


_SHEET_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")


def _sheet_name(title: str, used: set[str]) -> str:
    """A unique XLSX sheet name: at most 31 characters, none of \\ / * ? : [ ]."""
    base = _SHEET_FORBIDDEN.sub(" ", str(title)).strip()[:28] or "Sheet"
    name, number = base, 2
    while name.lower() in used:
        name, number = f"{base[:26]} {number}", number + 1
    used.add(name.lower())
    return name
