"""Every write of the appointments app: one function per operation, one transaction.

Capacity: a slot's `booked` counter moves only through a conditional UPDATE
(`booked < capacity`), which the database serialises on the slot's row; the check
constraint `slot_not_overbooked` is the last line of defence. One active booking per
resident and service is a partial unique constraint. Bookings are locked with
`lock_objects.bookings_for_update` before any change of status.
"""

import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import background
from registry import services as registry_services
from registry.appointments import lock_objects
from registry.appointments.models import (
    AppointmentSettings,
    Booking,
    BookingChannel,
    BookingDocument,
    BookingStatus,
    DocumentReview,
    LaneSchedule,
    Slot,
)
from registry.calendar import (
    OfficeCalendar,
    office_day_bounds,
    office_local,
    office_now,
    office_today,
)
from registry.errors import Conflict, DomainError, NotFound
from registry.models import (
    Application,
    ApplicationStatus,
    Channel,
    Closure,
    Lane,
    Office,
    Requirement,
    Resident,
    Service,
)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
CODE_LENGTH = 8
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}
SWEEP_BATCH = 5000
NEXT_FREE_SLOTS_OFFERED = 3
DEFAULT_REBOOK_DAYS = 30


# --- Settings and slots ------------------------------------------------------------


def appointment_settings_for(office: Office) -> AppointmentSettings:
    """The office's settings (made with the defaults when first read). Read through the
    office, so they are read once per office object (a booking needs them three times)
    and come with a list that selects `office__appointment_settings`."""
    try:
        return office.appointment_settings
    except AppointmentSettings.DoesNotExist:
        settings, _created = AppointmentSettings.objects.get_or_create(office=office)
        office.appointment_settings = settings
        return settings


def lane_schedule_for(lane: Lane) -> LaneSchedule:
    schedule, _created = LaneSchedule.objects.get_or_create(
        lane=lane, defaults={"office_id": lane.office_id})
    return schedule


def bookable_range(*, office: Office, now: datetime | None = None) -> tuple[date, date]:
    """The first and last day residents may book now: from tomorrow (or today while
    same-day booking is open) to the end of the booking window."""
    settings = appointment_settings_for(office)
    local = (now or timezone.now()).astimezone(office_now(office).tzinfo)
    today = local.date()
    first = today
    if settings.same_day_until is None or local.time() >= settings.same_day_until:
        first = today + timedelta(days=1)
    return first, today + timedelta(days=settings.booking_window_days)


def slots_ensure(*, office: Office, start: date, end: date) -> int:
    """Make the slots of every lane on every working day from `start` to `end` that do
    not exist yet; existing slots (and their bookings) are left as they are. Returns
    how many were missing. Safe to run at any time and in parallel: the unique
    constraint drops a slot another run made meanwhile. When nothing was missing (the
    hourly top-up, mostly) nothing is written and the slot list's cache is kept.

    A day already made keeps its shape: a slot of the lane's plan that would overlap
    one of the day's slots (open or closed) is not made, so a new slot length, or
    hours moved by a few minutes, never lays a second grid over the first one and
    never doubles the places of a time. Only the times no slot covers are filled (a
    longer day, a slot removed)."""
    calendar = OfficeCalendar(office, start, end)
    schedules = [lane_schedule_for(lane) for lane in
                 Lane.objects.filter(office=office, is_active=True).order_by("letter")]
    made: dict[tuple[int, date], list[tuple]] = {}  # (lane, day): [(start, end)]
    for lane_id, day, begins, ends in (Slot.objects.filter(office=office,
                                                           date__range=(start, end))
                                       .values_list("lane_id", "date", "start", "end")):
        made.setdefault((lane_id, day), []).append((begins, ends))
    rows = []
    for day in calendar.working_days():
        hours = calendar.hours_on(day)
        for schedule in schedules:
            if schedule.capacity == 0:
                continue
            taken = made.get((schedule.lane_id, day), [])
            length = timedelta(minutes=schedule.slot_minutes)
            begin = office_local(office, day, hours.opens)
            close = office_local(office, day, hours.closes)
            while begin + length <= close:
                finish = begin + length
                if not any(b < finish.time() and begin.time() < e for b, e in taken):
                    rows.append(Slot(office=office, lane_id=schedule.lane_id, date=day,
                                     start=begin.time(), end=finish.time(),
                                     starts_at=begin, ends_at=finish,
                                     capacity=schedule.capacity))
                begin = finish
    Slot.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    if rows:
        slots_changed(office=office)
    return len(rows)


def slots_ensure_all(*, now: datetime | None = None) -> int:
    """The hourly top-up: every active office's slots over its booking window, the
    offices side by side (background.per_office)."""
    return sum(background.per_office(
        lambda office: slots_ensure_window(office=office, now=now, force=True),
        list(Office.objects.filter(is_active=True).order_by("id"))))


# Reading the slot list must not write: the slots of the booking window are made once
# (then at most every SLOTS_MADE_SECONDS per office, and by the hourly beat), and a
# change of a lane's plan drops the mark (slots_plan_changed).
SLOTS_MADE_KEY = "appointments:slots-made:{office_id}"
SLOTS_MADE_SECONDS = 600


def slots_ensure_window(*, office: Office, now: datetime | None = None,
                        force: bool = False) -> int:
    """Make sure the slots of the office's whole booking window exist; cheap when they
    were made recently (a mark in the cache says up to which day)."""
    first, last = bookable_range(office=office, now=now)
    key = SLOTS_MADE_KEY.format(office_id=office.id)
    if not force and cache.get(key) == last:
        return 0
    made = slots_ensure(office=office, start=first - timedelta(days=1), end=last)
    cache.set(key, last, SLOTS_MADE_SECONDS)
    return made


def lane_schedule_save(*, schedule: LaneSchedule) -> date | None:
    """Save a lane's slot length and places. Slots already made keep their shape; the
    days made after follow the new plan. Returns the last day already made, if any."""
    office = schedule.lane.office
    schedule.office_id = office.id
    schedule.save()
    slots_plan_changed(office=office)
    return Slot.objects.filter(lane_id=schedule.lane_id, date__gte=office_today(office)
                               ).aggregate(last=Max("date"))["last"]


