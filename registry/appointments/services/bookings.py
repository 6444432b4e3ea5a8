"""Bookings: create, cancel, reschedule.

Capacity: a slot's `booked` counter moves only through a conditional UPDATE
(`booked < capacity`), which the database serialises on the slot's row; the check
constraint `slot_not_overbooked` is the last line of defence. One active booking per
resident and service is a partial unique constraint. Bookings are locked with
`lock_objects.bookings_for_update` before any change of status.
"""

import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import lock_objects as registry_lock_objects
from registry.appointments import lock_objects
from registry.appointments.models import (
    AppointmentSettings,
    Booking,
    BookingChannel,
    BookingDocument,
    BookingStatus,
    Slot,
)
from registry.appointments.services.notices import booking_link, requirements_text, slot_params
from registry.appointments.services.requirements import (
    DeclaredDocument,
    documents_declare,
    requirement_problems,
    requirement_problems_raise,
)
from registry.appointments.services.slots import (
    office_rebook_until,
    slot_refusal,
    slots_changed,
)
from registry.appointments.services.sms_offers import OFFICE_CANCEL_INTRO, booking_ended_tell
from registry.calendar import (
    office_day_bounds,
    office_today,
)
from registry.errors import Conflict, DomainError, NotFound, violated_constraint
from registry.models import (
    Application,
    ApplicationStatus,
    Channel,
    Office,
    PhoneType,
    Resident,
    Service,
    TurnAway,
)
from registry.service_sets import (
    ServiceSet,
    application_services_set,
    as_service_set,
    service_set_of,
)
from registry.services.bulk_sql import sql_value
from registry.services.cases import (
    TURN_AWAY_LINK_DAYS,
    application_number_take,
    application_set_status,
    application_start,
    case_event_record,
    turn_aways_link,
)
from registry.services.notifications import notification_send
from registry.services.offices import office_settings_get

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L


CODE_LENGTH = 8


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


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


def _place_take_reading(*, office: Office, slot_id: int, resident: Resident,
                        service_set: ServiceSet, now: datetime) -> Slot | None:
    """Take one place of the office's slot `slot_id` if it has room and is open, and
    answer the slot as it is now, or None (nothing taken). The UPDATE locks the slot's
    row until the caller's transaction ends.

    The same statement reads what the booking needs to know of the resident: the case
    waiting for a booking for a service of the visit (`waiting_id`, see
    _application_continue), whether they have turn-aways to link to a new case
    (`turned_away`, registry.services.cases.turn_aways_link) and whether one of the
    visit's services is already in an active booking beside another one
    (`active_beside`: the constraint one_active_booking_per_service holds a booking's
    first service only). Written as SQL, not compiled from querysets: this is the one
    statement every booking runs, and compiling three subqueries cost more than running
    them."""
    ids = sorted(service_set.ids)
    extra = [service.id for service in service_set.extra]
    active = [BookingStatus.BOOKED.value, BookingStatus.CHECKED_IN.value]
    extras = Application.extra_services.through._meta.db_table
    # The resident's open case for a service of the visit with no active booking (the
    # newest); see _application_continue.
    waiting = (
        f"SELECT a.id FROM {Application._meta.db_table} a "  # noqa: S608 - our names
        "WHERE a.office_id = %s AND a.resident_id = %s AND a.status = %s "
        f"AND (a.service_id IN ({_in(ids)}) OR EXISTS (SELECT 1 FROM {extras} x "
        f"WHERE x.application_id = a.id AND x.service_id IN ({_in(ids)}))) "
        f"AND NOT EXISTS (SELECT 1 FROM {Booking._meta.db_table} b "
        f"WHERE b.application_id = a.id AND b.status IN ({_in(active)})) "
        "ORDER BY a.created_at DESC LIMIT 1")
    waiting_params = [office.id, resident.id, ApplicationStatus.OPEN.value, *ids, *ids,
                      *active]
    turned_away = (
        f"SELECT t.id FROM {TurnAway._meta.db_table} t "  # noqa: S608 - our names
        "WHERE t.office_id = %s AND t.resident_id = %s AND t.application_id IS NULL "
        "AND t.at >= %s AND (t.service_id = %s OR t.service_id IS NULL) LIMIT 1")
    turned_params = [office.id, resident.id,
                     sql_value(now - timedelta(days=TURN_AWAY_LINK_DAYS)),
                     service_set.primary.id]
    beside = (
        f"SELECT b.id FROM {Booking._meta.db_table} b "  # noqa: S608 - our names
        f"WHERE b.resident_id = %s AND b.status IN ({_in(active)}) "
        f"AND (EXISTS (SELECT 1 FROM {extras} x WHERE x.application_id = b.application_id "
        f"AND x.service_id IN ({_in(ids)}))"
        + (f" OR b.service_id IN ({_in(extra)})" if extra else "") + ") LIMIT 1")
    beside_params = [resident.id, *active, *ids, *extra]
    table = Slot._meta.db_table
    columns = ", ".join(connection.ops.quote_name(field.column)
                        for field in Slot._meta.concrete_fields)
    rows = list(Slot.objects.raw(
        f"UPDATE {table} SET booked = booked + 1 "  # noqa: S608 - our names only
        "WHERE id = %s AND office_id = %s AND booked < capacity AND NOT is_closed "
        f"RETURNING {columns}, ({waiting}) AS waiting_id, ({turned_away}) AS turned_away, "
        f"({beside}) AS active_beside",
        [slot_id, office.id, *waiting_params, *turned_params, *beside_params]))
    if not rows:
        return None
    slots_changed(office=office)
    return rows[0]


