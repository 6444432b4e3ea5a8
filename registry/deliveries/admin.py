"""Admin of hand-over and delivery. State changes go through the services."""

import csv
import io
import zipfile
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import tenancy
from registry.admin_access import AccessLogMixin
from registry.admin_base import (
    ListExportMixin,
    NoAddMixin,
    NoChangeMixin,
    NoDeleteMixin,
    OfficeScopedAdmin,
    OfficeScopedInline,
    ReadOnlyMixin,
    report_domain_error,
)
from registry.calendar import office_day_bounds, office_today
from registry.deliveries.models import (
    PROXY_RELATIONS,
    CourierAbsence,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    DispatchRun,
    Handover,
    HandoverMethod,
)
from registry.deliveries.services.couriers import (
    courier_absence_add,
    delivery_reopen,
    delivery_settings_update,
)
from registry.deliveries.services.dispatch import deliveries_dispatch
from registry.deliveries.services.handovers import (
    handover_choose,
    handover_collect,
    handover_options,
)
from registry.errors import DomainError
from registry.models import AccessKind, Office, Role

# A proof export covers at most this many days: a quarter is what an audit asks for.
EXPORT_MAX_DAYS = 92


def map_link(latitude, longitude):
    if latitude is None or longitude is None:
        return "-"
    return format_html(
        '<a href="https://www.openstreetmap.org/?mlat={0}&amp;mlon={1}#map=18/{0}/{1}" '
        'target="_blank" rel="noopener">{0}, {1}</a>', latitude, longitude)


class DeliveryAttemptInline(NoAddMixin, NoChangeMixin, OfficeScopedInline, admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "at", "courier", "scheduled_for", "outcome", "reason", "note",
              "recipient_name", "recipient_relation", "photo_link", "location"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("photo"))
    def photo_link(self, obj):
        if not obj.photo:
            if obj.photo_removed_at:
                return _("removed on %(date)s (retention period)") % {
                    "date": date_format(timezone.localtime(obj.photo_removed_at))}
            return "-"
        url = reverse("deliveries:photo", args=[obj.pk])
        return format_html('<a href="{0}" target="_blank"><img src="{0}" alt="" '
                           'style="max-height:120px"></a>', url)

    @admin.display(description=gettext_lazy("location"))
    def location(self, obj):
        return map_link(obj.latitude, obj.longitude)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("courier")


class ReopenForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is the delivery reopened?"),
                             max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class ExportForm(forms.Form):
    office = forms.ModelChoiceField(label=gettext_lazy("office"), queryset=Office.objects.none())
    date_from = forms.DateField(label=gettext_lazy("from"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("to"),
                              widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and not (start <= end <= start + timedelta(days=EXPORT_MAX_DAYS)):
            raise forms.ValidationError(
                _("Choose a range of at most %(days)s days, the start before the end.")
                % {"days": EXPORT_MAX_DAYS})
        return data


@admin.register(Delivery)
class DeliveryAdmin(AccessLogMixin, NoAddMixin, NoDeleteMixin, ListExportMixin,
                    OfficeScopedAdmin):
    """Home deliveries by day, courier, kecamatan and status; each with its attempts and
    proof. Supervisors reopen one with a reason, dispatch today's deliveries, and export
    the proofs of a date range."""

    list_display = ["scheduled_for", "route_position", "application", "resident_name",
                    "kecamatan", "kelurahan", "courier", "status", "failed_attempts",
                    "delivered_at", "recipient_name", "recipient_relation"]
    # Only couriers with deliveries in the list: never another office's staff names.
    list_filter = ["status", "scheduled_for", ("courier", admin.RelatedOnlyFieldListFilter),
                   "kecamatan"]
    search_fields = ["application__number", "application__resident__name", "recipient_name",
                     "address"]
    list_select_related = ["application", "application__resident", "application__service",
                           "courier", "office"]
    date_hierarchy = "scheduled_for"
    inlines = [DeliveryAttemptInline]
    export_resident_path = "application__resident"
    access_resident_path = "application__resident_id"
    access_kind = AccessKind.DELIVERY
    actions = ["reopen"]
    change_list_template = "admin/deliveries/delivery/change_list.html"
    readonly_fields = ["office", "application", "handover", "status", "waiting_since",
                       "not_before", "scheduled_for", "courier", "route_position",
                       "notified_for", "address", "kecamatan", "kelurahan", "location",
                       "failed_attempts", "delivered_at", "recipient_name",
                       "recipient_relation", "reopened_at", "reopened_by", "reopen_reason",
                       "created_at"]
    fields = readonly_fields

    @admin.display(description=gettext_lazy("resident"))
    def resident_name(self, obj):
        return obj.application.resident.name

    @admin.display(description=gettext_lazy("location"))
    def location(self, obj):
        return map_link(obj.latitude, obj.longitude)

    def save_model(self, request, obj, form, change):
        return  # deliveries change through their services only

    def save_formset(self, request, form, formset, change):
        return

    @admin.action(description=gettext_lazy("Reopen with a reason (supervisors)"),
                  permissions=["change"])
    def reopen(self, request, queryset):
        form = ReopenForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            count = 0
            for delivery in queryset:
                try:
                    delivery_reopen(delivery=delivery, by=request.user,
                                    reason=form.cleaned_data["reason"])
                    count += 1
                except DomainError as exc:
                    report_domain_error(request, exc)
            if count:
                messages.success(request, _("%(count)d delivery(ies) reopened.")
                                 % {"count": count})
            return None
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "deliveries": queryset, "title": _("Reopen deliveries"),
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return render(request, "admin/deliveries/delivery/reopen.html", context)

    def get_urls(self):
        return [
            path("dispatch/", self.admin_site.admin_view(self.dispatch_view),
                 name="deliveries_delivery_dispatch"),
            path("export/", self.admin_site.admin_view(self.export_view),
                 name="deliveries_delivery_export"),
            *super().get_urls(),
        ]

    def _offices_with(self, request, *roles):
        ids = (tenancy.staff_office_ids(request.user) if request.user.is_superuser
               else tenancy.staff_offices_with_role(request.user, *roles))
        return Office.objects.filter(id__in=ids).order_by("code")

    def dispatch_view(self, request):
        """Run today's dispatch now (it also runs by itself each working morning)."""
        offices = self._offices_with(request, Role.SUPERVISOR)
        if not offices.exists():
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:deliveries_delivery_changelist")
        office = offices.filter(code=request.POST.get("office", "")).first() or offices.first()
        try:
            run = deliveries_dispatch(office=office, by=request.user)
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            messages.success(request, _("%(office)s: %(assigned)d assigned to %(couriers)d "
                                        "courier(s), %(left)d still waiting.")
                             % {"office": office.name, "assigned": run.assigned,
                                "couriers": run.couriers, "left": run.left_waiting})
        return redirect("admin:deliveries_delivery_changelist")

    def export_view(self, request):
        """The proofs of a date range as a ZIP: proofs.csv and the photos."""
        offices = self._offices_with(request, Role.SUPERVISOR, Role.OFFICE_ADMIN,
                                     Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR)
        if not offices.exists():
            raise PermissionDenied
        form = ExportForm(request.GET or None)
        form.fields["office"].queryset = offices
        if not form.is_valid():
            if not request.GET:
                today = office_today(offices.first())
                form = ExportForm(initial={"office": offices.first(), "date_to": today,
                                           "date_from": today - timedelta(days=7)})
                form.fields["office"].queryset = offices
            context = {**self.admin_site.each_context(request), "opts": self.opts,
                       "form": form, "title": _("Export delivery proofs")}
            return render(request, "admin/deliveries/delivery/export.html", context)
        data = form.cleaned_data
        return _proof_zip(data["office"], data["date_from"], data["date_to"])


def _proof_zip(office, date_from, date_to) -> HttpResponse:
    start, _end = office_day_bounds(office, date_from)
    _start, end = office_day_bounds(office, date_to)
    attempts = (DeliveryAttempt.objects.filter(office=office, at__gte=start, at__lt=end)
                .select_related("delivery__application__resident", "courier")
                .order_by("at", "id"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        rows = io.StringIO()
        writer = csv.writer(rows)
        writer.writerow(["attempt_id", "at", "application", "resident", "address", "courier",
                         "outcome", "reason", "note", "recipient_name", "recipient_relation",
                         "latitude", "longitude", "photo"])
        for attempt in attempts.iterator(chunk_size=500):
            photo_name = ""
            if attempt.photo:
                photo_name = f"photos/{attempt.pk}.{attempt.photo.name.rsplit('.', 1)[-1]}"
                try:
                    with attempt.photo.open("rb") as handle:
                        archive.writestr(photo_name, handle.read())
                except FileNotFoundError:
                    photo_name = ""
            delivery = attempt.delivery
            writer.writerow([
                attempt.pk, attempt.at.astimezone(office_day_bounds(office, date_from)[0].tzinfo
                                                  ).isoformat(),
                delivery.application.number, delivery.application.resident.name,
                delivery.address, attempt.courier.get_username(), attempt.outcome,
                attempt.reason, attempt.note, attempt.recipient_name,
                attempt.recipient_relation, attempt.latitude or "", attempt.longitude or "",
                photo_name])
        archive.writestr("proofs.csv", rows.getvalue())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="proofs-{office.code}-{date_from}-{date_to}.zip"')
    return response


class HandoverChoiceForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("method"), choices=HandoverMethod.choices)
    proxy_name = forms.CharField(label=gettext_lazy("proxy's name"), max_length=120,
                                 required=False)
    proxy_nik = forms.CharField(label=gettext_lazy("proxy's NIK"), max_length=16,
                                required=False)
    proxy_relation = forms.ChoiceField(label=gettext_lazy("proxy's relation"),
                                       choices=[("", "---"), *PROXY_RELATIONS], required=False)


class CollectForm(forms.Form):
    receipt_code = forms.CharField(label=gettext_lazy("Receipt code"), max_length=20)
    collector_name = forms.CharField(label=gettext_lazy("Collected by (full name)"),
                                     max_length=120)
    collector_nik = forms.CharField(label=gettext_lazy("Their NIK (from their KTP-el)"),
                                    max_length=16)
    fingerprint_verified = forms.BooleanField(
        label=gettext_lazy("The holder's fingerprint matched"), required=False)


@admin.register(Handover)
class HandoverAdmin(AccessLogMixin, NoAddMixin, NoDeleteMixin, ListExportMixin,
                    OfficeScopedAdmin):
    """How each printed card reaches its resident. At the front desk: record or change
    the resident's choice, and hand the card over at the counter (receipt code)."""

    list_display = ["application", "resident_name", "method", "printed", "completed_at",
                    "collected_by_name", "collected_relation", "handed_over_by"]
    list_filter = ["method", "collected_relation"]
    search_fields = ["application__number", "application__resident__name", "=card__receipt_code"]
    list_select_related = ["application", "application__resident", "application__service",
                           "card", "handed_over_by", "office"]
    export_resident_path = "application__resident"
    access_resident_path = "application__resident_id"
    access_kind = AccessKind.DELIVERY
    readonly_fields = ["office", "application", "card", "method", "proxy_name", "proxy_nik",
                       "proxy_relation", "chosen_at", "chosen_by", "completed_at",
                       "collected_by_name", "collected_by_nik", "collected_relation",
                       "handed_over_by", "fingerprint_verified", "created_at"]
    fields = readonly_fields
    change_form_template = "admin/deliveries/handover/change_form.html"

    @admin.display(description=gettext_lazy("resident"))
    def resident_name(self, obj):
        return obj.application.resident.name

    @admin.display(description=gettext_lazy("printed"), boolean=True)
    def printed(self, obj):
        return obj.card.printed_at is not None

    def save_model(self, request, obj, form, change):
        return

    def get_urls(self):
        return [
            path("<int:pk>/choose/", self.admin_site.admin_view(self.choose_view),
                 name="deliveries_handover_choose"),
            path("<int:pk>/collect/", self.admin_site.admin_view(self.collect_view),
                 name="deliveries_handover_collect"),
            *super().get_urls(),
        ]

    def _handover(self, request, pk):
        handover = self.get_queryset(request).filter(pk=pk).first()
        if handover is None:
            raise Http404
        if not request.user.has_perm("deliveries.change_handover", handover):
            raise PermissionDenied
        return handover

    def _form_page(self, request, handover, form, title):
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "form": form, "handover": handover, "title": title,
                   "options": handover_options(handover=handover)}
        return render(request, "admin/deliveries/handover/form.html", context)

    def choose_view(self, request, pk):
        handover = self._handover(request, pk)
        form = HandoverChoiceForm(request.POST or None, initial={
            "method": handover.method, "proxy_name": handover.proxy_name,
            "proxy_nik": handover.proxy_nik, "proxy_relation": handover.proxy_relation})
        if request.method == "POST" and form.is_valid():
            try:
                handover_choose(application=handover.application, by=request.user,
                                **form.cleaned_data)
            except DomainError as exc:
                report_domain_error(request, exc)
            else:
                messages.success(request, _("The hand-over choice was recorded."))
                return redirect("admin:deliveries_handover_change", pk)
        return self._form_page(request, handover, form, _("Change how the card is received"))

    def collect_view(self, request, pk):
        handover = self._handover(request, pk)
        form = CollectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    handover_collect(handover=handover, by=request.user,
                                     **form.cleaned_data)
            except DomainError as exc:
                report_domain_error(request, exc)
            else:
                messages.success(request, _("The card was handed over."))
                return redirect("admin:deliveries_handover_change", pk)
        return self._form_page(request, handover, form, _("Hand over at the counter"))


@admin.register(DeliverySettings)
class DeliverySettingsAdmin(NoDeleteMixin, OfficeScopedAdmin):
    list_display = ["office", "max_per_courier", "max_failed_attempts", "dispatch_time"]
    fields = ["office", "max_per_courier", "max_failed_attempts", "dispatch_time"]
    list_select_related = ["office"]

    def get_readonly_fields(self, request, obj=None):
        return ["office"] if obj is not None else []

    def has_add_permission(self, request):
        return request.user.has_perm("deliveries.change_deliverysettings")

    def save_model(self, request, obj, form, change):
        settings_row = delivery_settings_update(
            office=obj.office, max_per_courier=obj.max_per_courier,
            max_failed_attempts=obj.max_failed_attempts, dispatch_time=obj.dispatch_time)
        obj.pk = settings_row.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:
            report_domain_error(request, exc)
            return redirect(request.get_full_path())


@admin.register(CourierAbsence)
class CourierAbsenceAdmin(OfficeScopedAdmin):
    list_display = ["day", "courier", "reason"]
    list_filter = ["day"]
    list_select_related = ["courier", "office"]
    fields = ["office", "courier", "day", "reason"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        absence = courier_absence_add(office=obj.office, courier=obj.courier,
                                      day=obj.day, reason=obj.reason, by=request.user)
        obj.pk = absence.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except DomainError as exc:
            report_domain_error(request, exc)
            return redirect(request.get_full_path())


@admin.register(DispatchRun)
class DispatchRunAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    list_display = ["day", "couriers", "assigned", "left_waiting", "runs", "started_at",
                    "finished_at"]
    list_select_related = ["office"]
    date_hierarchy = "day"