def slots_plan_changed(*, office: Office) -> None:
    """A lane's schedule changed: the days not made yet follow the new plan at the
    next read. (New working hours remake the window at once: office_hours_changed.)"""
    cache.delete(SLOTS_MADE_KEY.format(office_id=office.id))


# The bookable slot list residents read is cached under a version per office
# (selectors.slots_cache_key). Every change of a slot's places moves the version: at
# once, for readers in the same transaction, and again when it commits, for readers who
# read the old rows meanwhile. A reader takes the version before the rows, so a list
# read before the commit is never stored under the version that follows it.
SLOTS_VERSION_KEY = "appointments:slots-version:{code}"


def _slots_version_bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # not set yet, or evicted: a fresh value no old entry used
        cache.set(key, time.time_ns(), None)


def slots_changed(*, office: Office) -> None:
    key = SLOTS_VERSION_KEY.format(code=office.code)
    _slots_version_bump(key)
    transaction.on_commit(lambda: _slots_version_bump(key))


def _slot_refusal(*, office: Office, service: Service, slot: Slot, now: datetime):
    """Why `slot` cannot be booked for `service` now, or None."""
    if slot.office_id != office.id or slot.lane_id != service.lane_id:
        return NotFound(_("This slot does not exist for this service."), "slot_not_found")
    first, last = bookable_range(office=office, now=now)
    if slot.is_closed or not first <= slot.date <= last or slot.starts_at <= now:
        return DomainError(_("This slot can no longer be booked; choose another."),
                           "slot_not_bookable")
    return None


# --- Requirement pre-check ----------------------------------------------------------


@dataclass(frozen=True)
class DeclaredDocument:
    requirement: Requirement
    issued_on: date | None


def requirement_last_valid_day(requirement: Requirement, issued_on: date) -> date:
    """A document valid N days from issue is valid on the day of issue and the N-1
    days after it."""
    return issued_on + timedelta(days=requirement.valid_days - 1)


def requirement_problems(*, service: Service, visit_date: date, today: date,
                         documents: list[DeclaredDocument]) -> list[dict]:
    """Every requirement of `service` that stops a visit on `visit_date` from
    succeeding: `missing`, `expired` (already, today) or `expires_before_visit`. Each
    problem has a message in the current language saying what to do."""
    declared = {doc.requirement.id: doc for doc in documents}
    problems = []
    for requirement in service.requirements.all():
        doc = declared.get(requirement.id)
        hint = requirement.how_to_obtain
        if doc is None:
            message = _("%(document)s is missing.") % {"document": requirement.name}
            code = "missing"
        elif requirement.valid_days and doc.issued_on is None:
            message = _("%(document)s is valid for %(days)s days: give its date of issue.") % {
                "document": requirement.name, "days": requirement.valid_days}
            code = "missing"
        elif requirement.valid_days:
            last = requirement_last_valid_day(requirement, doc.issued_on)
            if last < today:
                code = "expired"
                message = _("%(document)s expired on %(date)s.") % {
                    "document": requirement.name, "date": _date(last)}
            elif last < visit_date:
                code = "expires_before_visit"
                message = _("%(document)s is valid until %(date)s, before your visit on "
                            "%(visit)s.") % {"document": requirement.name,
                                             "date": _date(last), "visit": _date(visit_date)}
            else:
                continue
        else:
            continue
        if hint:
            message = f"{message} {hint}"
        problems.append({"requirement": requirement.code, "code": code, "message": message})
    return problems


def documents_declare(*, service: Service, documents: list[dict]) -> list[DeclaredDocument]:
    """Turn `[{requirement: CODE, issued_on}]` into declared documents of `service`,
    refusing unknown codes, repeats and dates of issue in the future."""
    by_code = {r.code: r for r in service.requirements.all()}
    today = office_today(service.office)
    seen, declared = set(), []
    for doc in documents:
        code = str(doc.get("requirement", ""))
        requirement = by_code.get(code)
        if requirement is None:
            raise DomainError(_("%(code)s is not a requirement of this service.")
                              % {"code": code[:40]}, "requirement_unknown")
        if code in seen:
            raise DomainError(_("%(document)s is listed twice.") % {"document": requirement.name},
                              "requirement_repeated")
        seen.add(code)
        issued_on = doc.get("issued_on")
        if issued_on is not None and issued_on > today:
            raise DomainError(_("The date of issue of %(document)s is in the future.")
                              % {"document": requirement.name}, "issued_on_future")
        declared.append(DeclaredDocument(requirement, issued_on))
    return declared


def requirement_check(*, office: Office, service: Service, visit_date: date,
                      documents: list[dict]) -> list[dict]:
    """The pre-check of POST /requirement-checks/: the problems, empty when none."""
    if service.office_id != office.id or not service.is_active:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    today = office_today(office)
    if visit_date < today:
        raise DomainError(_("The visit date is in the past."), "visit_date_past")
    return requirement_problems(service=service, visit_date=visit_date, today=today,
                                documents=documents_declare(service=service,
                                                            documents=documents))


def _raise_problems(problems: list[dict]) -> None:
    if problems:
        raise DomainError(_("Some requirements are not met; see the problems."),
                          "requirements_not_met", extra={"problems": problems})


# --- Booking -------------------------------------------------------------------------


def _date(day: date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "j F Y")


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def _take_place(slot: Slot, *, office: Office) -> None:
    """One place of `slot`, or Conflict slot_full. The UPDATE locks the slot's row
    until the caller's transaction ends."""
    taken = (Slot.objects.filter(pk=slot.pk, booked__lt=F("capacity"), is_closed=False)
             .update(booked=F("booked") + 1))
    if not taken:
        raise Conflict(_("This slot is full; choose another."), "slot_full")
    slot.booked += 1  # at least this many now; the answer shows it without a re-read
    slots_changed(office=office)


