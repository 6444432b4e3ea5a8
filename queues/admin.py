"""Admin of the queues: counters and their lanes, the queue settings, the lanes' daily
walk-in quotas, tickets by day, lane, counter, operator and status with their history,
and the statistics per day and lane. Tickets change only at the kiosk, the front desk
and the counters."""

from collections import Counter as Tally
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from queues import counter_figures, selectors
from queues.models import (
    Counter,
    CounterAlert,
    CounterEvent,
    CounterLane,
    LaneQuota,
    PauseReason,
    QueueSettings,
    Ticket,
    TicketEvent,
)
from queues.views import STATISTICS
from registry import tenancy
from registry.admin_access import AccessLogMixin
from registry.admin_base import (
    EXPORT_PERM,
    ListExportMixin,
    NoAddMixin,
    NoChangeMixin,
    NoDeleteMixin,
    OfficeScopedAdmin,
    OfficeScopedInline,
    ReadOnlyMixin,
    tabular_response,
)
from registry.calendar import office_today
from registry.models import AccessKind, ExportFormat, Office
from registry.services.exports import export_record

# A statistics page covers at most this many days: a quarter.
STATISTICS_MAX_DAYS = 92


class CounterLaneFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        counter = self.instance
        office_id = counter.office_id
        lanes = []
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            lane = form.cleaned_data.get("lane")
            if lane is not None and office_id is not None and lane.office_id != office_id:
                raise ValidationError(_("Lane %(lane)s is not one of this office's.")
                                      % {"lane": lane})
            lanes.append(lane)
        if not lanes:
            raise ValidationError(_("A counter serves at least one lane."))


class CounterLaneInline(OfficeScopedInline, admin.TabularInline):
    model = CounterLane
    formset = CounterLaneFormSet
    extra = 1
    fields = ["position", "lane"]
    ordering = ["position"]


