"""What a booking gives the resident to carry: a QR image of its code for the kiosk's
scanner and a calendar file (ICS) with the requirements."""

import base64
from datetime import timedelta
from functools import lru_cache

import qrcode
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event

from registry.appointments.models import Booking
from registry.service_sets import service_set_of

QR_BORDER = 2  # modules of quiet zone around the code


@lru_cache(maxsize=2048)
def booking_qr_svg(code: str) -> bytes:
    """The code as a QR symbol (error correction M, the best of the eight masks, as
    the standard asks) drawn as one SVG path, a run of dark modules per stroke: the
    library's own SVG writer costs more than making the symbol."""
    symbol = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                           border=QR_BORDER)
    symbol.add_data(code)
    symbol.make(fit=True)
    matrix = symbol.get_matrix()  # with the quiet zone
    strokes = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                strokes.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = len(matrix)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
            f'width="{size * 10}" height="{size * 10}" shape-rendering="crispEdges">'
            f'<rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path d="{"".join(strokes)}" fill="#000"/></svg>').encode()


def booking_qr_data_uri(code: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(booking_qr_svg(code)).decode()


def booking_ics(booking: Booking) -> bytes:
    """One event at the slot's time and the office's address, with what to bring and a
    reminder the evening before."""
    slot, office = booking.slot, booking.office
    service = service_set_of(booking.application, primary=booking.service)
    requirements = "\n".join(f"- {r.name}" for r in service.requirements())
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