def _free_place(booking: Booking) -> None:
    Slot.objects.filter(pk=booking.slot_id, booked__gt=0).update(booked=F("booked") - 1)
    slots_changed(office=booking.office)


def _application_for(*, office, resident, service, channel, by) -> Application:
    """The resident's open case for this service waiting for a booking (after a missed
    visit or an office cancellation), or a new one."""
    application = (Application.objects.select_for_update(of=("self",))
                   .filter(office=office, resident=resident, service=service,
                           status=ApplicationStatus.OPEN)
                   .exclude(bookings__status__in=[BookingStatus.BOOKED,
                                                  BookingStatus.CHECKED_IN])
                   .order_by("-created_at").first())
    if application is None:
        return registry_services.application_open(
            office=office, resident=resident, service=service,
            channel=Channel.ASSISTED if channel == BookingChannel.ASSISTED else Channel.APP,
            by=by)
    if application.rebook_until is not None:
        application.rebook_until = None
        application.save(update_fields=["rebook_until", "updated_at"])
    return application


def _slot_params(booking: Booking) -> dict:
    slot = booking.slot
    return {"code": booking.code, "date": _date(slot.date), "start": f"{slot.start:%H:%M}",
            "end": f"{slot.end:%H:%M}", "lane": slot.lane.letter, "lane_name": slot.lane.name,
            "service": booking.service.name}


def _requirements_text(service: Service) -> str:
    return "; ".join(r.name for r in service.requirements.all())


def booking_link(booking: Booking) -> str:
    return reverse("booking-detail", kwargs={"code": booking.code})