class StatisticsForm(forms.Form):
    office = forms.ModelChoiceField(label=gettext_lazy("office"), queryset=Office.objects.none())
    date_from = forms.DateField(label=gettext_lazy("from"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("to"),
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.office_ids = [o.id for o in offices]
        self.fields["office"].queryset = Office.objects.filter(
            id__in=self.office_ids).order_by("code")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and not (start <= end <= start + timedelta(days=STATISTICS_MAX_DAYS)):
            raise forms.ValidationError(
                _("Choose a range of at most %(days)s days, the start before the end.")
                % {"days": STATISTICS_MAX_DAYS})
        return data


def _by_reason(figures: dict) -> str:
    return "; ".join(f"{reason}: {value}" for reason, value in figures.items()) or "-"


# The columns of the figures pages' tables, as their templates show them, for exports.
COUNTER_FIGURE_COLUMNS = [
    (gettext_lazy("Day"), lambda r: r["day"]),
    (gettext_lazy("Counter"), lambda r: str(r["counter"])),
    (gettext_lazy("Operator"), lambda r: str(r["operator"] or "")),
    (gettext_lazy("Served"), lambda r: r["served"]),
    (gettext_lazy("Partly served"), lambda r: r["partly_served"]),
    (gettext_lazy("Not served"), lambda r: r["not_served"]),
    (gettext_lazy("No-shows"), lambda r: r["no_shows"]),
    (gettext_lazy("Service, median"), lambda r: r["service_median"]),
    (gettext_lazy("Service, p90"), lambda r: r["service_p90"]),
    (gettext_lazy("Idle"), lambda r: r["idle_minutes"]),
    (gettext_lazy("Idle with people waiting"), lambda r: r["idle_waiting_minutes"]),
    (gettext_lazy("Paused, by reason"), lambda r: _by_reason(r["paused"])),
    (gettext_lazy("Out-of-order calls, by reason"), lambda r: _by_reason(r["out_of_order"])),
    (gettext_lazy("Idle alerts"), lambda r: r["alerts"]),
]
STATISTICS_COLUMNS = [
    (gettext_lazy("Day"), lambda r: r["day"]),
    (gettext_lazy("Lane"), lambda r: f"{r['lane'].letter} - {r['lane'].name}"),
    (gettext_lazy("Tickets"), lambda r: r["issued"]),
    (gettext_lazy("Served"), lambda r: r["served"]),
    (gettext_lazy("Partly served"), lambda r: r["partly_served"]),
    (gettext_lazy("Not served"), lambda r: r["not_served"]),
    (gettext_lazy("Referred"), lambda r: r["referred"]),
    (gettext_lazy("No-shows"), lambda r: r["no_shows"]),
    (gettext_lazy("Wait, median"), lambda r: r["wait_median"]),
    (gettext_lazy("Wait, p90"), lambda r: r["wait_p90"]),
    (gettext_lazy("Service, median"), lambda r: r["service_median"]),
    (gettext_lazy("Service, p90"), lambda r: r["service_p90"]),
]


class FiguresPageMixin:
    """An admin page of figures over a range of days, for one office the user may see
    figures of (the view_queue_statistics permission there)."""

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_see_figures": bool(tenancy.offices_with_perm(request.user,
                                                                           STATISTICS))}
        return super().changelist_view(request, extra_context)

    def figures_page(self, request, *, form_class, days_back: int, rows_of, template: str,
                     title: str, columns=(), export_name: str = ""):
        """The page; with ?export=csv or xlsx, its table as a file (`columns`: the
        table's (header, value of a row) pairs), for an office where the user may
        export, recorded like the lists' exports."""
        offices = tenancy.offices_with_perm(request.user, STATISTICS)
        if not offices:
            raise PermissionDenied
        default = next((o for o in offices if o.code == request.GET.get("office")), offices[0])
        today = office_today(default)
        initial = {"office": default, "date_from": today - timedelta(days=days_back),
                   "date_to": today}
        form = form_class(request.GET if "date_from" in request.GET else None,
                          initial=initial, offices=offices)
        rows, office = [], default
        if not form.is_bound or form.is_valid():
            data = form.cleaned_data if form.is_bound else initial
            office = data["office"]
            rows = rows_of(data)
        file_format = request.GET.get("export")
        may_export = office.id in {o.id for o in tenancy.offices_with_perm(request.user,
                                                                          EXPORT_PERM)}
        if file_format in ExportFormat.values and form.is_bound and form.is_valid():
            if not may_export:
                raise PermissionDenied
            table = [[value(row) for _label, value in columns] for row in rows]
            export_record(user=request.user, list_name=f"{self.opts.app_label}.{export_name}",
                          query=request.GET.urlencode(), file_format=file_format,
                          office_ids={office.id},
                          rows_by_office=Tally({office.id: len(table)}), disclosed=set())
            return tabular_response(
                [(str(title), [str(label) for label, _value in columns], table)],
                file_format=file_format,
                filename=f"{export_name}-{office.code}-{form.cleaned_data['date_from']:%Y%m%d}-"
                         f"{form.cleaned_data['date_to']:%Y%m%d}.{file_format}")
        query = request.GET.copy()
        if not form.is_bound:
            query.update({"office": office.pk, "date_from": initial["date_from"].isoformat(),
                          "date_to": initial["date_to"].isoformat()})
        export_links = []
        if may_export and columns and (not form.is_bound or form.is_valid()):
            for value, label in ExportFormat.choices:
                query["export"] = value
                export_links.append((_("Export %(format)s") % {"format": label},
                                     f"?{query.urlencode()}"))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "rows": rows, "office": office, "title": title,
                   "export_links": export_links}
        return render(request, template, context)


class CounterFiguresForm(StatisticsForm):
    counter = forms.ModelChoiceField(label=gettext_lazy("counter"), required=False,
                                     queryset=Counter.objects.none())
    operator = forms.ModelChoiceField(label=gettext_lazy("operator"), required=False,
                                      queryset=get_user_model().objects.none())

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, offices=offices, **kwargs)
        ids = self.office_ids
        self.fields["counter"].queryset = Counter.objects.filter(
            office_id__in=ids).select_related("office").order_by("office__code", "number")
        self.fields["operator"].queryset = get_user_model().objects.filter(
            memberships__office_id__in=ids).distinct().order_by("username")

    def clean(self):
        data = super().clean()
        office, counter = data.get("office"), data.get("counter")
        if office and counter and counter.office_id != office.id:
            raise forms.ValidationError(_("%(counter)s is not a counter of %(office)s.")
                                        % {"counter": counter, "office": office.name})
        return data


