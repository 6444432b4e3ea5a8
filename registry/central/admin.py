"""Admin of the central link, transmissions and card stock. State changes go through
registry.central.services."""

from django import forms
from django.conf import settings as django_settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import tenancy
from registry.admin_base import (
    DomainErrorAsMessageMixin,
    NoAddMixin,
    NoChangeMixin,
    NoDeleteMixin,
    OfficeScopedAdmin,
    OfficeScopedInline,
    ReadOnlyMixin,
)
from registry.central import selectors
from registry.central.models import (
    CardStock,
    CardStockMovement,
    CentralJob,
    CentralJobAttempt,
    CentralOutage,
)
from registry.central.services.jobs import central_job_retry
from registry.central.services.link import (
    central_outage_declare,
    central_outage_end,
    central_outage_update,
)
from registry.central.services.stock import (
    card_stock_correct,
    card_stock_receive,
    card_stock_set_threshold,
)
from registry.central.simulator import SimulatedCentralClient


def _duration_text(start, end):
    seconds = int(((end or dj_timezone.now()) - start).total_seconds())
    hours, rest = divmod(max(0, seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


class CentralOutageForm(forms.ModelForm):
    class Meta:
        model = CentralOutage
        fields = ["office", "cause", "message", "expected_back"]


@admin.register(CentralOutage)
class CentralOutageAdmin(NoDeleteMixin, DomainErrorAsMessageMixin, OfficeScopedAdmin):
    """Outages of the link to the central server, with how long they lasted and how much
    work they held up. Staff declare one (with a message to residents and an expected
    return), update what residents are told, and end it."""

    form = CentralOutageForm
    list_display = ["started_at", "ended_at", "duration", "detection", "cause",
                    "expected_back", "applications_held_display", "tickets_held_display",
                    "residents_told"]
    list_filter = ["detection"]
    date_hierarchy = "started_at"
    list_select_related = ["office"]
    actions = ["end_outage"]
    change_list_template = "admin/central/centraloutage/change_list.html"

    def get_queryset(self, request):
        return selectors.outages_with_holdups(super().get_queryset(request))

    @admin.display(description=gettext_lazy("duration"))
    def duration(self, obj):
        return _duration_text(obj.started_at, obj.ended_at)

    @admin.display(description=gettext_lazy("applications held up"))
    def applications_held_display(self, obj):
        return getattr(obj, "applications_held", None) or 0

    @admin.display(description=gettext_lazy("tickets held up"))
    def tickets_held_display(self, obj):
        return getattr(obj, "tickets_held", "-")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["office", "cause", "message", "expected_back"]
        return ["office", "started_at", "ended_at", "detection", "cause", "message",
                "expected_back", "declared_by", "ended_by", "end_detection",
                "residents_told"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["office", "started_at", "ended_at", "detection", "cause", "declared_by",
                 "ended_by", "end_detection", "residents_told"]
        if obj.ended_at is not None:
            fixed += ["message", "expected_back"]
        return fixed

    def save_model(self, request, obj, form, change):
        if change:
            central_outage_update(outage=obj, message=obj.message,
                                  expected_back=obj.expected_back, by=request.user)
            return
        created = central_outage_declare(
            office=obj.office, cause=obj.cause, message=obj.message,
            expected_back=obj.expected_back, by=request.user)
        obj.pk, obj.started_at = created.pk, created.started_at

    @admin.action(description=gettext_lazy("End the outage: the link is back"),
                  permissions=["change"])
    def end_outage(self, request, queryset):
        ended = 0
        for outage in queryset.filter(ended_at__isnull=True):
            if not request.user.has_perm("central.change_centraloutage", outage):
                continue
            central_outage_end(outage=outage, by=request.user)
            ended += 1
        messages.success(request, _("%(count)d outage(s) ended; the waiting work is being "
                                    "sent.") % {"count": ended})

    def get_urls(self):
        return [path("simulator/", self.admin_site.admin_view(self.simulator_view),
                     name="central_centraloutage_simulator"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "simulator": django_settings.CENTRAL_CLIENT.endswith(
                             "SimulatedCentralClient")}
        return super().changelist_view(request, extra_context)

    def simulator_view(self, request):
        """Switch the simulated central server down, up, slow or flaky for an office
        (development and demos only)."""
        if not django_settings.CENTRAL_CLIENT.endswith("SimulatedCentralClient"):
            raise Http404
        offices = [office for office in tenancy.staff_offices(request.user).order_by("code")
                   if request.user.has_perm("central.change_centraloutage",
                                            tenancy.InOffice(office.id))]
        if not offices:
            raise PermissionDenied
        if request.method == "POST":
            office = next((o for o in offices if o.code == request.POST.get("office")), None)
            mode = request.POST.get("mode")
            settings_for = {"down": {"down": True}, "up": {"down": False, "latency_ms": 0,
                                                          "failure_rate": 0},
                            "slow": {"latency_ms": 5000}, "flaky": {"failure_rate": 0.3}}
            if office is None or mode not in settings_for:
                raise Http404
            SimulatedCentralClient.configure(office.code, **settings_for[mode])
            messages.success(request, _("Simulated central server for %(office)s: %(mode)s.")
                             % {"office": office.name, "mode": mode})
            return redirect(request.path)
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": _("Simulated central server"),
                   "rows": [(o, SimulatedCentralClient.state(o.code)) for o in offices]}
        return render(request, "admin/central/centraloutage/simulator.html", context)


class CentralJobAttemptInline(NoAddMixin, NoChangeMixin, OfficeScopedInline, admin.TabularInline):
    model = CentralJobAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "finished_at", "outcome", "error", "central_ref"]
    readonly_fields = fields


@admin.register(CentralJob)
class CentralJobAdmin(NoAddMixin, NoDeleteMixin, OfficeScopedAdmin):
    list_display = ["created_at", "application", "kind", "status", "attempts",
                    "next_attempt_at", "done_at", "central_ref", "last_error"]
    list_filter = ["status", "kind"]
    search_fields = ["application__number", "=key", "central_ref"]
    list_select_related = ["application", "application__service", "office"]
    date_hierarchy = "created_at"
    inlines = [CentralJobAttemptInline]
    actions = ["send_again"]
    readonly_fields = ["office", "application", "kind", "key", "status", "after", "attempts",
                       "next_attempt_at", "lease_until", "created_at", "done_at",
                       "central_ref", "last_error"]
    exclude = ["payload", "noted_outage"]

    def save_model(self, request, obj, form, change):
        return  # read-only: jobs change through their services

    def save_formset(self, request, form, formset, change):
        return

    @admin.action(description=gettext_lazy("Send refused jobs again"),
                  permissions=["change"])
    def send_again(self, request, queryset):
        count = 0
        for job in queryset.filter(status="rejected"):
            if request.user.has_perm("central.change_centraljob", job):
                central_job_retry(job=job, by=request.user)
                count += 1
        messages.success(request, _("%(count)d job(s) queued again.") % {"count": count})


class CardStockForm(forms.ModelForm):
    received = forms.IntegerField(label=gettext_lazy("Blank cards received now"),
                                  required=False, min_value=1, max_value=100_000)
    counted = forms.IntegerField(label=gettext_lazy("Correct the count to"), required=False,
                                 min_value=0, max_value=1_000_000)
    note = forms.CharField(label=gettext_lazy("Note (delivery note number, reason for a "
                                              "correction)"), required=False, max_length=300)

    class Meta:
        model = CardStock
        fields = ["office", "alert_below"]


@admin.register(CardStock)
class CardStockAdmin(NoDeleteMixin, DomainErrorAsMessageMixin, OfficeScopedAdmin):
    """Blank-card stock: record cards received or a recount, and set the alert
    threshold. Every change is a movement; prints waiting for stock are released."""

    form = CardStockForm
    list_display = ["office", "on_hand", "alert_below", "low_alert_sent_at", "updated_at"]
    list_select_related = ["office"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["office", "alert_below", "received", "note"]
        return ["office", "on_hand", "alert_below", "low_alert_sent_at", "received",
                "counted", "note"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["office", "on_hand", "low_alert_sent_at"]

    def has_add_permission(self, request):
        return request.user.has_perm("central.change_cardstock")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        office = obj.office
        card_stock_set_threshold(office=office, alert_below=data["alert_below"])
        if data.get("received"):
            card_stock_receive(office=office, quantity=data["received"],
                               by=request.user, note=data.get("note") or "")
        if data.get("counted") is not None:
            card_stock_correct(office=office, counted=data["counted"],
                               by=request.user, note=data.get("note") or "")
        obj.pk = CardStock.objects.get(office=office).pk


@admin.register(CardStockMovement)
class CardStockMovementAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    list_display = ["at", "change", "balance", "reason", "note", "by"]
    list_filter = ["reason"]
    list_select_related = ["by", "office"]
    date_hierarchy = "at"