def place_free(booking: Booking) -> None:
    Slot.objects.filter(pk=booking.slot_id, booked__gt=0).update(booked=F("booked") - 1)
    slots_changed(office=booking.office)


def booking_create(*, office: Office, resident: Resident, service: Service | ServiceSet,
                   slot: Slot | int, documents: list[dict],
                   channel: str = BookingChannel.APP, by=None,
                   now: datetime | None = None) -> Booking:
    """Book a place for a visit of one service or several (a ServiceSet): the
    requirements are checked for the slot's day, one place of the visit's lane is
    taken, and the booking opens (or continues) the resident's case.

    `slot` is the Slot, or only its id (the API: the slot is then read by the statement
    that takes its place, and checked after; a refusal rolls the place back).

    Refuses with slot_not_found (404), slot_not_bookable or the requirement problems
    (400), active_booking_exists or slot_full (409), in that order, changing nothing.
    """
    now = now or timezone.now()
    service_set = as_service_set(service)
    if any(s.office_id != office.id or not s.is_active for s in service_set.services):
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    if isinstance(slot, Slot):
        declared = _booking_checks(office=office, service_set=service_set, slot=slot,
                                   documents=documents, now=now)
    else:
        declared = documents_declare(service_set=service_set, documents=documents)
    for attempt in range(3):
        try:
            return _booking_write(office=office, resident=resident, service_set=service_set,
                                  slot=slot, documents=documents, declared=declared,
                                  channel=channel, by=by, now=now)
        except IntegrityError as error:
            broken = violated_constraint(error, Booking)
            if broken == "one_active_booking_per_service":
                raise _active_booking_exists() from None
            # A new code equal to an existing one (one chance in 10^11): the whole
            # transaction is rolled back and tried again with another code.
            if broken != "booking_code_unique" or attempt == 2:
                raise
    raise AssertionError("unreachable")


def _active_booking_exists() -> Conflict:
    return Conflict(_("You already have an active booking for this service; cancel or "
                      "reschedule it instead."), "active_booking_exists")


def _booking_checks(*, office, service_set, slot, documents, now) -> list[DeclaredDocument]:
    """The slot is bookable now for the visit, and the documents meet the
    requirements on its day; the documents as declared."""
    refusal = slot_refusal(office=office, lane_id=service_set.lane_id, slot=slot, now=now)
    if refusal:
        raise refusal
    declared = documents_declare(service_set=service_set, documents=documents)
    requirement_problems_raise(requirement_problems(
        service_set=service_set, visit_date=slot.date, today=office_today(office),
        documents=declared))
    return declared


def _refusal_raise(*, office, resident, service_set, slot_id, documents, now) -> None:
    """No place was taken: raise what the checks before taking would have said, else
    active_booking_exists, else slot_full."""
    slot = Slot.objects.filter(pk=slot_id, office=office).first()
    if slot is None:
        raise NotFound(_("This slot does not exist for this service."), "slot_not_found")
    _booking_checks(office=office, service_set=service_set, slot=slot, documents=documents,
                    now=now)
    if (Booking.objects.filter(resident=resident,
                               status__in=[BookingStatus.BOOKED, BookingStatus.CHECKED_IN])
            .filter(Q(service__in=service_set.ids)
                    | Q(application__extra_services__in=service_set.ids)).exists()):
        raise _active_booking_exists()
    raise Conflict(_("This slot is full; choose another."), "slot_full")


