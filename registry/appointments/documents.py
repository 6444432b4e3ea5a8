"""What a booking gives the resident to carry: a QR image of its code for the kiosk's
scanner and a calendar file (ICS) with the requirements."""

import base64
import io
from datetime import timedelta

import qrcode
import qrcode.image.svg
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from registry.appointments.models import Booking


def booking_qr_svg(code: str) -> bytes:
    image = qrcode.make(code, image_factory=qrcode.image.svg.SvgPathImage, box_size=10,
                        border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def booking_qr_data_uri(code: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(booking_qr_svg(code)).decode()


def booking_ics(booking: Booking) -> bytes:
    """One event at the slot's time and the office's address, with what to bring and a
    reminder the evening before."""
    slot, office, service = booking.slot, booking.office, booking.service
    requirements = "\n".join(f"- {r.name}" for r in service.requirements.all())
    calendar = Calendar()
    calendar.add("prodid", "-//e-Open//Disdukcapil//ID")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"booking-{booking.code}@e-open")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("summary", _("%(service)s at %(office)s (booking %(code)s)") % {
        "service": service.name, "office": office.name, "code": booking.code})
    event.add("location", office.address or office.name)
    event.add("description", _("Booking code %(code)s, lane %(lane)s (%(lane_name)s). "
                               "Bring:\n%(requirements)s") % {
        "code": booking.code, "lane": slot.lane.letter, "lane_name": slot.lane.name,
        "requirements": requirements})
    if booking.status in ("cancelled", "expired"):
        event.add("status", "CANCELLED")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", event["summary"])
    alarm.add("trigger", timedelta(hours=-16))
    event.add_component(alarm)
    calendar.add_component(event)
    return calendar.to_ical()
