"""Admin of appointments: bookings by office, day, lane, service and status, each with
its documents and case file; cancelling with a reason the resident is told; the day
view of slots; each office's booking settings and lane schedules; the review of the
documents residents send ahead. State changes go through the services."""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from registry import tenancy
from registry.admin import ClosureAdmin, OfficeAdmin
from registry.admin_access import AccessLogMixin
from registry.admin_base import (
    ListExportMixin,
    NoAddMixin,
    NoChangeMixin,
    NoDeleteMixin,
    OfficeScopedAdmin,
    OfficeScopedInline,
    ReadOnlyMixin,
)
from registry.appointments import selectors
from registry.appointments.forms import CancelForm, RejectForm
from registry.appointments.models import (
    AppointmentSettings,
    Booking,
    BookingDocument,
    BookingStatus,
    DocumentReview,
    LaneSchedule,
    Slot,
    SmsInbound,
    SmsOffer,
)
from registry.appointments.services.booking_documents import booking_document_review
from registry.appointments.services.bookings import booking_cancel
from registry.appointments.services.closures import closure_declare, office_hours_changed
from registry.appointments.services.slots import lane_schedule_save
from registry.appointments.views import VIEW_SLOTS
from registry.calendar import office_today
from registry.errors import DomainError
from registry.models import AccessKind, Closure, Lane, Office

# The day view reads at most this far from today either way; slots_day makes a day's
# slots when they do not exist, which is right within a year and noise beyond it.
DAY_VIEW_RANGE_DAYS = 366


def _day(day: date) -> str:
    return date_format(day, "j F Y")


def _user_offices(request) -> list[Office]:
    return list(Office.objects.filter(id__in=tenancy.staff_office_ids(request.user)))