def _booking_write(*, office, resident, service_set, slot, documents, declared, channel,
                   by, now):
    """The booking's rows, in one transaction: the place first (the slot's row lock),
    the case number last (the office's number lock, held to the commit)."""
    slot_id = slot.pk if isinstance(slot, Slot) else slot
    by_resident = channel in (BookingChannel.APP, BookingChannel.SMS)
    with transaction.atomic():
        taken = _place_take_reading(office=office, slot_id=slot_id, resident=resident,
                                    service_set=service_set, now=now)
        if taken is None:
            _refusal_raise(office=office, resident=resident, service_set=service_set,
                           slot_id=slot_id, documents=documents, now=now)
        if isinstance(slot, Slot):
            slot.booked = taken.booked
        else:
            taken.office = office
            if taken.lane_id == service_set.lane_id:
                taken.lane = service_set.lane
            _booking_checks(office=office, service_set=service_set, slot=taken,
                            documents=documents, now=now)
            slot = taken
        if taken.active_beside:
            raise _active_booking_exists()
        events = []
        application = None
        if taken.waiting_id:
            application = _application_continue(
                application_id=taken.waiting_id, service_set=service_set,
                by_resident=by_resident, by=by)
        if application is None:
            application, opened = application_start(
                office=office, resident=resident, service=service_set.primary,
                channel=Channel.ASSISTED if channel == BookingChannel.ASSISTED else Channel.APP,
                by=by, at=now)
            events.append(opened)
            if service_set.extra:
                application_services_set(application, service_set)
            if taken.turned_away:
                turn_aways_link(application=application)
        booking = Booking.objects.create(
            office=office, code=_new_code(), resident=resident, service=service_set.primary,
            application=application, slot=slot, day=slot.date,
            expires_at=office_day_bounds(office, slot.date)[1], channel=channel,
            created_by=by if getattr(by, "pk", None) else None, created_at=now)
        # Kept on the booking for the creating request's answer (not read back).
        booking.documents_written = BookingDocument.objects.bulk_create(
            BookingDocument(office=office, booking=booking, requirement=doc.requirement,
                            issued_on=doc.issued_on) for doc in declared)
        params = slot_params(booking, service_set=service_set)
        events.append({"application": application, "kind": "booking.created",
                       "params": {**params, "channel": channel}, "actor": by,
                       "by_resident": by_resident, "at": now})
        notification_send(
            office=office, resident=resident, kind="booking.created",
            title=_("Booking %(code)s confirmed"),
            body=_("%(service)s on %(date)s, %(start)s-%(end)s, lane %(lane)s "
                   "(%(lane_name)s). Bring: %(requirements)s. Show code %(code)s at "
                   "the kiosk."),
            params={**params, "requirements": requirements_text(service_set)},
            application=application, link=booking_link(booking), case_events=events)
        application_number_take(application=application)
    return booking


def _application_continue(*, application_id, service_set, by_resident, by):
    """The resident's open case waiting for a booking (after a missed visit or an office
    cancellation), locked, carrying the visit's services from now on; None when it is
    no longer open. A signature change re-booked as lost card + signature change
    continues the same case file."""
    application = (registry_lock_objects.applications_for_update()
                   .filter(pk=application_id, status=ApplicationStatus.OPEN).first())
    if application is None:
        return None
    if application.rebook_until is not None:
        application.rebook_until = None
        application.save(update_fields=["rebook_until", "updated_at"])
    before = service_set_of(application)
    if before.codes != service_set.codes:
        application_services_set(application, service_set)
        # Booked again for other services (a signature change found to be a lost
        # card): said on the case, as a change at the phone desk or counter is.
        case_event_record(application=application, kind="booking.services_changed",
                          params={"code": "", "from": before.name, "to": service_set.name,
                                  "where": "rebooking"}, actor=by,
                          by_resident=by_resident)
    return application


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


def booking_lock(booking: Booking) -> Booking:
    return (lock_objects.bookings_for_update()
            .select_related("slot", "slot__lane", "service", "resident", "application",
                            "office")
            .get(pk=booking.pk))


def _change_cutoff_hours(booking: Booking) -> int:
    return office_settings_get(AppointmentSettings, office=booking.office).change_cutoff_hours


