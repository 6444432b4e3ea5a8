"""The Kota Bekasi case of DESIGN.md (2022), replayed through the apps' own services at
the moments it happened (time-machine), so that its records are the ones those apps
write. Each stage is a function; the end-to-end test runs them all, the chronology
tests run the stages whose apps exist.

Times are WIB. 31 May: booking in the app; the appointed day is missed and it lapses.
29 June: re-booked for Friday 1 July. 1 July: ticket C-001, B-014 of lane B called at
07:55 before him, C-001 called at 08:00; the counter finishes at 09:10 while the link
to the central server is down from 09:00 to 13:00; the data and the print go through
after 13:00. He chooses home delivery; the office is closed on the weekend, and the
card is delivered to his wife on Monday 4 July at 10:15. That evening he posts on
Instagram; humas logs it on Tuesday morning.
"""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from queues.services.calling import ticket_call_next, ticket_finish, ticket_no_show, ticket_start
from queues.services.counters import counter_create, counter_open
from queues.services.issuing import ticket_check_in, ticket_issue_walk_in
from registry.appointments.services.bookings import booking_create
from registry.appointments.services.slots import slots_ensure
from registry.appointments.services.sweeps import bookings_expire_due
from registry.central.models import OutageDetection
from registry.central.services.jobs import application_visit_completed, central_job_send
from registry.central.services.link import central_link_check, central_link_record_success
from registry.central.simulator import SimulatedCentralClient
from registry.models import Channel, Resident, Service
from registry.services.cases import application_open
from registry.services.residents import resident_register

WIB = ZoneInfo("Asia/Jakarta")
BUDI_NIK = "3275011203850001"
SITI_NIK = "3275014507880002"
MONDAY = date(2022, 7, 4)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=WIB)


def travel(*args):
    return time_machine.travel(at(*args), tick=False)


def residents(office):
    budi = Resident.objects.filter(nik=BUDI_NIK).first() or resident_register(
        nik=BUDI_NIK, name="Budi Santoso", birth_date=date(1985, 3, 12), sex="M",
        phone="081234500001", address="Jl. Melati No. 7 RT 03/RW 05", kecamatan="Bekasi Timur",
        kelurahan="Margahayu", domicile_office=office)
    siti = Resident.objects.filter(nik=SITI_NIK).first() or resident_register(
        nik=SITI_NIK, name="Siti Rahmawati", birth_date=date(1988, 7, 5), sex="F",
        phone="081234500002", address="Jl. Melati No. 7 RT 03/RW 05",
        kecamatan="Bekasi Timur", kelurahan="Margahayu", domicile_office=office)
    return budi, siti


def open_case(office, budi):
    """The case file of his signature change, opened when he first booked in the app."""
    service = Service.objects.get(office=office, code="KTP_TTD_FOTO")
    with travel(2022, 5, 31, 19, 40):
        return application_open(office=office, resident=budi, service=service,
                                channel=Channel.APP)


def counter_done_during_outage(application, *, operator):
    """1 July: the link fails its health checks from 09:00 (the outage opens at the
    first failure); the counter finishes at 09:10 and the data change cannot be sent;
    at 13:00 the link answers again and the waiting work goes through."""
    office = application.office
    SimulatedCentralClient.configure(office.code, down=True)
    with travel(2022, 7, 1, 9, 0):
        central_link_check(office_id=office.id)
    with travel(2022, 7, 1, 9, 1):
        central_link_check(office_id=office.id)
    with travel(2022, 7, 1, 9, 10):
        _counter_finishes(application, operator)
        for job in application.central_jobs.filter(status="pending"):
            central_job_send(job_id=job.id)
    SimulatedCentralClient.configure(office.code, down=False)
    with travel(2022, 7, 1, 13, 0):
        central_link_record_success(office=office,
                                    detection=OutageDetection.HEALTH_CHECK,
                                    checked=True)
    with travel(2022, 7, 1, 13, 1):
        job = application.central_jobs.get(kind="data_change")
        central_job_send(job_id=job.id)
    with travel(2022, 7, 1, 13, 2):
        job = application.central_jobs.get(kind="card_print")
        central_job_send(job_id=job.id)


