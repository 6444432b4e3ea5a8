"""What residents read about a booking in messages: its date, times, lane and link.
"""

from datetime import date

from django.urls import reverse

from registry.appointments.models import (
    Booking,
)
from registry.models import (
    Service,
)
from registry.service_sets import ServiceSet, as_service_set, service_set_of


def date_text(day: date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "j F Y")


def slot_params(booking: Booking, *, service_set: ServiceSet | None = None) -> dict:
    """The booking's code, day, times, lane and services (all of them, joined by
    " + ") as message parameters."""
    slot = booking.slot
    service_set = service_set or service_set_of(booking.application)
    return {"code": booking.code, "date": date_text(slot.date), "start": f"{slot.start:%H:%M}",
            "end": f"{slot.end:%H:%M}", "lane": slot.lane.letter, "lane_name": slot.lane.name,
            "service": service_set.name}


def requirements_text(service: Service | ServiceSet) -> str:
    return "; ".join(r.name for r in as_service_set(service).requirements())


def booking_link(booking: Booking) -> str:
    return reverse("booking-detail", kwargs={"code": booking.code})
