"""Changing the services of a booking: the signature change that turns out to be a lost
card becomes "KTP-el hilang + signature change" in the same booking (one trip).

From the phone desk before the visit (the requirements are checked for the booking's
day) or at the counter during it (`at_counter=True`: checked for today, and a booking
already checked in may change; queues.services.serving keeps the ticket's service in
step). The booking keeps its slot, so the new services must be served in the slot's
lane: a set served in another lane is refused, and the booking is cancelled and booked
again in that lane instead (the slot's places belong to its lane).
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from registry.appointments.models import Booking, BookingDocument, BookingStatus
from registry.appointments.services.bookings import booking_lock
from registry.appointments.services.notices import booking_link, requirements_text, slot_params
from registry.appointments.services.requirements import (
    documents_declare,
    requirement_problems,
    requirement_problems_raise,
)
from registry.calendar import office_today
from registry.errors import Conflict, DomainError, NotFound
from registry.service_sets import ServiceSet, application_services_set, service_set_of
from registry.services.cases import case_event_record
from registry.services.notifications import notification_send

# Where the change was made, as the case event says.
AT_PHONE_DESK = "phone_desk"
AT_COUNTER = "counter"


def booking_services_change(*, booking: Booking, service_set: ServiceSet,
                            documents: list[dict], by, at_counter: bool = False) -> Booking:
    """Make `booking` (and its case) a visit of `service_set`, with `documents` as the
    resident now declares them. The requirements are checked for the booking's day (at
    the counter: for today) and any problem refuses the change (400, with the
    problems); a set of another lane than the slot's is refused (lane_differs).

    The booking's documents are replaced by those declared, the case carries the new
    services, Booking.service becomes the set's primary, a case event
    "booking.services_changed" says from what to what, by whom and where, and the
    resident is told what to bring."""
    office = booking.office
    if any(s.office_id != office.id or not s.is_active for s in service_set.services):
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    allowed = ([BookingStatus.BOOKED, BookingStatus.CHECKED_IN] if at_counter
               else [BookingStatus.BOOKED])
    with transaction.atomic():
        booking = booking_lock(booking)
        if booking.status not in allowed:
            raise Conflict(_("Only a booking not yet used can change its services."),
                           "booking_not_changeable")
        before = service_set_of(booking.application)
        if before.codes == service_set.codes:
            raise DomainError(_("The booking already has these services."), "same_services")
        if service_set.lane_id != booking.slot.lane_id:
            raise DomainError(
                _("%(services)s is served in lane %(lane)s, but this booking's time is in "
                  "lane %(slot_lane)s: cancel it and book a time of lane %(lane)s.") % {
                    "services": service_set.name, "lane": service_set.lane.letter,
                    "slot_lane": booking.slot.lane.letter}, "lane_differs")
        today = office_today(office)
        visit_date = today if at_counter else booking.slot.date
        declared = documents_declare(service_set=service_set, documents=documents)
        requirement_problems_raise(requirement_problems(
            service_set=service_set, visit_date=visit_date, today=today, documents=declared))
        if (Booking.objects.filter(resident=booking.resident, service=service_set.primary,
                                   status__in=[BookingStatus.BOOKED, BookingStatus.CHECKED_IN])
                .exclude(pk=booking.pk).exists()):
            raise Conflict(_("The resident already has another active booking for %(service)s.")
                           % {"service": service_set.primary.name}, "active_booking_exists")
        _documents_replace(booking, declared)
        application_services_set(booking.application, service_set)
        if booking.service_id != service_set.primary.id:
            booking.service = service_set.primary
            booking.save(update_fields=["service"])
        params = {**slot_params(booking, service_set=service_set), "from": before.name,
                  "to": service_set.name, "where": AT_COUNTER if at_counter else AT_PHONE_DESK}
        case_event_record(application=booking.application, kind="booking.services_changed",
                          params=params, actor=by)
        _tell_resident(booking, service_set, params)
    return booking


def _documents_replace(booking: Booking, declared) -> None:
    """The booking's documents become those declared: a document kept (same
    requirement) keeps its row and any file sent ahead, with the new date of issue."""
    kept = {doc.requirement_id: doc for doc in booking.documents.all()}
    wanted = {doc.requirement.id: doc for doc in declared}
    gone = [doc for requirement_id, doc in kept.items() if requirement_id not in wanted]
    files = [doc.file for doc in gone if doc.file]
    BookingDocument.objects.filter(pk__in=[doc.pk for doc in gone]).delete()
    for requirement_id, doc in wanted.items():
        row = kept.get(requirement_id)
        if row is None:
            BookingDocument.objects.create(office=booking.office, booking=booking,
                                           requirement=doc.requirement,
                                           issued_on=doc.issued_on)
        elif row.issued_on != doc.issued_on:
            row.issued_on = doc.issued_on
            row.save(update_fields=["issued_on"])
    for file in files:
        storage, name = file.storage, file.name
        transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))


def _tell_resident(booking: Booking, service_set: ServiceSet, params: dict) -> None:
    dated = [r.name for r in service_set.requirements() if r.valid_days]
    values = {**params, "requirements": requirements_text(service_set),
              "dated": ", ".join(dated)}
    if dated:
        body = _("Your visit on %(date)s, %(start)s-%(end)s is now for %(to)s. Bring: "
                 "%(requirements)s. %(dated)s must still be valid on the visit day, "
                 "%(date)s. Show code %(code)s at the kiosk.")
    else:
        body = _("Your visit on %(date)s, %(start)s-%(end)s is now for %(to)s. Bring: "
                 "%(requirements)s. Show code %(code)s at the kiosk.")
    notification_send(
        office=booking.office, resident=booking.resident, kind="booking.services_changed",
        title=_("Booking %(code)s: services changed"), body=body, params=values,
        application=booking.application, link=booking_link(booking))