def _counter_finishes(application, operator):
    """The counter finishes his ticket as served, which moves the case on; without a
    queue day replayed, the case is moved on directly."""
    from queues.models import Ticket

    ticket = Ticket.objects.filter(application=application, status="serving").first()
    if ticket is None:
        with transaction.atomic():
            application_visit_completed(application=application, by=operator)
        return
    ticket_finish(counter=ticket.counter, by=operator, outcome="served")


def home_delivery_to_spouse(application, *, courier):
    """He chooses home delivery after he left; dispatch is on Monday (the office is
    closed on the weekend) and his wife receives the card at 10:15."""
    from registry.deliveries.models import Delivery
    from registry.deliveries.services.couriers import delivery_deliver
    from registry.deliveries.services.dispatch import deliveries_dispatch
    from registry.deliveries.services.handovers import handover_choose

    with travel(2022, 7, 1, 14, 0):
        handover_choose(application=application, method="delivery",
                        by_resident=True)
    with travel(2022, 7, 4, 7, 0):
        deliveries_dispatch(office=application.office, day=MONDAY)
    delivery = Delivery.objects.get(application=application, status="assigned")
    with travel(2022, 7, 4, 10, 15):
        delivery_deliver(
            delivery_id=delivery.id, courier=courier, recipient_name="Siti Rahmawati",
            recipient_relation="spouse", receipt_code=application.card.receipt_code,
            photo=_photo(), latitude="-6.238100", longitude="107.010200")
    return delivery


def _photo():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 210, 220)).save(buffer, format="JPEG")
    return SimpleUploadedFile("proof.jpg", buffer.getvalue(), content_type="image/jpeg")


POST_TEXT = ("Sudah tiga hari cuti cuma buat ganti tanda tangan KTP. Ada orang tanpa nomor "
             "antrean dipanggil duluan, server pusat mati seharian, KTP malah diantar ke "
             "rumah waktu saya kerja. @ridwankamil tolong! #disdukcapilbekasi")
POST_LINK = "https://www.instagram.com/p/CfBudiKTP22/"


def instagram_post_logged(office, *, humas):
    """Monday 19:05 he posts; humas logs it on Tuesday at 08:15 and links it by NIK."""
    from complaints.services.intake import complaint_log

    with travel(2022, 7, 5, 8, 15):
        return complaint_log(
            office=office, by=humas, channel="instagram", link=POST_LINK,
            handle="@budi.santoso85", posted_at=at(2022, 7, 4, 19, 5), text=POST_TEXT,
            category="queue_fairness", link_by="nik", link_value=BUDI_NIK, assignee=humas)


# --- The stages whose apps are still being built ---------------------------------------
# Each returns None when its records were written through the app's own services, or
# says what is missing. They never write another app's rows by hand: a chronology
# tested against hand-made records would prove nothing about the real ones.


def booking_lapsed_then_rebooked(office, budi, application) -> str | None:
    """31 May: booked in the app for Wednesday 8 June; the day is missed and the
    booking expires that night. 29 June: re-booked for Friday 1 July 08:00, continuing
    the same case (registry.appointments)."""
    from registry.appointments.models import Slot

    def slot(day, start):
        slots_ensure(office=office, start=day, end=day)
        return Slot.objects.get(office=office, lane=application.service.lane, date=day,
                                start=start)

    documents = [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]
    with travel(2022, 5, 31, 19, 40):
        booking_create(office=office, resident=budi, service=application.service,
                       slot=slot(date(2022, 6, 8), "09:00"), documents=documents)
    with travel(2022, 6, 9, 0, 5):
        bookings_expire_due()
    with travel(2022, 6, 29, 20, 5):
        booking = booking_create(
            office=office, resident=budi, service=application.service,
            slot=slot(date(2022, 7, 1), "08:00"), documents=documents)
    if booking.application_id != application.id:
        return "registry.appointments: the re-booking did not continue the case"
    return None