class VisitDayFilter(admin.SimpleListFilter):
    """Today, tomorrow, the coming week or past days, each in the booking's own office's
    time zone (the office's day, not the server's)."""

    title = gettext_lazy("visit day")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("today", _("Today")), ("tomorrow", _("Tomorrow")),
                ("week", _("The next 7 days")), ("past", _("Past days"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in ("today", "tomorrow", "week", "past"):
            return queryset
        condition = Q(pk__in=[])
        for office in _user_offices(request):
            today = office_today(office)
            days = {"today": Q(day=today), "tomorrow": Q(day=today + timedelta(days=1)),
                    "week": Q(day__gte=today, day__lte=today + timedelta(days=6)),
                    "past": Q(day__lt=today)}[value]
            condition |= Q(office=office) & days
        return queryset.filter(condition)


def _case_link(application):
    url = reverse("admin:registry_application_change", args=[application.pk])
    return format_html('<a href="{}">{}</a>', url, application.number)


class BookingDocumentInline(NoAddMixin, NoChangeMixin, OfficeScopedInline, admin.TabularInline):
    model = BookingDocument
    extra = 0
    can_delete = False
    fields = ["requirement", "issued_on", "file_link", "review", "reviewed_by", "reviewed_at",
              "reject_reason"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("file"))
    def file_link(self, obj):
        return _file_link(obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requirement", "reviewed_by")


def _file_link(document):
    if not document.file:
        if document.file_removed_at:
            return _("removed on %(date)s (retention period)") % {
                "date": date_format(timezone.localtime(document.file_removed_at))}
        return "-"
    url = reverse("appointments:document-file", args=[document.pk])
    review = reverse("admin:appointments_bookingdocument_change", args=[document.pk])
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a> &middot; '
                       '<a href="{}">{}</a>', url, _("open"), review, _("review"))


@admin.register(Booking)
class BookingAdmin(AccessLogMixin, NoAddMixin, NoDeleteMixin, ListExportMixin,
                   OfficeScopedAdmin):
    """Bookings by day, lane, service, status and channel, each read-only with its
    documents and case file. The front desk cancels with a reason (the resident is
    told) and books for residents without a phone from the assisted booking page."""

    list_display = ["code", "day", "time", "lane", "service", "resident_name", "status",
                    "documents_waiting", "case"]
    list_filter = [VisitDayFilter, ("slot__lane", admin.RelatedOnlyFieldListFilter),
                   ("service", admin.RelatedOnlyFieldListFilter), "status", "channel"]
    search_fields = ["=code", "application__number", "resident__name", "=resident__nik"]
    list_select_related = ["office", "slot", "slot__lane", "service", "resident",
                           "application"]
    date_hierarchy = "day"
    ordering = ["-day", "slot__start", "id"]
    export_resident_path = "resident"
    access_kind = AccessKind.BOOKING
    inlines = [BookingDocumentInline]
    actions = ["cancel_with_reason"]
    change_list_template = "admin/appointments/booking/change_list.html"
    fields = ["code", "office", "status", "channel", "resident_display", "service",
              "visit", "case", "slip", "created_at", "created_by", "checked_in_at",
              "finished_at", "cancelled_at", "cancelled_by", "cancel_reason", "expired_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        waiting = BookingDocument.objects.filter(booking=OuterRef("pk"),
                                                 review=DocumentReview.PENDING)
        return super().get_queryset(request).annotate(has_waiting_documents=Exists(waiting))

    @admin.display(description=gettext_lazy("time"), ordering="slot__start")
    def time(self, obj):
        return f"{obj.slot.start:%H:%M}-{obj.slot.end:%H:%M}"

    @admin.display(description=gettext_lazy("lane"), ordering="slot__lane__letter")
    def lane(self, obj):
        return obj.slot.lane.letter

    @admin.display(description=gettext_lazy("resident"), ordering="resident__name")
    def resident_name(self, obj):
        return obj.resident.name

    @admin.display(description=gettext_lazy("resident"))
    def resident_display(self, obj):
        return f"{obj.resident.name} ({obj.resident.masked_nik})"

    @admin.display(description=gettext_lazy("documents awaiting review"), boolean=True)
    def documents_waiting(self, obj):
        return obj.has_waiting_documents

    @admin.display(description=gettext_lazy("case file"))
    def case(self, obj):
        return _case_link(obj.application)

    @admin.display(description=gettext_lazy("visit"))
    def visit(self, obj):
        slot = obj.slot
        return _("%(date)s, %(start)s-%(end)s, lane %(lane)s (%(lane_name)s)") % {
            "date": _day(slot.date), "start": f"{slot.start:%H:%M}",
            "end": f"{slot.end:%H:%M}", "lane": slot.lane.letter, "lane_name": slot.lane.name}

    @admin.display(description=gettext_lazy("slip"))
    def slip(self, obj):
        url = reverse("appointments:slip", args=[obj.code])
        return format_html('<a href="{}" target="_blank">{}</a>', url, _("Print the slip"))

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # read-only: bookings change through the actions
        return super().has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_book": bool(tenancy.offices_with_perm(request.user,
                                                                    "appointments.add_booking")),
                         "can_see_slots": bool(tenancy.offices_with_perm(request.user, VIEW_SLOTS))}
        return super().changelist_view(request, extra_context)

    @admin.action(description=gettext_lazy("Cancel with a reason (the resident is told)"),
                  permissions=["change"])
    def cancel_with_reason(self, request, queryset):
        queryset = queryset.select_related("resident", "slot", "slot__lane", "service")
        form = CancelForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            count = 0
            for booking in queryset:
                if not request.user.has_perm("appointments.change_booking", booking):
                    messages.error(request, _("%(code)s: you may not cancel bookings of this "
                                              "office.") % {"code": booking.code})
                    continue
                try:
                    booking_cancel(booking=booking, by=request.user,
                                   reason=form.cleaned_data["reason"])
                except DomainError as exc:
                    messages.error(request, f"{booking.code}: {exc.message}")
                else:
                    count += 1
            if count:
                messages.success(request, _("%(count)d booking(s) cancelled; the residents "
                                            "have been told.") % {"count": count})
            return None
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "bookings": queryset, "title": _("Cancel bookings"),
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return render(request, "admin/appointments/booking/cancel.html", context)


