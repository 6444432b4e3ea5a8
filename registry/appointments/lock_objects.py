"""The select_for_update querysets of appointments, in one place.

Bookings are locked alone (`of=("self",)`), ordered by primary key where several are
taken, so two transactions never wait on each other in opposite orders. A slot's row
is locked by the conditional UPDATE that takes or frees a place.
"""

from django.db.models import QuerySet

from registry.appointments.models import Booking, BookingDocument, Slot, SmsOffer


def bookings_for_update(*, skip_locked: bool = False) -> QuerySet[Booking]:
    return Booking.objects.select_for_update(of=("self",), skip_locked=skip_locked)


def slots_for_update() -> QuerySet[Slot]:
    """Slots to lock, ordered by the caller by primary key (a reschedule locks two)."""
    return Slot.objects.select_for_update(of=("self",))


def booking_documents_for_update() -> QuerySet[BookingDocument]:
    return BookingDocument.objects.select_for_update(of=("self",))


def sms_offers_for_update() -> QuerySet[SmsOffer]:
    """Offers to lock, after their case (Application) is locked: the order of booking,
    cancelling and closing, which lock or write the case before its offers."""
    return SmsOffer.objects.select_for_update(of=("self",))