@admin.register(Counter)
class CounterAdmin(FiguresPageMixin, NoDeleteMixin, OfficeScopedAdmin):
    """Counters and the lanes each serves, in order (1 first)."""

    list_display = ["name", "number", "lane_order", "is_active", "state", "state_since",
                    "operator"]
    change_list_template = "admin/queues/counter/change_list.html"
    list_filter = ["is_active", "state"]
    list_select_related = ["office", "operator"]
    fields = ["office", "number", "name", "is_active", "state", "state_since", "operator",
              "pause_reason", "pause_note"]
    readonly_fields = ["state", "state_since", "operator", "pause_reason", "pause_note"]
    inlines = [CounterLaneInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lane_order__lane")

    def get_urls(self):
        return [
            path("figures/", self.admin_site.admin_view(self.figures_view),
                 name="queues_counter_figures"),
            *super().get_urls(),
        ]

    def figures_view(self, request):
        """Per day, counter and operator: served, no-shows, service time, idle minutes
        with people waiting, paused minutes by reason, out-of-order calls by reason."""
        return self.figures_page(
            request, form_class=CounterFiguresForm, days_back=0,
            rows_of=lambda data: counter_figures.counter_figures(
                office=data["office"], date_from=data["date_from"], date_to=data["date_to"],
                counter_id=getattr(data.get("counter"), "pk", None),
                operator_id=getattr(data.get("operator"), "pk", None)),
            template="admin/queues/counter/figures.html", title=_("Counter figures"),
            columns=COUNTER_FIGURE_COLUMNS, export_name="counter_figures")

    @admin.display(description=gettext_lazy("lanes, in order"))
    def lane_order(self, obj):
        return ", ".join(row.lane.letter for row in obj.lane_order.all())

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "office"] if obj is not None else fields


@admin.register(QueueSettings)
class QueueSettingsAdmin(NoDeleteMixin, OfficeScopedAdmin):
    list_display = ["office", "ahead_cap", "fairness_wait_minutes", "notify_ahead",
                    "end_of_day_grace_minutes", "estimate_history_days", "idle_alert_minutes",
                    "walk_in_until"]
    fields = list_display
    list_select_related = ["office"]

    def get_readonly_fields(self, request, obj=None):
        return ["office"] if obj is not None else []


class LaneQuotaForm(forms.ModelForm):
    class Meta:
        model = LaneQuota
        fields = ["office", "lane", "daily_walk_ins"]

    def clean(self):
        data = super().clean()
        office = data.get("office") or (self.instance.office if self.instance.office_id
                                        else None)
        lane = data.get("lane")
        if office is not None and lane is not None and lane.office_id != office.id:
            self.add_error("lane", _("Choose a lane of this office."))
        return data


@admin.register(LaneQuota)
class LaneQuotaAdmin(OfficeScopedAdmin):
    """A lane's daily cap on walk-in tickets: past it the kiosk gives that lane's
    walk-ins no number and offers the next free booking times (bookings are never
    refused). No row: no cap."""

    form = LaneQuotaForm
    list_display = ["lane", "daily_walk_ins"]
    list_select_related = ["office", "lane"]
    fields = ["office", "lane", "daily_walk_ins"]

    def get_readonly_fields(self, request, obj=None):
        return ["office", "lane"] if obj is not None else []


class TicketEventInline(NoAddMixin, NoChangeMixin, OfficeScopedInline, admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "lane", "counter", "actor", "reason", "ahead_of_turn", "outcome",
              "to_lane", "note", "wait_seconds", "service_seconds"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lane", "counter", "actor",
                                                            "to_lane")