@admin.register(Slot)
class SlotAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """The slots of each lane, made ahead over the booking window; the day view shows
    one day of one office lane by lane."""

    list_display = ["date", "start", "end", "lane", "capacity", "booked", "remaining",
                    "checked_in", "is_closed"]
    list_filter = ["date", ("lane", admin.RelatedOnlyFieldListFilter), "is_closed"]
    list_select_related = ["office", "lane"]
    date_hierarchy = "date"
    ordering = ["date", "lane__letter", "start"]
    change_list_template = "admin/appointments/slot/change_list.html"
    fields = ["office", "lane", "date", "start", "end", "capacity", "booked", "remaining",
              "checked_in", "is_closed"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(checked_in_count=Count(
            "bookings", filter=Q(bookings__status__in=[BookingStatus.CHECKED_IN,
                                                       BookingStatus.DONE])))

    @admin.display(description=gettext_lazy("remaining"))
    def remaining(self, obj):
        return obj.remaining

    @admin.display(description=gettext_lazy("checked in"))
    def checked_in(self, obj):
        return obj.checked_in_count

    def get_urls(self):
        return [
            path("day/", self.admin_site.admin_view(self.day_view),
                 name="appointments_slot_day"),
            *super().get_urls(),
        ]

    def day_view(self, request):
        """One office's day, lane by lane: each slot's places, booked, remaining and
        checked in, with the lane's totals (?office=CODE&date=YYYY-MM-DD)."""
        offices = tenancy.offices_with_perm(request.user, VIEW_SLOTS)
        if not offices:
            raise PermissionDenied
        office = next((o for o in offices if o.code == request.GET.get("office")), offices[0])
        today = office_today(office)
        day = today
        if request.GET.get("date"):
            try:
                day = date.fromisoformat(request.GET["date"])
            except ValueError:
                messages.error(request, _("Enter the date as YYYY-MM-DD."))
            if abs((day - today).days) > DAY_VIEW_RANGE_DAYS:
                messages.error(request, _("Choose a day within a year of today."))
                day = today
        lanes = []
        for row in selectors.slots_day(office=office, day=day):
            if not lanes or lanes[-1]["lane"].pk != row["lane"].pk:
                lanes.append({"lane": row["lane"], "slots": [], "capacity": 0, "booked": 0,
                              "remaining": 0, "checked_in": 0})
            row["checked_in_total"] = row["checked_in"] + row["done"]
            lane = lanes[-1]
            lane["slots"].append(row)
            for key in ("capacity", "booked", "remaining"):
                lane[key] += row[key]
            lane["checked_in"] += row["checked_in_total"]
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": _("Slots of %(date)s") % {"date": _day(day)},
                   "office": office, "offices": offices, "day": day, "lanes": lanes,
                   "previous": day - timedelta(days=1), "next": day + timedelta(days=1),
                   "today": today}
        return render(request, "admin/appointments/slot/day.html", context)