def queue_day(office, application, *, operator) -> str | None:
    """1 July: lane B's counter 2 has served its first thirteen numbers by 07:30, when he
    checks in with his booking and gets C-001 (lane C); B-014, taken at 07:40, is called
    to counter 2 at 07:55; C-001 is called to counter 5 at 08:00 and service starts
    (queues, with the booking's check-in through registry.appointments)."""
    from registry.models import Lane

    lanes = {lane.letter: lane for lane in Lane.objects.filter(office=office)}
    biometric = Service.objects.get(office=office, code="KTP_BARU")
    booking = application.bookings.get(status="booked")
    with travel(2022, 7, 1, 6, 50):
        counter_b = counter_create(office=office, number=2, lanes=[lanes["B"]])
        counter_c = counter_create(office=office, number=5, lanes=[lanes["C"]])
        counter_open(counter=counter_b, by=operator)
        counter_open(counter=counter_c, by=operator)
    for minute in range(13):
        with travel(2022, 7, 1, 7, minute):
            ticket_issue_walk_in(office=office, service=biometric)
        with travel(2022, 7, 1, 7, 14 + minute):
            ticket_call_next(counter=counter_b, by=operator)
            ticket_no_show(counter=counter_b, by=operator)
    with travel(2022, 7, 1, 7, 30):
        ticket = ticket_check_in(office=office, booking_code=booking.code)
    with travel(2022, 7, 1, 7, 40):
        other = ticket_issue_walk_in(office=office, service=biometric)
    with travel(2022, 7, 1, 7, 55):
        called_b = ticket_call_next(counter=counter_b, by=operator)
    with travel(2022, 7, 1, 8, 0):
        called_c = ticket_call_next(counter=counter_c, by=operator)
    with travel(2022, 7, 1, 8, 1):
        ticket_start(counter=counter_c, by=operator)
    codes = (ticket.code, other.code, called_b and called_b.code, called_c and called_c.code)
    if codes != ("C-001", "B-014", "B-014", "C-001"):
        return f"queues: the day gave tickets {codes}, not C-001 and B-014 as on 1 July"
    return None


# --- Failures 1 and 3 at the office itself --------------------------------------------

TURN_AWAY_NOTE = "tidak punya ponsel pintar; diminta daftar daring dulu"
EXPIRED_LETTER = "surat kehilangan dari Polsek terbit 10 Juni 2022, sudah kedaluwarsa"


def turned_away_at_the_door(office, budi, *, desk_staff):
    """Monday 30 May 09:30: he comes for the signature change and the front desk sends
    him home to book in the app first (registry.services.turn_aways); the case opened
    the next evening takes this turn-away."""
    from registry.services.turn_aways import turn_away_record

    service = Service.objects.get(office=office, code="KTP_TTD_FOTO")
    with travel(2022, 5, 30, 9, 30):
        return turn_away_record(office=office, resident=budi, reason="no_booking",
                                service=service, note=TURN_AWAY_NOTE, by=desk_staff)


def police_letter_expired_at_counter(application, *, operator) -> str | None:
    """1 July 08:05, C-001 at counter 5: his card is in fact lost. The operator turns
    the visit into KTP-el hilang + the signature change; the police letter, issued on
    10 June, is checked for today and refused (valid 14 days), so nothing changes, and
    she records the expired letter (queues.services.serving)."""
    from queues.models import Ticket
    from queues.services.serving import ticket_requirement_invalid_record, ticket_services_change
    from registry.errors import DomainError
    from registry.service_sets import service_set_get

    ticket = Ticket.objects.filter(application=application, status="serving").first()
    if ticket is None:
        return "queues: no ticket of his is being served at 08:05"
    office = application.office
    with travel(2022, 7, 1, 8, 5):
        both = service_set_get(office=office, codes=["KTP_HILANG", "KTP_TTD_FOTO"])
        try:
            ticket_services_change(
                counter=ticket.counter, service_set=both, by=operator, ticket_id=ticket.id,
                documents=[{"requirement": "KK"},
                           {"requirement": "SURAT_KEHILANGAN", "issued_on": date(2022, 6, 10)}])
        except DomainError as refused:
            if refused.code != "requirements_not_met":
                return f"queues: the change was refused with {refused.code}"
        else:
            return "queues: an expired police letter was accepted at the counter"
    with travel(2022, 7, 1, 8, 6):
        ticket_requirement_invalid_record(counter=ticket.counter, ticket_id=ticket.id,
                                          requirement_code="SURAT_KEHILANGAN",
                                          reason=EXPIRED_LETTER, by=operator)
    return None
