"""Demo data of the real case in one trip (issue 14), run by `manage.py load_demo` after
every other app's demo. Safe to run again: it creates only what is missing.

Kota Bekasi carries the case at each of its stages, one resident with a feature phone
(SMS only, phone bound at the desk) per stage, so a new user can follow it:

1. Slamet Riyadi: booked a signature change by the phone desk (WhatsApp centre).
2. Joko Susilo: missed his visit; the booking expired and an SMS offers two times
   (`manage.py sms_reply --from 081234500012 --text 1` books the first).
3. Wahyu Hidayat: missed too, and booked again by replying 1.
4. Bambang Sutejo: his card is lost: the phone desk turned the signature change into
   lost card + signature change, the police letter checked for the visit day.
5. Heru Prasetyo: today (on a working day) checked in with his lost card + signature
   change: one ticket in lane C.
6. Yusuf Maulana: served while the central link was down: his work waits and is sent
   by itself (the worker of `make run` sends it within minutes).
7. Teguh Santoso: card printed; he replied ANTAR and it waits for home delivery.
8. Hendra Gunawan: card delivered to his wife with the receipt code and a photo.
9. Hendra's complaint by WhatsApp, with its chronology generated from the records.

Pages: /appointments/phone/ (find a NIK), /admin/appointments/booking/,
/admin/appointments/smsoffer/, /admin/registry/application/, /admin/complaints/complaint/.
"""

import contextlib
import io
from datetime import date, time, timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from complaints.models import Complaint
from complaints.services.chronology import chronology_generate
from complaints.services.intake import complaint_log
from queues.services.issuing import ticket_check_in
from registry.appointments.models import BookingChannel, Slot
from registry.appointments.services.booking_services import booking_services_change
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.slots import slots_ensure
from registry.appointments.services.sms_replies import sms_inbound_receive
from registry.appointments.services.sweeps import bookings_expire_due
from registry.calendar import (
    office_is_working_day,
    office_local,
    office_next_working_day,
    office_today,
)
from registry.central.services.jobs import application_visit_completed, central_job_send
from registry.central.simulator import SimulatedCentralClient
from registry.deliveries.models import Delivery, DeliveryStatus
from registry.deliveries.services.couriers import delivery_deliver
from registry.deliveries.services.dispatch import deliveries_dispatch
from registry.deliveries.services.handovers import handover_choose, handover_delivery_by_sms
from registry.errors import DomainError
from registry.models import Channel, PhoneType, Resident
from registry.service_sets import application_services_set, service_set_get
from registry.services.cases import application_open
from registry.services.residents import resident_register

SIGNATURE, LOST = "KTP_TTD_FOTO", "KTP_HILANG"

# (stage, NIK, name, birth date, phone)
RESIDENTS = [
    (1, "3275011506800011", "Slamet Riyadi", date(1980, 6, 15), "081234500011"),
    (2, "3275012007790012", "Joko Susilo", date(1979, 7, 20), "081234500012"),
    (3, "3275010303820013", "Wahyu Hidayat", date(1982, 3, 3), "081234500013"),
    (4, "3275011111750014", "Bambang Sutejo", date(1975, 11, 11), "081234500014"),
    (5, "3275010909830015", "Heru Prasetyo", date(1983, 9, 9), "081234500015"),
    (6, "3275010202870016", "Yusuf Maulana", date(1987, 2, 2), "081234500016"),
    (7, "3275012512780017", "Teguh Santoso", date(1978, 12, 25), "081234500017"),
    (8, "3275011704810018", "Hendra Gunawan", date(1981, 4, 17), "081234500018"),
]


def _photo() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (214, 229, 240)).save(buffer, format="JPEG")
    return SimpleUploadedFile("proof.jpg", buffer.getvalue(), content_type="image/jpeg")


def _resident(office, nik, name, born, phone) -> Resident:
    resident = Resident.objects.filter(nik=nik).first() or resident_register(
        nik=nik, name=name, birth_date=born, sex="M", phone=phone, domicile_office=office,
        address=f"Jl. Cempaka No. {nik[-2:]} RT 01/RW 02", kecamatan="Bekasi Timur",
        kelurahan="Margahayu")
    # Bound at the desk, SMS chosen (a feature phone).
    Resident.objects.filter(pk=resident.pk).update(
        phone_type=PhoneType.FEATURE_PHONE, phone_bound_at=timezone.now())
    resident.refresh_from_db()
    return resident


def _working_days_before(office, day: date, count: int) -> list[date]:
    days, probe = [], day
    while len(days) < count:
        probe -= timedelta(days=1)
        if office_is_working_day(office, probe):
            days.append(probe)
    return days


def _slot(office, day: date, service_set, index=0) -> Slot | None:
    slots_ensure(office=office, start=day, end=day)
    slots = list(Slot.objects.filter(office=office, lane_id=service_set.lane_id, date=day,
                                     is_closed=False).order_by("start"))
    return slots[min(index, len(slots) - 1)] if slots else None


def _documents(today: date, *, lost: bool) -> list[dict]:
    if lost:
        return [{"requirement": "KK"}, {"requirement": "KTP_LAMA", "lost": True},
                {"requirement": "SURAT_KEHILANGAN", "issued_on": today - timedelta(days=2)}]
    return [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]