@admin.register(PauseReason)
class PauseReasonAdmin(NoDeleteMixin, OfficeScopedAdmin):
    """The reasons an operator may pause a counter for, and how long each may last
    before the supervisors are alerted (while people wait)."""

    list_display = ["name", "code", "allowed_minutes", "needs_note", "position", "is_active"]
    list_filter = ["is_active"]
    fields = ["office", "code", "name", "allowed_minutes", "needs_note", "position",
              "is_active"]

    def get_readonly_fields(self, request, obj=None):
        return ["office", "code"] if obj is not None else []


@admin.register(CounterEvent)
class CounterEventAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """Every change of a counter's state: who, when, why (append-only)."""

    list_display = ["at", "counter", "state", "previous", "operator", "actor", "pause_reason",
                    "note", "ticket"]
    list_filter = ["day", ("counter", admin.RelatedOnlyFieldListFilter),
                   ("operator", admin.RelatedOnlyFieldListFilter), "state"]
    list_select_related = ["office", "counter", "operator", "actor", "pause_reason", "ticket"]
    date_hierarchy = "day"
    fields = ["office", "day", "at", "counter", "state", "previous", "operator", "actor",
              "pause_reason", "note", "ticket"]
    readonly_fields = fields


@admin.register(CounterAlert)
class CounterAlertAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """Counters found idle (or paused too long) while people waited: raised to the
    supervisors once, closed by themselves when the counter calls."""

    list_display = ["raised_at", "counter", "operator", "kind", "since", "waiting",
                    "is_open_display", "closed_at", "ended_by"]
    list_filter = ["day", ("counter", admin.RelatedOnlyFieldListFilter), "kind", "ended_by"]
    list_select_related = ["office", "counter", "operator"]
    date_hierarchy = "day"
    fields = ["office", "day", "counter", "operator", "kind", "pause_reason", "since",
              "raised_at", "waiting", "closed_at", "ended_by", "text"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("open"), boolean=True)
    def is_open_display(self, obj):
        return obj.is_open

    @admin.display(description=gettext_lazy("alert"))
    def text(self, obj):
        return counter_figures.alert_text(obj)


@admin.register(Ticket)
class TicketAdmin(AccessLogMixin, FiguresPageMixin, ReadOnlyMixin, ListExportMixin,
                  OfficeScopedAdmin):
    """Tickets by day, lane, counter, operator and status, each with its history."""

    list_display = ["code", "day", "lane", "service", "source", "priority", "status",
                    "outcome", "counter", "operator", "issued_at", "called_at", "finished_at",
                    "resident_name"]
    list_filter = ["day", ("lane", admin.RelatedOnlyFieldListFilter),
                   ("counter", admin.RelatedOnlyFieldListFilter),
                   ("operator", admin.RelatedOnlyFieldListFilter), "status", "source",
                   "priority", "outcome"]
    search_fields = ["code", "application__number", "resident__name", "booking__code"]
    list_select_related = ["office", "lane", "service", "counter", "operator", "resident"]
    date_hierarchy = "day"
    inlines = [TicketEventInline]
    export_resident_path = "resident"
    access_kind = AccessKind.COUNTER
    change_list_template = "admin/queues/ticket/change_list.html"
    fields = ["office", "day", "code", "lane", "service", "source", "booking", "priority",
              "band", "order_at", "resident", "application", "status", "counter", "operator",
              "issued_at", "queued_at", "first_called_at", "called_at", "call_reason",
              "call_count", "started_at", "finished_at", "outcome", "outcome_reason",
              "outcome_note", "transferred_from", "sweep_due_at", "closed_at"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("resident"))
    def resident_name(self, obj):
        return obj.resident.name if obj.resident_id else "-"

    def get_urls(self):
        return [
            path("statistics/", self.admin_site.admin_view(self.statistics_view),
                 name="queues_ticket_statistics"),
            *super().get_urls(),
        ]

    def statistics_view(self, request):
        """Per day and lane: served, no-shows, waiting and service time (median, p90)."""
        return self.figures_page(
            request, form_class=StatisticsForm, days_back=6,
            rows_of=lambda data: selectors.lane_day_statistics(
                office=data["office"], date_from=data["date_from"], date_to=data["date_to"]),
            template="admin/queues/ticket/statistics.html", title=_("Queue statistics"),
            columns=STATISTICS_COLUMNS, export_name="ticket_statistics")
