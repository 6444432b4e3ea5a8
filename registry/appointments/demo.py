"""Demo data of this app, run by `manage.py load_demo` after the registry's. Safe to
run again: it creates only what is missing.

Each office gets its booking settings and a schedule per lane, and a few bookings on
its next two working days (today when it is one): in Kota Bekasi one already checked
in, one made at the front desk for a resident without a phone (registered on the
spot), and a police loss report sent ahead that awaits the front desk's review; in
Kabupaten Bekasi two bookings, one with a document awaiting review. The pages to look
at: /admin/appointments/booking/, /admin/appointments/slot/day/,
/appointments/assisted/ and /appointments/documents/.
"""

import io
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from registry.appointments.models import (
    AppointmentSettings,
    Booking,
    BookingChannel,
    LaneSchedule,
    Slot,
)
from registry.appointments.services.attendance import booking_check_in
from registry.appointments.services.booking_documents import booking_document_upload
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.slots import slots_ensure
from registry.calendar import (
    office_is_working_day,
    office_local,
    office_next_working_day,
    office_today,
)
from registry.errors import DomainError
from registry.models import Lane, Office, PhoneType, Resident, Service
from registry.services.offices import office_settings_get
from registry.services.residents import resident_register

# (lane letter, slot minutes, places per slot)
SCHEDULES = {
    "kota": [("A", 30, 3), ("B", 20, 4), ("C", 30, 4)],
    "kab": [("A", 30, 2), ("B", 30, 3), ("C", 30, 3)],
}

# A resident with no phone, registered at the Kota Bekasi front desk.
NO_PHONE_RESIDENT = {"nik": "3275010507600008", "name": "Sutrisno", "birth_date":
                     date(1960, 7, 5), "sex": "M", "kecamatan": "Bekasi Timur",
                     "kelurahan": "Margahayu", "address": "Jl. Mawar No. 21 RT 02/RW 04"}

# (resident NIK, service, 1 = the first working day / 2 = the next, n-th slot of the
# lane that day, channel, what else happens: "check_in" or a requirement sent ahead)
BOOKINGS = {
    "kota": [
        ("3275014507880002", "KK_UBAH", 1, 0, BookingChannel.APP, "check_in"),
        ("3275026001950003", "KTP_CETAK_ULANG", 1, 1, BookingChannel.APP, ""),
        (NO_PHONE_RESIDENT["nik"], "KTP_TTD_FOTO", 1, 2, BookingChannel.ASSISTED, ""),
        ("3275041510900005", "KTP_HILANG", 2, 0, BookingChannel.APP, "SURAT_KEHILANGAN"),
        ("3275030808000004", "KK_UBAH", 2, 3, BookingChannel.APP, ""),
    ],
    "kab": [
        ("3216052011900006", "KTP_TTD_FOTO", 1, 4, BookingChannel.APP, ""),
        ("3216064403920007", "KK_UBAH", 2, 0, BookingChannel.APP, "KK"),
    ],
}


def _demo_photo() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 560), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 760, 120), fill=(30, 60, 120))
    for row in range(8):
        draw.rectangle((60, 160 + row * 45, 700 - row * 30, 180 + row * 45), fill=(90, 90, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return SimpleUploadedFile("scan.jpg", buffer.getvalue(), content_type="image/jpeg")


def _days(office: Office) -> tuple[date, date]:
    today = office_today(office)
    first = today if office_is_working_day(office, today) else \
        office_next_working_day(office, today)
    return first, office_next_working_day(office, first)


def _schedules(office: Office, prefix: str) -> None:
    office_settings_get(AppointmentSettings, office=office)
    lanes = {lane.letter: lane for lane in Lane.objects.filter(office=office)}
    for letter, minutes, places in SCHEDULES.get(prefix, []):
        if letter in lanes:
            LaneSchedule.objects.get_or_create(
                lane=lanes[letter], defaults={"office": office, "slot_minutes": minutes,
                                              "capacity": places})


def _documents_for(service: Service, today: date) -> list[dict]:
    return [{"requirement": r.code, **({"issued_on": today - timedelta(days=3)}
                                       if r.valid_days else {})}
            for r in service.requirements.all()]


def _book(office, row, days, moment, frontdesk) -> Booking | None:
    nik, code, which, position, channel, extra = row
    resident = Resident.objects.filter(nik=nik).first()
    service = Service.objects.select_related("lane").filter(office=office, code=code).first()
    if resident is None or service is None:
        return None
    day = days[which - 1]
    slots_ensure(office=office, start=day, end=day)
    slots = list(Slot.objects.filter(office=office, lane=service.lane, date=day,
                                     is_closed=False).order_by("start"))
    if not slots:
        return None
    slot = slots[min(position, len(slots) - 1)]
    today = office_today(office)
    try:
        booking = booking_create(
            office=office, resident=resident, service=service, slot=slot,
            documents=_documents_for(service, today), channel=channel,
            by=frontdesk if channel == BookingChannel.ASSISTED else None,
            now=min(moment, slot.starts_at - timedelta(minutes=1)))
    except DomainError:
        return None  # a slot already full, or the resident already booked: skip it
    if extra == "check_in" and day == today:
        booking_check_in(booking=booking, now=min(timezone.now(), slot.ends_at))
    elif extra and extra != "check_in":
        booking_document_upload(booking=booking, requirement_code=extra,
                                upload=_demo_photo(),
                                issued_on=today - timedelta(days=3)
                                if extra == "SURAT_KEHILANGAN" else None)
    return booking


def seed(*, offices: dict, stdout=None) -> None:
    """`offices` maps the demo prefixes ("kota", "kab") to their Office."""
    if not Resident.objects.filter(nik=NO_PHONE_RESIDENT["nik"]).exists():
        resident = resident_register(**NO_PHONE_RESIDENT)
        # Told on the printed slip and at the desk: no phone of his own.
        Resident.objects.filter(pk=resident.pk).update(phone_type=PhoneType.NONE)
    users = get_user_model().objects
    for prefix, office in offices.items():
        _schedules(office, prefix)
        if Booking.objects.filter(office=office).exists():
            continue
        days = _days(office)
        # The bookings were made this morning, before the office opened: today's
        # slots were still open to book then.
        moment: datetime = min(timezone.now(), office_local(office, days[0], time(7, 0)))
        frontdesk = users.filter(username=f"{prefix}.frontdesk").first()
        for row in BOOKINGS.get(prefix, []):
            _book(office, row, days, moment, frontdesk)