def _served(office, resident, service_set, *, by):
    with transaction.atomic():
        application = application_open(office=office, resident=resident,
                                       service=service_set.primary, channel=Channel.ASSISTED)
        application_services_set(application, service_set)
        application_visit_completed(application=application, by=by)
    return application


def _send(application) -> None:
    for job in application.central_jobs.order_by("id"):
        central_job_send(job_id=job.id)


@transaction.atomic
def seed(*, offices: dict, stdout=None) -> None:
    """`offices` maps the demo prefixes ("kota", "kab") to their Office. All stages or
    none (one transaction); the last resident's case says they are there."""
    office = offices["kota"]
    if Resident.objects.filter(nik=RESIDENTS[-1][1], applications__office=office).exists():
        return
    # Kota Bekasi delivers a lost card's replacement home, as in the real case (an older
    # demo database may still hold the earlier default, the holder in person).
    office.services.filter(code=LOST).update(holder_in_person=False, home_delivery=True)
    users = get_user_model().objects
    desk = users.filter(username="kota.frontdesk").first()
    operator = users.filter(username="kota.operator").first()
    courier = users.filter(username="kota.courier").first()
    humas = users.filter(username="kota.humas").first()
    people = {stage: _resident(office, nik, name, born, phone)
              for stage, nik, name, born, phone in RESIDENTS}
    signature = service_set_get(office=office, codes=[SIGNATURE])
    both = service_set_get(office=office, codes=[LOST, SIGNATURE])
    today = office_today(office)
    first = today if office_is_working_day(office, today) else \
        office_next_working_day(office, today)
    second = office_next_working_day(office, first)
    missed, earlier = _working_days_before(office, today, 2)

    def book(stage, day, service_set, *, index, lost=False, now=None):
        slot = _slot(office, day, service_set, index)
        if slot is None:
            return None
        try:
            return booking_create(
                office=office, resident=people[stage], service=service_set, slot=slot,
                documents=_documents(today, lost=lost), channel=BookingChannel.ASSISTED,
                by=desk, now=now or min(timezone.now(), slot.starts_at - timedelta(hours=1)))
        except DomainError:
            return None  # a full slot: this stage is left out

    # 1. Booked by the phone desk.
    book(1, second, signature, index=2)
    # 2 and 3. Booked for a day they missed; the expiry sweep of this night offers two
    # times by SMS; Wahyu replied 1.
    for stage in (2, 3):
        book(stage, missed, signature, index=stage,
             now=office_local(office, earlier, time(10, 0)))
    bookings_expire_due(now=office_local(office, today, time(0, 5)))
    wahyu = people[3]
    sms_inbound_receive(gateway_id=f"demo-resident-{wahyu.pk}", sender=wahyu.phone, text="1",
                        now=office_local(office, today, time(0, 30)))
    # 4. The phone desk turned his signature change into lost card + signature change.
    booking = book(4, second, signature, index=3)
    if booking is not None:
        booking_services_change(booking=booking, service_set=both,
                                documents=_documents(today, lost=True), by=desk)
    # 5. Checked in today with both services: one ticket.
    if first == today:
        booking = book(5, today, both, index=4, lost=True,
                       now=min(timezone.now(), office_local(office, today, time(7, 0))))
        if booking is not None:
            with contextlib.suppress(DomainError):
                ticket_check_in(office=office, booking_code=booking.code, by=desk)
    # 6. Served while the link was down: the work waits, and goes by itself.
    SimulatedCentralClient.configure(office.code, down=True)
    try:
        _send(_served(office, people[6], both, by=operator))
    finally:
        SimulatedCentralClient.configure(office.code, down=False)
    # 7. Printed; he replied ANTAR: waiting for home delivery.
    teguh = _served(office, people[7], both, by=operator)
    _send(teguh)
    handover_delivery_by_sms(resident=people[7], text="ANTAR")
    # 8. Delivered to his wife with the receipt code, a photo and the place.
    hendra = _served(office, people[8], both, by=operator)
    _send(hendra)
    handover_choose(application=hendra, method="delivery", by_resident=True)
    if courier is not None:
        deliveries_dispatch(office=office, day=first)
        delivery = Delivery.objects.filter(application=hendra,
                                           status=DeliveryStatus.ASSIGNED).first()
        if delivery is not None:
            delivery_deliver(
                delivery_id=delivery.id, courier=courier, recipient_name="Wati Gunawan",
                recipient_relation="spouse", receipt_code=hendra.card.receipt_code,
                photo=_photo(), latitude="-6.238300", longitude="107.010400")
    # 9. His complaint by WhatsApp, and its chronology.
    if humas is not None and not Complaint.objects.filter(resident=people[8]).exists():
        complaint = complaint_log(
            office=office, by=humas, channel="whatsapp", category="other",
            text="Kartu saya sudah diterima istri, tapi kenapa harus menunggu server pusat?",
            link_by="nik", link_value=people[8].nik, assignee=humas)
        chronology_generate(complaint=complaint, by=humas)
    if stdout is not None:
        stdout.write("  The real case in one trip: Kota Bekasi residents 3275011506800011 "
                     "to ...0018 (stages 1-9).")
