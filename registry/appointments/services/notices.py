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


def date_text(day: date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "j F Y")


def slot_params(booking: Booking) -> dict:
    slot = booking.slot
    return {"code": booking.code, "date": date_text(slot.date), "start": f"{slot.start:%H:%M}",
            "end": f"{slot.end:%H:%M}", "lane": slot.lane.letter, "lane_name": slot.lane.name,
            "service": booking.service.name}


def requirements_text(service: Service) -> str:
    return "; ".join(r.name for r in service.requirements.all())


def booking_link(booking: Booking) -> str:
    return reverse("booking-detail", kwargs={"code": booking.code})