def booking_change_deadline(booking: Booking) -> datetime:
    hours = _change_cutoff_hours(booking)
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
        booking = booking_lock(booking)
        if booking.status != BookingStatus.BOOKED:
            raise Conflict(_("Only a booking not yet used can be cancelled."),
                           "booking_not_cancellable")
        if not by_staff and now > booking_change_deadline(booking):
            raise Conflict(_("Bookings can be cancelled until %(hours)s hours before the "
                             "slot; it is too late now.")
                           % {"hours": _change_cutoff_hours(booking)}, "change_window_closed")
        _close_booking(booking, status=BookingStatus.CANCELLED, now=now,
                       cancelled_by=by if by_staff else None, reason=reason)
        params = {**slot_params(booking), "reason": reason}
        case_event_record(
            application=booking.application,
            kind="booking.cancelled_by_office" if by_staff else "booking.cancelled",
            params=params, actor=by, by_resident=not by_staff)
        if by_staff:
            keep_open_for_rebooking(booking, now=now)
            title = _("Booking %(code)s cancelled by the office")
            if booking.resident.phone_type == PhoneType.SMARTPHONE:
                notification_send(
                    office=booking.office, resident=booking.resident,
                    kind="booking.cancelled_by_office", title=title,
                    body=_("Your visit on %(date)s at %(start)s is cancelled: %(reason)s. "
                           "Please book another time in the app; your case stays open."),
                    params=params, application=booking.application,
                    link=booking_link(booking))
            else:  # offered free times by SMS, or told to call or come to the desk
                booking_ended_tell(booking=booking, kind="booking.cancelled_by_office",
                                   title=title, intro=OFFICE_CANCEL_INTRO, params=params,
                                   now=now)
        else:
            application_set_status(
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
    place_free(booking)


def keep_open_for_rebooking(booking: Booking, *, now: datetime) -> None:
    application = booking.application
    application.rebook_until = office_rebook_until(booking.office, now)
    application.save(update_fields=["rebook_until", "updated_at"])


def booking_reschedule(*, booking: Booking, slot: Slot, by=None,
                       now: datetime | None = None) -> Booking:
    """Move a booking to another slot of the same service: the new place is taken
    first, and the old one is freed only then, in one transaction; when the new slot
    is full nothing changes."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_lock(booking)
        if booking.status != BookingStatus.BOOKED:
            raise Conflict(_("Only a booking not yet used can be rescheduled."),
                           "booking_not_reschedulable")
        if getattr(by, "pk", None) is None and now > booking_change_deadline(booking):
            raise Conflict(_("Bookings can be rescheduled until %(hours)s hours before the "
                             "slot; it is too late now.")
                           % {"hours": _change_cutoff_hours(booking)}, "change_window_closed")
        if slot.pk == booking.slot_id:
            raise DomainError(_("This is already the booking's slot."), "same_slot")
        service_set = service_set_of(booking.application)
        refusal = slot_refusal(office=booking.office, lane_id=service_set.lane_id, slot=slot,
                               now=now)
        if refusal:
            raise refusal
        declared = [DeclaredDocument(doc.requirement, doc.issued_on)
                    for doc in booking.documents.select_related("requirement")]
        requirement_problems_raise(requirement_problems(
            service_set=service_set, visit_date=slot.date,
            today=office_today(booking.office), documents=declared))
        before = slot_params(booking)
        # Both slots' rows in primary-key order before taking and freeing: two residents
        # swapping slots at once then wait for each other instead of deadlocking.
        list(lock_objects.slots_for_update().filter(pk__in=[booking.slot_id, slot.pk])
             .order_by("pk").values_list("pk", flat=True))
        _take_place(slot, office=booking.office)
        place_free(booking)
        booking.slot, booking.day = slot, slot.date
        booking.expires_at = office_day_bounds(booking.office, slot.date)[1]
        booking.reminded_day_before_at = booking.reminded_morning_at = None
        booking.save(update_fields=["slot", "day", "expires_at", "reminded_day_before_at",
                                    "reminded_morning_at"])
        params = {**slot_params(booking), "old_date": before["date"],
                  "old_start": before["start"]}
        case_event_record(
            application=booking.application, kind="booking.rescheduled", params=params,
            actor=by, by_resident=getattr(by, "pk", None) is None)
        notification_send(
            office=booking.office, resident=booking.resident, kind="booking.rescheduled",
            title=_("Booking %(code)s moved"),
            body=_("Your visit is now on %(date)s, %(start)s-%(end)s, lane %(lane)s "
                   "(%(lane_name)s)."),
            params=params, application=booking.application, link=booking_link(booking))
    return booking