@admin.register(AppointmentSettings)
class AppointmentSettingsAdmin(NoDeleteMixin, OfficeScopedAdmin):
    """How each office takes bookings; office administrators and supervisors edit it."""

    list_display = ["office", "booking_window_days", "same_day_until", "change_cutoff_hours",
                    "rebook_days", "reminder_day_before_at", "reminder_morning_at"]
    fields = list_display
    list_select_related = ["office"]

    def get_readonly_fields(self, request, obj=None):
        return ["office"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "office":
            # Offices where the user may set bookings up and that have no settings yet.
            ids = [o.id for o in tenancy.offices_with_perm(
                request.user, "appointments.change_appointmentsettings")]
            field.queryset = Office.objects.filter(id__in=ids).exclude(
                appointment_settings__isnull=False).order_by("code")
        return field

    def has_add_permission(self, request):
        # Every office has settings (made with defaults when first read); adding is
        # for an office whose row was never read yet.
        return request.user.has_perm("appointments.change_appointmentsettings")


@admin.register(LaneSchedule)
class LaneScheduleAdmin(NoDeleteMixin, OfficeScopedAdmin):
    """The slot length and places per slot of each lane. Slots already made keep their
    shape; a change applies to the days made after it."""

    list_display = ["lane", "slot_minutes", "capacity"]
    fields = ["lane", "slot_minutes", "capacity"]
    list_select_related = ["office", "lane"]
    ordering = ["office__code", "lane__letter"]

    def get_readonly_fields(self, request, obj=None):
        return ["lane"] if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "lane":
            ids = [o.id for o in tenancy.offices_with_perm(request.user,
                                                           "appointments.add_laneschedule")]
            field.queryset = (Lane.objects.filter(office_id__in=ids, schedule__isnull=True)
                              .order_by("office__code", "letter"))
        return field

    def save_model(self, request, obj, form, change):
        obj.office_id = obj.lane.office_id
        perm = "appointments.change_laneschedule" if change else "appointments.add_laneschedule"
        if not request.user.has_perm(perm, obj):
            raise Http404
        last = lane_schedule_save(schedule=obj)
        if last is not None:
            messages.info(request, _("Slots already made, up to %(date)s, keep their length "
                                     "and places; the change applies to the days after.")
                          % {"date": _day(last)})


@admin.register(BookingDocument)
class BookingDocumentAdmin(AccessLogMixin, NoAddMixin, NoDeleteMixin, OfficeScopedAdmin):
    """The documents residents declared or sent ahead; the front desk accepts or rejects
    each file sent, with a reason the resident receives at once."""

    list_display = ["booking_code", "visit_day", "resident_name", "requirement", "issued_on",
                    "file_link", "review", "reviewed_by", "reject_reason"]
    list_filter = ["review", ("requirement", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=booking__code", "booking__resident__name"]
    list_select_related = ["office", "booking", "booking__resident", "requirement",
                           "reviewed_by"]
    access_resident_path = "booking__resident_id"
    access_kind = AccessKind.DOCUMENT
    ordering = ["booking__day", "booking__slot__start", "id"]
    actions = ["accept", "reject_with_reason"]
    change_form_template = "admin/appointments/bookingdocument/change_form.html"
    fields = ["booking_link", "resident_name", "visit_day", "requirement", "issued_on",
              "file_link", "preview", "content_type", "size", "uploaded_at", "review",
              "reviewed_by", "reviewed_at", "reject_reason"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("booking"), ordering="booking__code")
    def booking_code(self, obj):
        return obj.booking.code

    @admin.display(description=gettext_lazy("booking"))
    def booking_link(self, obj):
        url = reverse("admin:appointments_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">{}</a>', url, obj.booking.code)

    @admin.display(description=gettext_lazy("visit day"), ordering="booking__day")
    def visit_day(self, obj):
        return _day(obj.booking.day)

    @admin.display(description=gettext_lazy("resident"))
    def resident_name(self, obj):
        return obj.booking.resident.name

    @admin.display(description=gettext_lazy("file"))
    def file_link(self, obj):
        if not obj.file:
            return _file_link(obj)
        url = reverse("appointments:document-file", args=[obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("open"))

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, obj):
        if not obj.file or not obj.content_type.startswith("image/"):
            return "-"
        url = reverse("appointments:document-file", args=[obj.pk])
        return format_html('<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="" '
                           'style="max-width:480px;max-height:360px"></a>', url)

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # read-only: reviewed through the actions and the review form
        return super().has_change_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        document = self.get_queryset(request).filter(pk=object_id).first()
        can_review = bool(document and document.review == DocumentReview.PENDING
                          and request.user.has_perm("appointments.change_bookingdocument",
                                                    document))
        extra_context = {**(extra_context or {}), "can_review": can_review,
                         "reject_form": RejectForm()}
        return super().change_view(request, object_id, form_url, extra_context)

    def _review(self, request, queryset, *, accept: bool, reason: str = "") -> int:
        count = 0
        for document in queryset.select_related("booking", "requirement"):
            if not request.user.has_perm("appointments.change_bookingdocument", document):
                messages.error(request, _("%(code)s: you may not review documents of this "
                                          "office.") % {"code": document.booking.code})
                continue
            try:
                booking_document_review(document=document, accept=accept,
                                        reason=reason, by=request.user)
            except DomainError as exc:
                messages.error(request, f"{document}: {exc.message}")
            else:
                count += 1
        return count

    @admin.action(description=gettext_lazy("Accept"), permissions=["change"])
    def accept(self, request, queryset):
        count = self._review(request, queryset, accept=True)
        if count:
            messages.success(request, _("%(count)d document(s) accepted.") % {"count": count})

    @admin.action(description=gettext_lazy("Reject with a reason (the resident is told)"),
                  permissions=["change"])
    def reject_with_reason(self, request, queryset):
        form = RejectForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            count = self._review(request, queryset, accept=False,
                                 reason=form.cleaned_data["reason"])
            if count:
                messages.success(request, _("%(count)d document(s) rejected; the residents "
                                            "have been told.") % {"count": count})
            return None
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "documents": queryset.select_related("booking", "requirement"),
                   "title": _("Reject documents"),
                   "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
        return render(request, "admin/appointments/bookingdocument/reject.html", context)


# --- The office's hours and closures, as appointments sees them ------------------------
# The core's admin of offices and closures, with what a change means for bookings.


class OfficeWithBookingsAdmin(OfficeAdmin):
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change or not self.hours_changed(formsets):
            return
        # New hours: the slots already made follow them, and anyone booked at a time
        # no longer open is told (in the admin's transaction).
        cancelled = office_hours_changed(office=form.instance, by=request.user)
        if cancelled:
            self.message_user(request, ngettext(
                "%(count)d booking fell outside the new hours: the resident was told and "
                "offered the next free times.",
                "%(count)d bookings fell outside the new hours: the residents were told and "
                "offered the next free times.", cancelled) % {"count": cancelled},
                messages.WARNING)


class ClosureWithBookingsAdmin(ClosureAdmin):
    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # Everyone booked that day is told and offered the next free times.
        with transaction.atomic():
            closure = closure_declare(office=obj.office, day=obj.date, reason=obj.reason,
                                      by=request.user)
        obj.pk = closure.pk


admin.site.unregister(Office)
admin.site.register(Office, OfficeWithBookingsAdmin)
admin.site.unregister(Closure)
admin.site.register(Closure, ClosureWithBookingsAdmin)


@admin.register(SmsOffer)
class SmsOfferAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """Free times offered by SMS after a missed or cancelled visit, and what came of
    them (read-only: the sweeps and the residents' replies write them)."""

    list_display = ["created_at", "resident", "application", "status", "answered_at",
                    "booking"]
    list_filter = ["status"]
    search_fields = ["application__number", "=resident__nik", "resident__name"]
    list_select_related = ["resident", "application", "booking", "office"]
    date_hierarchy = "created_at"
    exclude = ["phone", "slot_ids"]
    readonly_fields = ["offered"]

    @admin.display(description=gettext_lazy("times offered"))
    def offered(self, obj):
        slots = Slot.objects.filter(pk__in=obj.slot_ids).order_by("starts_at")
        return "; ".join(f"{slot.date:%d-%m-%Y} {slot.start:%H:%M}" for slot in slots)


@admin.register(SmsInbound)
class SmsInboundAdmin(ReadOnlyMixin, OfficeScopedAdmin):
    """SMS received from residents through the gateway, with what the system did."""

    list_display = ["received_at", "resident", "text", "outcome", "booking"]
    list_filter = ["outcome"]
    search_fields = ["=resident__nik", "resident__name", "gateway_id"]
    list_select_related = ["resident", "booking", "office"]
    date_hierarchy = "received_at"
    exclude = ["sender"]