def booking_create(*, office: Office, resident: Resident, service: Service, slot: Slot,
                   documents: list[dict], channel: str = BookingChannel.APP, by=None,
                   now: datetime | None = None) -> Booking:
    """Book a place: the requirements are checked for the slot's day, one place is
    taken, and the booking opens (or continues) the resident's case.

    Refuses with slot_full or active_booking_exists (409), or the requirement problems
    (400), changing nothing.
    """
    now = now or timezone.now()
    if service.office_id != office.id or not service.is_active:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    refusal = _slot_refusal(office=office, service=service, slot=slot, now=now)
    if refusal:
        raise refusal
    declared = documents_declare(service=service, documents=documents)
    _raise_problems(requirement_problems(service=service, visit_date=slot.date,
                                         today=office_today(office), documents=declared))
    active = Conflict(_("You already have an active booking for this service; cancel or "
                        "reschedule it instead."), "active_booking_exists")
    if Booking.objects.filter(resident=resident, service=service,
                              status__in=[BookingStatus.BOOKED,
                                          BookingStatus.CHECKED_IN]).exists():
        raise active
    for attempt in range(3):
        try:
            return _booking_write(office=office, resident=resident, service=service,
                                  slot=slot, declared=declared, channel=channel, by=by,
                                  now=now)
        except IntegrityError as error:
            if "one_active_booking_per_service" in str(error) or "resident_id" in str(error):
                raise active from None
            # A new code equal to an existing one (one chance in 10^11): the whole
            # transaction is rolled back and tried again with another code.
            if "code" not in str(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _booking_write(*, office, resident, service, slot, declared, channel, by, now):
    with transaction.atomic():
        _take_place(slot, office=office)
        application = _application_for(office=office, resident=resident,
                                       service=service, channel=channel, by=by)
        booking = Booking.objects.create(
            office=office, code=_new_code(), resident=resident, service=service,
            application=application, slot=slot, day=slot.date,
            expires_at=office_day_bounds(office, slot.date)[1], channel=channel,
            created_by=by if getattr(by, "pk", None) else None, created_at=now)
        BookingDocument.objects.bulk_create(
            BookingDocument(office=office, booking=booking, requirement=doc.requirement,
                            issued_on=doc.issued_on) for doc in declared)
        params = _slot_params(booking)
        registry_services.case_event_record(
            application=application, kind="booking.created",
            params={**params, "channel": channel}, actor=by,
            by_resident=channel == BookingChannel.APP)
        registry_services.notification_send(
            office=office, resident=resident, kind="booking.created",
            title=_("Booking %(code)s confirmed"),
            body=_("%(service)s on %(date)s, %(start)s-%(end)s, lane %(lane)s "
                   "(%(lane_name)s). Bring: %(requirements)s. Show code %(code)s at "
                   "the kiosk."),
            params={**params, "requirements": _requirements_text(service)},
            application=application, link=booking_link(booking))
    return booking


def booking_get_by_code(*, office: Office, code: str) -> Booking:
    """The office's booking with this code (any case, spaces ignored); the same
    NotFound for an unknown code and another office's."""
    code = "".join(str(code or "").split()).upper()[:CODE_LENGTH + 4]
    booking = (Booking.objects.select_related("slot", "slot__lane", "service", "resident",
                                              "application")
               .filter(office=office, code=code).first())
    if booking is None:
        raise NotFound(_("No booking with code %(code)s at this office.") % {"code": code},
                       "booking_not_found")
    return booking


def _lock(booking: Booking) -> Booking:
    return (lock_objects.bookings_for_update()
            .select_related("slot", "slot__lane", "service", "resident", "application",
                            "office")
            .get(pk=booking.pk))


def booking_change_deadline(booking: Booking) -> datetime:
    hours = appointment_settings_for(booking.office).change_cutoff_hours
    return booking.slot.starts_at - timedelta(hours=hours)


def booking_cancel(*, booking: Booking, by=None, reason: str = "",
                   now: datetime | None = None) -> Booking:
    """Cancel a booking and free its place.

    By the resident (`by` None): up to the office's cutoff before the slot, and the
    case is closed as cancelled. By staff: at any time before the visit, with a reason
    the resident is told; the case stays open for a new booking.
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    by_staff = getattr(by, "pk", None) is not None
    if by_staff and not reason:
        raise DomainError(_("Give the reason; the resident is told."), "reason_required")
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status != BookingStatus.BOOKED:
            raise Conflict(_("Only a booking not yet used can be cancelled."),
                           "booking_not_cancellable")
        if not by_staff and now > booking_change_deadline(booking):
            raise Conflict(_("Bookings can be cancelled until %(hours)s hours before the "
                             "slot; it is too late now.")
                           % {"hours": appointment_settings_for(booking.office)
                              .change_cutoff_hours}, "change_window_closed")
        _close_booking(booking, status=BookingStatus.CANCELLED, now=now,
                       cancelled_by=by if by_staff else None, reason=reason)
        params = {**_slot_params(booking), "reason": reason}
        registry_services.case_event_record(
            application=booking.application,
            kind="booking.cancelled_by_office" if by_staff else "booking.cancelled",
            params=params, actor=by, by_resident=not by_staff)
        if by_staff:
            _keep_open_for_rebooking(booking, now=now)
            registry_services.notification_send(
                office=booking.office, resident=booking.resident,
                kind="booking.cancelled_by_office",
                title=_("Booking %(code)s cancelled by the office"),
                body=_("Your visit on %(date)s at %(start)s is cancelled: %(reason)s. "
                       "Please book another time in the app; your case stays open."),
                params=params, application=booking.application, link=booking_link(booking))
        else:
            registry_services.application_set_status(
                application=booking.application, status=ApplicationStatus.CANCELLED,
                by_resident=True)
    return booking


def _close_booking(booking: Booking, *, status: str, now: datetime, cancelled_by=None,
                   reason: str = "") -> None:
    booking.status = status
    fields = ["status"]
    if status == BookingStatus.CANCELLED:
        booking.cancelled_at, booking.cancelled_by = now, cancelled_by
        booking.cancel_reason = reason[:300]
        fields += ["cancelled_at", "cancelled_by", "cancel_reason"]
    elif status == BookingStatus.EXPIRED:
        booking.expired_at = now
        fields.append("expired_at")
    booking.save(update_fields=fields)
    _free_place(booking)


def _keep_open_for_rebooking(booking: Booking, *, now: datetime) -> None:
    application = booking.application
    application.rebook_until = _office_rebook_until(booking.office, now)
    application.save(update_fields=["rebook_until", "updated_at"])


def booking_reschedule(*, booking: Booking, slot: Slot, by=None,
                       now: datetime | None = None) -> Booking:
    """Move a booking to another slot of the same service: the new place is taken
    first, and the old one is freed only then, in one transaction; when the new slot
    is full nothing changes."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status != BookingStatus.BOOKED:
            raise Conflict(_("Only a booking not yet used can be rescheduled."),
                           "booking_not_reschedulable")
        if getattr(by, "pk", None) is None and now > booking_change_deadline(booking):
            raise Conflict(_("Bookings can be rescheduled until %(hours)s hours before the "
                             "slot; it is too late now.")
                           % {"hours": appointment_settings_for(booking.office)
                              .change_cutoff_hours}, "change_window_closed")
        if slot.pk == booking.slot_id:
            raise DomainError(_("This is already the booking's slot."), "same_slot")
        refusal = _slot_refusal(office=booking.office, service=booking.service, slot=slot,
                                now=now)
        if refusal:
            raise refusal
        declared = [DeclaredDocument(doc.requirement, doc.issued_on)
                    for doc in booking.documents.select_related("requirement")]
        _raise_problems(requirement_problems(service=booking.service, visit_date=slot.date,
                                             today=office_today(booking.office),
                                             documents=declared))
        before = _slot_params(booking)
        # Both slots' rows in primary-key order before taking and freeing: two residents
        # swapping slots at once then wait for each other instead of deadlocking.
        list(Slot.objects.select_for_update().filter(pk__in=[booking.slot_id, slot.pk])
             .order_by("pk").values_list("pk", flat=True))
        _take_place(slot, office=booking.office)
        _free_place(booking)
        booking.slot, booking.day = slot, slot.date
        booking.expires_at = office_day_bounds(booking.office, slot.date)[1]
        booking.reminded_day_before_at = booking.reminded_morning_at = None
        booking.save(update_fields=["slot", "day", "expires_at", "reminded_day_before_at",
                                    "reminded_morning_at"])
        params = {**_slot_params(booking), "old_date": before["date"],
                  "old_start": before["start"]}
        registry_services.case_event_record(
            application=booking.application, kind="booking.rescheduled", params=params,
            actor=by, by_resident=getattr(by, "pk", None) is None)
        registry_services.notification_send(
            office=booking.office, resident=booking.resident, kind="booking.rescheduled",
            title=_("Booking %(code)s moved"),
            body=_("Your visit is now on %(date)s, %(start)s-%(end)s, lane %(lane)s "
                   "(%(lane_name)s)."),
            params=params, application=booking.application, link=booking_link(booking))
    return booking


# --- At the office (called by queues) --------------------------------------------------


def booking_check_in(*, booking: Booking, by=None, now: datetime | None = None) -> bool:
    """The resident arrived with their booking: checked in, True when on time (by the
    slot's end), False when late. Only on the slot's day, only once."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock(booking)
        today = now.astimezone(office_now(booking.office).tzinfo).date()
        if booking.status == BookingStatus.CHECKED_IN:
            raise Conflict(_("Booking %(code)s is already checked in.") % {"code": booking.code},
                           "booking_already_checked_in")
        if booking.status != BookingStatus.BOOKED:
            raise DomainError(_("Booking %(code)s is %(status)s and cannot be used.") % {
                "code": booking.code, "status": booking.get_status_display().lower()},
                "booking_not_usable")
        if booking.day != today:
            raise DomainError(_("Booking %(code)s is for %(date)s, not today.") % {
                "code": booking.code, "date": _date(booking.day)}, "booking_other_day")
        on_time = now <= booking.slot.ends_at
        booking.status, booking.checked_in_at = BookingStatus.CHECKED_IN, now
        booking.save(update_fields=["status", "checked_in_at"])
        registry_services.case_event_record(
            application=booking.application, kind="booking.checked_in",
            params={**_slot_params(booking), "on_time": on_time}, actor=by, at=now)
    return on_time


def booking_complete(*, booking: Booking, by=None, now: datetime | None = None) -> Booking:
    """The checked-in resident was served."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status != BookingStatus.CHECKED_IN:
            return booking
        booking.status, booking.finished_at = BookingStatus.DONE, now
        booking.save(update_fields=["status", "finished_at"])
        registry_services.case_event_record(application=booking.application,
                                            kind="booking.done",
                                            params={"code": booking.code}, actor=by, at=now)
    return booking


def booking_missed(*, booking: Booking, now: datetime | None = None) -> Booking:
    """A checked-in resident was not there when called (their ticket ended as a
    no-show): the booking expires as a missed visit does."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock(booking)
        if booking.status not in (BookingStatus.BOOKED, BookingStatus.CHECKED_IN):
            return booking
        token = uuid.uuid4().hex
        booking.status, booking.expired_at = BookingStatus.EXPIRED, now
        booking.sweep_token = token
        booking.save(update_fields=["status", "expired_at", "sweep_token"])
        _expired_followup(office_id=booking.office_id, token=token, now=now,
                          until=_office_rebook_until(booking.office, now))
    return booking


# --- Documents ------------------------------------------------------------------------


def booking_document_upload(*, booking: Booking, requirement_code: str, upload,
                            issued_on: date | None = None) -> BookingDocument:
    """Attach a photo or PDF of one requirement; it awaits the front desk's review.
    PDF, JPEG or PNG by content (not by name), at most 2 MB."""
    import filetype

    if booking.status != BookingStatus.BOOKED:
        raise Conflict(_("Documents can be sent only for a booking not yet used."),
                       "booking_not_open")
    requirement = booking.service.requirements.filter(code=str(requirement_code)[:32]).first()
    if requirement is None:
        raise DomainError(_("%(code)s is not a requirement of this service.")
                          % {"code": str(requirement_code)[:40]}, "requirement_unknown")
    if upload is None or not upload.size:
        raise DomainError(_("Attach the file."), "file_required")
    if upload.size > MAX_DOCUMENT_BYTES:
        raise DomainError(_("The file is larger than 2 MB; send a smaller photo or PDF."),
                          "file_too_large")
    head = upload.read(262)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in DOCUMENT_TYPES:
        raise DomainError(_("Send a PDF, JPEG or PNG file."), "file_type_not_allowed")
    if issued_on is not None and issued_on > office_today(booking.office):
        raise DomainError(_("The date of issue of %(document)s is in the future.")
                          % {"document": requirement.name}, "issued_on_future")
    now = timezone.now()
    with transaction.atomic():
        booking = _lock(booking)
        document, _created = BookingDocument.objects.select_for_update().get_or_create(
            booking=booking, requirement=requirement, defaults={"office": booking.office})
        old_file = document.file.name if document.file else ""
        document.content_type, document.size, document.uploaded_at = kind.mime, upload.size, now
        if issued_on is not None:
            document.issued_on = issued_on
        document.review, document.reviewed_by, document.reviewed_at = (
            DocumentReview.PENDING, None, None)
        document.reject_reason = ""
        document.file.save("upload", upload, save=False)
        document.save()
        registry_services.case_event_record(
            application=booking.application, kind="booking.document_sent",
            params={"code": booking.code, "document": requirement.name}, by_resident=True)
        if old_file:
            storage = document.file.storage
            transaction.on_commit(lambda: storage.delete(old_file))
    return document


def booking_document_review(*, document: BookingDocument, accept: bool, reason: str = "",
                            by) -> BookingDocument:
    """The front desk accepts or rejects a document sent ahead; a rejection reaches the
    resident at once with the reason and what to bring instead."""
    reason = (reason or "").strip()
    if not accept and not reason:
        raise DomainError(_("Give the reason for rejecting; the resident is told."),
                          "reason_required")
    with transaction.atomic():
        document = (BookingDocument.objects.select_for_update(of=("self",))
                    .select_related("booking", "booking__resident", "booking__application",
                                    "booking__office", "requirement")
                    .get(pk=document.pk))
        if document.review != DocumentReview.PENDING:
            raise Conflict(_("This document was already reviewed."), "document_reviewed")
        document.review = DocumentReview.ACCEPTED if accept else DocumentReview.REJECTED
        document.reviewed_by, document.reviewed_at = by, timezone.now()
        document.reject_reason = "" if accept else reason[:300]
        document.save(update_fields=["review", "reviewed_by", "reviewed_at", "reject_reason"])
        booking = document.booking
        params = {"code": booking.code, "document": document.requirement.name,
                  "reason": reason, "hint": document.requirement.how_to_obtain}
        registry_services.case_event_record(
            application=booking.application,
            kind="booking.document_accepted" if accept else "booking.document_rejected",
            params=params, actor=by)
        if not accept:
            registry_services.notification_send(
                office=booking.office, resident=booking.resident,
                kind="booking.document_rejected",
                title=_("%(document)s needs attention"),
                body=_("The office checked the %(document)s you sent for booking %(code)s "
                       "and cannot accept it: %(reason)s. Bring a valid one instead. "
                       "%(hint)s"),
                params=params, application=booking.application, link=booking_link(booking))
    return document


# --- Closures ---------------------------------------------------------------------------


def closure_declare(*, office: Office, day: date, reason: str, by=None) -> Closure:
    """Close the office on `day`. Its slots close, and every resident booked that day
    is told, with the next free slots of their service, and keeps an open case to
    re-book: nobody is moved silently."""
    with transaction.atomic():
        closure = registry_services.closure_add(office=office, day=day, reason=reason, by=by)
        _slots_close(office=office, slots=Slot.objects.filter(office=office, date=day),
                     reason=reason, by=by, kind="booking.cancelled_by_closure",
                     title=CLOSURE_TITLE, body=CLOSURE_BODY)
    return closure


CLOSURE_TITLE = _("The office is closed on %(date)s")
CLOSURE_BODY = _("Your booking %(code)s on %(date)s at %(start)s is cancelled because the "
                 "office is closed (%(reason)s). Next free times: %(offers)s. Re-book in "
                 "the app; your case stays open.")
HOURS_TITLE = _("Your time on %(date)s is no longer open")
HOURS_BODY = _("The office has changed its opening hours, so your booking %(code)s on "
               "%(date)s at %(start)s is cancelled. Next free times: %(offers)s. Re-book "
               "in the app; your case stays open.")


def office_hours_changed(*, office: Office, by=None, now: datetime | None = None) -> int:
    """The office's working hours changed (office admin). The booking window is made
    again under the new hours at once (a longer day gets slots where none lies; the
    days not made yet follow the new hours). Then, from now on, the slots the new hours
    leave out (a weekday no longer worked, times before opening or after closing)
    close, and every resident booked in them is told, with the next free times, and
    keeps an open case to re-book, as for a closure; slots the new hours take in again
    reopen. Returns how many bookings were cancelled. The caller holds the transaction
    (the admin's save)."""
    now = now or timezone.now()
    slots_ensure_window(office=office, now=now, force=True)
    ahead = list(Slot.objects.filter(office=office, starts_at__gt=now)
                 .values_list("id", "date", "start", "end", "is_closed"))
    cancelled = 0
    if ahead:
        calendar = OfficeCalendar(office, min(row[1] for row in ahead),
                                  max(row[1] for row in ahead))
        outside, inside = [], []
        for slot_id, day, begins, ends, closed in ahead:
            hours = calendar.hours_on(day)
            fits = hours is not None and hours.opens <= begins and ends <= hours.closes
            if not fits and not closed:
                outside.append(slot_id)
            elif fits and closed:
                inside.append(slot_id)
        if inside:
            Slot.objects.filter(pk__in=inside).update(is_closed=False)
            slots_changed(office=office)
        if outside:
            cancelled = _slots_close(
                office=office, slots=Slot.objects.filter(pk__in=outside),
                reason=str(_("opening hours changed")), by=by,
                kind="booking.cancelled_by_hours", title=HOURS_TITLE, body=HOURS_BODY,
                now=now)
    return cancelled


def _slots_close(*, office: Office, slots, reason: str, by, kind: str, title, body,
                 now: datetime | None = None) -> int:
    """Close `slots` (a queryset of the office's) and cancel the bookings in them, each
    resident told with the next free times of their service from their booking's day
    on (the slots just closed are not among them) and the case kept open to re-book.
    Returns how many bookings were cancelled. The caller holds the transaction."""
    now = now or timezone.now()
    # Bookings before slots, as cancelling and rescheduling lock them: a closure and a
    # resident moving their booking at the same moment wait, never deadlock. Once the
    # slots are closed (and locked) nobody can book into them, so a second look finds
    # those who moved in meanwhile.
    in_slots = (lock_objects.bookings_for_update()
                .filter(office=office, slot__in=slots.values("pk"),
                        status=BookingStatus.BOOKED)
                .select_related("slot", "slot__lane", "service", "resident", "application",
                                "office").order_by("pk"))
    booked = list(in_slots)
    slots.update(is_closed=True)
    slots_changed(office=office)
    booked += list(in_slots.exclude(pk__in=[b.pk for b in booked]))
    actor = by if getattr(by, "pk", None) else None
    offered: dict[tuple[int, date], list[Slot]] = {}  # the same for a lane and day
    for booking in booked:
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at, booking.cancelled_by = now, actor
        booking.cancel_reason = reason[:300]
        booking.save(update_fields=["status", "cancelled_at", "cancelled_by",
                                    "cancel_reason"])
        _free_place(booking)
        _keep_open_for_rebooking(booking, now=now)
        key = (booking.service.lane_id, booking.day)
        if key not in offered:
            offered[key] = _next_free_slots(office=office, service=booking.service,
                                            start=booking.day, now=now)
        offers = offered[key]
        params = {**_slot_params(booking), "reason": reason,
                  "offers": "; ".join(f"{_date(s.date)} {s.start:%H:%M}" for s in offers)
                  or str(_("none in the booking window yet"))}
        registry_services.case_event_record(application=booking.application, kind=kind,
                                            params=params, actor=actor)
        registry_services.notification_send(
            office=office, resident=booking.resident, kind=kind, title=title, body=body,
            params=params, application=booking.application, link=booking_link(booking))
    return len(booked)


def _next_free_slots(*, office: Office, service: Service, start: date,
                     now: datetime) -> list[Slot]:
    """The first free slots of the service's lane from `start` on, within the booking
    window."""
    first, last = bookable_range(office=office, now=now)
    slots_ensure_window(office=office, now=now)
    return list(Slot.objects.filter(office=office, lane_id=service.lane_id,
                                    date__gte=max(first, start), date__lte=last,
                                    is_closed=False, starts_at__gt=now,
                                    booked__lt=F("capacity"))
                .order_by("starts_at")[:NEXT_FREE_SLOTS_OFFERED])


# --- Expiry, lapse and reminders (the sweeps) ---------------------------------------------

EXPIRED_TITLE = _("Booking %(code)s has expired")
EXPIRED_BODY = _("You did not check in for %(service)s on %(date)s at %(start)s, so the "
                 "booking has expired. Your case stays open: re-book in the app by %(until)s "
                 "and nothing needs to be filled in again.")


# A sweep expires each office's due bookings in one transaction and a fixed number of
# statements (bookings_expire_due). A batch size is for tests and for a backlog too big
# for one transaction; None takes every due booking of an office at once.
EXPIRY_BATCH = None


def bookings_expire_due(*, now: datetime | None = None,
                        batch: int | None = EXPIRY_BATCH) -> int:
    """Expire every booking whose day has ended (in its office's zone) without a
    check-in: status expired, the case kept open for re-booking until the office's
    limit, a timeline event, and a message with the reason and how to re-book.

    Set-based: per office with due bookings, one transaction of eight statements
    whatever the number of bookings (see _bookings_expire_office); the database writes
    every row. On PostgreSQL the offices are swept side by side, one connection each
    (settings.SWEEP_THREADS); an office that fails does not stop the others.

    Each office's rows are claimed by one conditional UPDATE that locks them in id
    order and stamps them with this run's sweep token; everything after reads the rows
    by that token. A second sweep at the same moment blocks on those row locks
    (PostgreSQL; on SQLite on the database's write lock), then finds them no longer
    booked and takes nothing, so each booking expires once, and its message, keyed
    `booking:<id>:expired` (unique per resident), is written and sent once. Running it
    again finds nothing.
    """
    now = now or timezone.now()
    offices = list(
        Office.objects.filter(Exists(Booking.objects.filter(
            office=OuterRef("pk"), status=BookingStatus.BOOKED, expires_at__lte=now)))
        .order_by("id").values_list("id", "timezone", "appointment_settings__rebook_days"))

    def office_sweep(office) -> int:
        office_id, zone, rebook_days = office
        until = _rebook_until(zone, rebook_days, now)
        total = 0
        while True:
            expired = _bookings_expire_office(office_id=office_id, until=until, now=now,
                                              batch=batch)
            total += expired
            if batch is None or expired < batch:
                return total

    # Offices share no rows: on PostgreSQL they are swept side by side.
    return sum(background.per_office(office_sweep, offices))


def _bookings_expire_office(*, office_id: int, until: date, now: datetime,
                            batch: int | None) -> int:
    """One office's due bookings (at most `batch`), in one transaction: the claim, the
    due days, the cases, the timeline and the messages; eight statements."""
    from django.db import connection

    token = uuid.uuid4().hex
    with transaction.atomic():
        table = Booking._meta.db_table
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        limit = f" LIMIT {int(batch)}" if batch is not None else ""
        with connection.cursor() as cursor:
            # Locked in id order, so two sweeps never deadlock; the outer condition is
            # checked again on the locked rows.
            cursor.execute(
                f"UPDATE {table} SET status = %s, expired_at = %s, sweep_token = %s "  # noqa: S608
                f"WHERE status = %s AND id IN (SELECT id FROM {table} WHERE office_id = %s "
                f"AND status = %s AND expires_at <= %s ORDER BY id{limit}{lock})",
                [BookingStatus.EXPIRED, registry_services.sql_value(now), token,
                 BookingStatus.BOOKED, office_id, BookingStatus.BOOKED,
                 registry_services.sql_value(now)])
            expired = cursor.rowcount
        if expired:
            _expired_followup(office_id=office_id, token=token, until=until, now=now)
    return expired


def _rebook_until(zone: str, rebook_days: int | None, now: datetime) -> date:
    """The last day to re-book after a booking ends unused at `now`: the office's
    re-booking days from its today. The sweep passes the values it read in bulk."""
    return now.astimezone(ZoneInfo(zone)).date() + timedelta(
        days=rebook_days or DEFAULT_REBOOK_DAYS)


def _office_rebook_until(office: Office, now: datetime) -> date:
    return _rebook_until(office.timezone, appointment_settings_for(office).rebook_days, now)


def _expired_followup(*, office_id: int, token: str, until: date, now: datetime) -> None:
    """For the office's bookings just expired under `token` (by the sweep, or one missed
    visit): free no place (the day is over), keep each case open for re-booking until
    `until`, write the timeline and tell each resident; six statements however many."""
    claimed = Booking.objects.filter(sweep_token=token)
    # Only cases still open and waiting: one that moved on keeps its status.
    Application.objects.filter(
        office_id=office_id, status=ApplicationStatus.OPEN,
        pk__in=claimed.values("application_id"),
    ).update(rebook_until=until, updated_at=now)
    # The dates are formatted by Django ("j F Y" in the active language), once per day.
    days = sorted(claimed.order_by().values_list("day", flat=True).distinct())
    rows_sql, rows_params = _expired_rows_sql(token=token, days=days, until=until)
    names = ["code", "date", "start", "service", "until"]
    registry_services.case_events_record_from_rows(
        kind="booking.expired", rows_sql=rows_sql, rows_params=rows_params, names=names,
        at=now)
    registry_services.notifications_send_from_rows(
        office_id=office_id, kind="booking.expired", title=EXPIRED_TITLE,
        body=EXPIRED_BODY, rows_sql=rows_sql, rows_params=rows_params, names=names,
        link=reverse("booking-list"))


def _expired_rows_sql(*, token: str, days: list[date], until: date) -> tuple[str, list]:
    """The row source of registry.services' set-based writers for the bookings of one
    sweep token: each row's message params (code, date, start, service, until)."""
    day_cases = " ".join("WHEN %s THEN CAST(%s AS TEXT)" for _day in days)
    day_params = [value for day in days
                  for value in (registry_services.sql_value(day), _date(day))]
    hhmm = registry_services.sql_dialect("hhmm").format("sl.start")
    sql = (
        "SELECT b.office_id AS office_id, b.resident_id AS resident_id, "  # noqa: S608
        "b.application_id AS application_id, "
        "'booking:' || CAST(b.id AS TEXT) || ':expired' AS dedup_key, b.code AS p_code, "
        f"CASE b.day {day_cases} END AS p_date, {hhmm} AS p_start, "
        "sv.name AS p_service, CAST(%s AS TEXT) AS p_until "
        f"FROM {Booking._meta.db_table} b "
        f"JOIN {Slot._meta.db_table} sl ON sl.id = b.slot_id "
        f"JOIN {Service._meta.db_table} sv ON sv.id = b.service_id "
        "WHERE b.sweep_token = %s")
    return sql, [*day_params, _date(until), token]


LAPSED_TITLE = _("Your case %(number)s has lapsed")
LAPSED_BODY = _("No new booking was made for %(service)s by %(until)s, so the case is "
                "closed. You can start again at any time in the app.")


def applications_lapse_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Close the cases whose re-booking time has passed without a new booking: status
    lapsed, a timeline event and a message. Per office, in its own zone, the offices
    side by side (background.per_office)."""
    now = now or timezone.now()
    # No office's today is more than a day after UTC's: only offices with a case past
    # that can have one past their own.
    utc_tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
    offices = list(Office.objects.filter(is_active=True).filter(Exists(
        Application.objects.filter(office=OuterRef("pk"), status=ApplicationStatus.OPEN,
                                   rebook_until__lt=utc_tomorrow))).order_by("id"))
    return sum(background.per_office(
        lambda office: _applications_lapse_office(office=office, now=now, batch=batch),
        offices))


def _applications_lapse_office(*, office: Office, now: datetime, batch: int) -> int:
    total = 0
    today = now.astimezone(office_now(office).tzinfo).date()
    while True:
        with transaction.atomic():
            due = list(Application.objects.select_for_update(skip_locked=True,
                                                             of=("self",))
                       .filter(office=office, status=ApplicationStatus.OPEN,
                               rebook_until__lt=today)
                       .exclude(bookings__status__in=[BookingStatus.BOOKED,
                                                      BookingStatus.CHECKED_IN])
                       .select_related("resident", "service")
                       .order_by("id")[:batch])
            if not due:
                break
            Application.objects.filter(pk__in=[a.pk for a in due]).update(
                status=ApplicationStatus.LAPSED, closed_at=now, updated_at=now)
            events, notes = [], []
            for application in due:
                params = {"number": application.number, "service": application.service.name,
                          "until": _date(application.rebook_until)}
                events += [
                    {"application": application, "kind": "application.status", "at": now,
                     "params": {"old": ApplicationStatus.OPEN,
                                "new": ApplicationStatus.LAPSED}},
                    {"application": application, "kind": "booking.lapsed", "at": now,
                     "params": params}]
                notes.append({"office_id": office.id, "application_id": application.id,
                              "resident": application.resident, "kind": "booking.lapsed",
                              "title": LAPSED_TITLE, "body": LAPSED_BODY,
                              "params": params,
                              "dedup_key": f"application:{application.id}:lapsed"})
            registry_services.case_events_record_many(entries=events)
            registry_services.notifications_send_many(entries=notes)
            total += len(due)
        if len(due) < batch:
            break
    return total


REMINDER_TITLE = _("Reminder: your visit on %(date)s")
REMINDER_BODY = _("%(service)s at %(office)s on %(date)s, %(start)s-%(end)s, lane %(lane)s "
                  "(%(lane_name)s). Booking code %(code)s. Bring: %(requirements)s.")


def bookings_remind_due(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Send the day-before reminder (from the office's hour the day before) and the
    morning reminder (from its hour on the day, before the slot), each once: what to
    bring, and any requirement that will have expired by the visit. The offices side
    by side (background.per_office)."""
    now = now or timezone.now()
    # Only offices with a booking not yet reminded around today (a day either side of
    # UTC's, whatever the zone).
    utc_today = now.astimezone(UTC).date()
    waiting = Booking.objects.filter(
        Q(reminded_day_before_at__isnull=True) | Q(reminded_morning_at__isnull=True),
        office=OuterRef("office"), status=BookingStatus.BOOKED,
        day__range=(utc_today - timedelta(days=1), utc_today + timedelta(days=2)))
    plans = list(AppointmentSettings.objects.filter(office__is_active=True)
                 .filter(Exists(waiting)).select_related("office").order_by("office_id"))
    return sum(background.per_office(
        lambda plan: _remind_office(plan=plan, now=now, batch=batch), plans))


def _remind_office(*, plan: AppointmentSettings, now: datetime, batch: int) -> int:
    office = plan.office
    local = now.astimezone(office_now(office).tzinfo)
    today = local.date()
    sent = 0
    if local.time() >= plan.reminder_day_before_at:
        sent += _remind(office=office, day=today + timedelta(days=1),
                        field="reminded_day_before_at", now=now, today=today, batch=batch)
    if local.time() >= plan.reminder_morning_at:
        sent += _remind(office=office, day=today, field="reminded_morning_at", now=now,
                        today=today, batch=batch)
    return sent


def _remind(*, office: Office, day: date, field: str, now: datetime, today: date,
            batch: int) -> int:
    sent = 0
    while True:
        with transaction.atomic():
            due = list(lock_objects.bookings_for_update(skip_locked=True)
                       .filter(office=office, day=day, status=BookingStatus.BOOKED,
                               **{f"{field}__isnull": True}, slot__starts_at__gt=now)
                       .select_related("slot", "slot__lane", "service", "resident")
                       .prefetch_related("service__requirements",
                                         "documents__requirement")
                       .order_by("id")[:batch])
            if not due:
                return sent
            Booking.objects.filter(pk__in=[b.pk for b in due]).update(**{field: now})
            notes = []
            for booking in due:
                declared = [DeclaredDocument(doc.requirement, doc.issued_on)
                            for doc in booking.documents.all()]
                problems = [p for p in requirement_problems(
                    service=booking.service, visit_date=booking.day, today=today,
                    documents=declared) if p["code"] != "missing"]
                params = {**_slot_params(booking), "office": office.name,
                          "requirements": _requirements_text(booking.service)}
                body = REMINDER_BODY
                if problems:
                    params["problems"] = " ".join(p["message"] for p in problems)
                    body = WARNED_REMINDER_BODY
                notes.append({"office_id": office.id, "application_id": booking.application_id,
                              "resident": booking.resident, "kind": "booking.reminder",
                              "title": REMINDER_TITLE, "body": body, "params": params,
                              "link": booking_link(booking),
                              "dedup_key": f"booking:{booking.pk}:{field}:{booking.day}"})
            registry_services.notifications_send_many(entries=notes)
            sent += len(due)
        if len(due) < batch:
            return sent


WARNED_REMINDER_BODY = _("%(service)s at %(office)s on %(date)s, %(start)s-%(end)s, lane "
                         "%(lane)s (%(lane_name)s). Booking code %(code)s. Bring: "
                         "%(requirements)s. Warning: %(problems)s")
