"""The access log in the admin: every list and record page that shows residents'
personal data writes one AccessLog row per office it showed (registry.services.
access_log). Staff whose only role in the record's office is to oversee it from the
province (and the deployment's superusers who hold no role there) state a reason
before a record opens; the reason is remembered for that record for half an hour."""

import time

from django import forms
from django.contrib.admin.utils import unquote
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import tenancy
from registry.models import AccessKind, Role
from registry.services.access_log import record_access

REASON_SESSION_KEY = "eopen_access_reasons"
REASON_VALID_SECONDS = 30 * 60
REASON_FIELD = "access_reason"
# Roles that oversee an office without serving its residents: opening one of its
# records needs a reason.
OVERSIGHT_ROLES = {Role.PROVINCIAL_SUPERVISOR}


class AccessReasonForm(forms.Form):
    access_reason = forms.CharField(
        label=gettext_lazy("Why do you open this record?"), max_length=200,
        help_text=gettext_lazy("The resident can see this reason in their access log."),
    )

    def clean_access_reason(self):
        reason = self.cleaned_data["access_reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError(_("Give a reason of at least 5 characters."))
        return reason


def reason_needed(user, office_id: int | None) -> bool:
    """True when `user` oversees `office_id` without serving there."""
    roles = tenancy.staff_roles(user, office_id) if office_id is not None else set()
    if not roles:
        return bool(getattr(user, "is_superuser", False))
    return roles <= OVERSIGHT_ROLES


def _reason_key(opts, pk) -> str:
    return f"{opts.app_label}.{opts.model_name}:{pk}"


def remembered_reason(request, opts, pk) -> str:
    entry = request.session.get(REASON_SESSION_KEY, {}).get(_reason_key(opts, pk))
    if not entry or entry[1] < time.time() - REASON_VALID_SECONDS:
        return ""
    return entry[0]


def remember_reason(request, opts, pk, reason: str) -> None:
    now = time.time()
    reasons = {key: entry for key, entry in request.session.get(REASON_SESSION_KEY, {}).items()
               if entry[1] >= now - REASON_VALID_SECONDS}
    reasons[_reason_key(opts, pk)] = [reason, now]
    request.session[REASON_SESSION_KEY] = reasons


class AccessLogMixin:
    """Put before OfficeScopedAdmin (or ModelAdmin) in the bases of an admin whose
    pages show residents. `access_resident_path` leads from a row to its resident's id
    ("resident_id", "booking__resident_id"; "pk" for Resident itself)."""

    access_resident_path = "resident_id"
    access_kind = AccessKind.RESIDENT

    def access_office_id(self, request, obj) -> int | None:
        return getattr(obj, "office_id", None)

    def access_residents(self, request, objects: list) -> list[tuple[int | None, int]]:
        """(office_id, resident_id) of each row that has a resident, read from the rows
        (the lists select the related rows the path walks through)."""
        pairs = []
        for obj in objects:
            value = obj
            for step in self.access_resident_path.split("__"):
                value = getattr(value, step, None)
                if value is None:
                    break
            if value is not None:
                pairs.append((self.access_office_id(request, obj), value))
        return pairs

    def access_target(self, obj) -> str:
        """The record as the resident knows it: a case number, a booking or complaint
        code, a ticket; else the kind and id. Never a NIK."""
        known = getattr(obj, "number", None) or getattr(obj, "code", None)
        return f"{self.opts.verbose_name} {known}" if known else (
            f"{self.opts.verbose_name} #{obj.pk}")

    def _record_by_office(self, request, pairs, *, kind, target, reason="") -> None:
        by_office: dict[int | None, list[int]] = {}
        for office_id, rid in pairs:
            by_office.setdefault(office_id, []).append(rid)
        for office_id, ids in sorted(by_office.items(), key=lambda item: item[0] or 0):
            record_access(request.user, kind=kind, residents=ids, office=office_id,
                          target=target, reason=reason)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None and response.status_code == 200:
            self._record_by_office(
                request, self.access_residents(request, list(changelist.result_list)),
                kind=AccessKind.LIST, target=str(self.opts.verbose_name_plural))
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id)) if object_id else None
        if obj is None:
            return super().change_view(request, object_id, form_url, extra_context)
        office_id = self.access_office_id(request, obj)
        reason = ""
        if reason_needed(request.user, office_id):
            reason = remembered_reason(request, self.opts, obj.pk)
            if not reason:
                return self.access_reason_view(request, obj)
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self._record_by_office(request, self.access_residents(request, [obj]),
                                   kind=self.access_kind, target=self.access_target(obj),
                                   reason=reason)
        return response

    def access_reason_view(self, request, obj):
        form = AccessReasonForm(request.POST if REASON_FIELD in request.POST else None)
        if form.is_valid():
            remember_reason(request, self.opts, obj.pk, form.cleaned_data[REASON_FIELD])
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "original": obj, "form": form,
            "title": _("Why do you open this record?"),
        }
        return render(request, "registry/admin/access_reason.html", context, status=200)
