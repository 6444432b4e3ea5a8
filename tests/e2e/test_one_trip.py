"""The real case of DESIGN.md in one trip (issue 14, "Figures and proof").

A man wants a new signature on his KTP-el; the card turns out to be lost. He has only
a feature phone. Everything he and the staff do goes through the API, the staff pages
and the SMS simulator (the outside world: the SMS gateway, the central server and
their clocks); the Celery tasks run as the worker would, at once (eager), and beat's
periodic tasks are called at their times.

Kota Bekasi, 2022 (WIB). March: his phone is bound at the desk and SMS chosen, when he
came with his wife for her family card. Tuesday 31 May he calls the office's WhatsApp
centre: the phone desk books him a signature change for Thursday 30 June. He misses
it; at 00:05 on Friday 1 July the booking expires and an SMS offers the next two free
times; he replies 1 (08:00 that day). At 07:00 he calls again: his card is lost. The
phone desk's pre-check turns the booking into lost card + signature change, and the
SMS tells him the police letter must be valid on the day. At 07:30 the kiosk gives him
C-001; he is called at 08:00. The link to the central server is down 09:00-13:00; he
is served at 09:10 and told by SMS; he replies ANTAR. The card is printed at 13:02 and
brought to his wife on Monday 4 July. He complains through the WhatsApp centre; the
chronology generated from the records states the nine points. His trips to the office
for this case: 1.

The same journey for a resident with the app, and for one with no phone at all (desk
and paper only).
"""

import io
import re
from contextlib import contextmanager
from datetime import date, datetime
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from PIL import Image

from complaints.models import Complaint, SurveyAnswer
from config.celery import app as celery_app
from queues.models import Ticket
from queues.services.counters import counter_create
from registry.api.auth import tokens_for_resident, tokens_for_staff
from registry.appointments.models import AppointmentSettings, Booking, Slot
from registry.appointments.services.slots import slots_ensure
from registry.appointments.tasks import bookings_expire_due
from registry.central.tasks import central_link_check
from registry.deliveries.models import Delivery, DeliveryAttempt
from registry.deliveries.services.dispatch import deliveries_dispatch_due
from registry.models import (
    Application,
    Lane,
    NotificationDelivery,
    Resident,
    Role,
    TurnAway,
)
from registry.services.offices import office_settings_get
from tests.api.sign_in import tasks_at_once  # noqa: F401 - a fixture
from tests.factories import ResidentFactory, card_stock_for, make_nik

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tasks_at_once")]

WIB = ZoneInfo("Asia/Jakarta")
PHONE = "081234500001"
SIGNATURE, LOST = "KTP_TTD_FOTO", "KTP_HILANG"


def wib(month, day, hour, minute=0):
    return datetime(2022, month, day, hour, minute, tzinfo=WIB)


def travel(month, day, hour, minute=0):
    return time_machine.travel(wib(month, day, hour, minute), tick=False)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (90, 140, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


class Office:
    """Kota Bekasi's staff, each signed in on their own browser, and the office's own
    set-up: a 31-day booking window, counters for lanes B and C, card stock."""

    def __init__(self, office, make_staff, live_server):
        self.office = office
        self.url = live_server.url
        office.whatsapp = "+6281100003275"
        office.save(update_fields=["whatsapp"])
        plan = office_settings_get(AppointmentSettings, office=office)
        plan.booking_window_days = 31
        plan.save()
        card_stock_for(office, on_hand=100)
        self.desk_user = make_staff(office, Role.FRONT_DESK, username="kota.frontdesk")
        self.operator_user = make_staff(office, Role.COUNTER_OPERATOR, username="kota.operator")
        self.courier = make_staff(office, Role.COURIER, username="kota.courier")
        self.humas_user = make_staff(office, Role.PUBLIC_RELATIONS, username="kota.humas")
        self.desk, self.operator, self.humas = Client(), Client(), Client()
        self.desk.force_login(self.desk_user)
        self.operator.force_login(self.operator_user)
        self.humas.force_login(self.humas_user)
        lanes = {lane.letter: lane for lane in Lane.objects.filter(office=office)}
        self.counter_c = counter_create(office=office, number=5, lanes=[lanes["C"]])

    # --- The front desk ------------------------------------------------------------

    def register(self, *, nik, name, birth_date) -> Resident:
        """The assisted-booking page registers a resident the office does not know."""
        page = reverse("appointments:assisted")
        self.desk.post(page, {"action": "find", "nik": nik})
        done = self.desk.post(page, {
            "action": "register", "nik": nik, "name": name, "birth_date": birth_date,
            "address": "Jl. Melati No. 7 RT 03/RW 05", "kecamatan": "Bekasi Timur",
            "kelurahan": "Margahayu"})
        assert done.status_code == 302, done.content.decode()[:2000]
        return Resident.objects.get(nik=nik)

    def bind_phone(self, resident, phone, sms):
        """The admin's bind-phone page: a code to the phone, read back to the desk."""
        page = reverse("admin:registry_resident_bind_phone", args=[resident.pk])
        assert self.desk.post(page, {"phone": phone}).status_code == 302
        code = re.search(r"\b(\d{6})\b", sms.received(phone)[-1]["body"]).group(1)
        assert self.desk.post(page, {"code": code}).status_code == 302
        resident.refresh_from_db()
        assert resident.phone_bound_at is not None

    def phone_desk_token(self, resident) -> str:
        found = self.desk.post(reverse("appointments:phone-desk"),
                               {"action": "find", "nik": resident.nik})
        assert found.status_code == 302, found.content.decode()[:2000]
        return parse_qs(urlparse(found["Location"]).query)["r"][0]

    def phone_desk(self, token, action, **data):
        answer = self.desk.post(reverse("appointments:phone-desk"),
                                {"action": action, "r": token, **data}, follow=True)
        assert answer.status_code == 200, answer.content.decode()[:3000]
        errors = [str(m) for m in answer.context["messages"] if m.level_tag == "error"]
        assert not errors, errors
        return answer

    def check_in(self, code) -> Ticket:
        """The kiosk: the booking code typed in gives the ticket."""
        answer = self.desk.post(reverse("queues:check-in"), {"code": code, "from_kiosk": "1"})
        assert answer.status_code == 302, answer.content.decode()[:2000]
        return Ticket.objects.get(pk=int(answer["Location"].rstrip("/").split("/")[-1]))

    # --- The counter ---------------------------------------------------------------

    def counter(self, action, **data):
        answer = self.operator.post(
            reverse("queues:counter-action", args=[self.counter_c.pk, action]), data,
            follow=True)
        errors = [str(m) for m in answer.context["messages"] if m.level_tag == "error"]
        assert not errors, errors
        return answer

    # --- The outside world: the central server and beat ----------------------------

    def link_down_from_nine(self, central_sim):
        central_sim.configure(self.office.code, down=True)
        for minute in (0, 1):
            with travel(7, 1, 9, minute):
                central_link_check.run(self.office.id)

    def link_back_at_one(self, central_sim):
        """13:00 the health check finds the link back and queues the waiting work; the
        worker takes the data change at 13:01 and the print at 13:02 (print_at), as on
        the day."""
        central_sim.configure(self.office.code, down=False)
        with travel(7, 1, 13, 0), queued_for_the_worker():
            central_link_check.run(self.office.id)

    def print_at(self, application):
        """The link is back: the waiting data change went at 13:00; the print is
        answered at 13:02 (the central server prints in its own time)."""
        from registry.central.services.jobs import central_job_send

        for minute, kind in ((1, "data_change"), (2, "card_print")):
            with travel(7, 1, 13, minute), queued_for_the_worker():
                job = application.central_jobs.get(kind=kind)
                central_job_send(job_id=job.id)

    def deliver_monday_to_the_wife(self, application, http):
        with travel(7, 4, 7, 5):
            assert self.office.id in deliveries_dispatch_due()
        delivery = Delivery.objects.get(application=application, status="assigned")
        with travel(7, 4, 10, 15):
            courier = http.with_token(tokens_for_staff(self.courier)["access"])
            receipt = application.card.receipt_code
            done = courier.request(
                "POST", f"/api/v1/field/deliveries/{delivery.id}/deliver/",
                data={"recipient_name": "Siti Rahmawati", "recipient_relation": "spouse",
                      "receipt_code": receipt, "latitude": "-6.238120",
                      "longitude": "107.010190"},
                files={"photo": ("foto.jpg", jpeg(), "image/jpeg")})
        assert done.status_code == 200, done.text
        return DeliveryAttempt.objects.get(delivery=delivery)

    def complaint_by_whatsapp(self, resident, text):
        """Public relations log what he wrote to the WhatsApp centre, linked by NIK."""
        with travel(7, 4, 19, 30):
            answer = self.humas.post(reverse("admin:complaints_complaint_add"), {
                "office": self.office.pk, "channel": "whatsapp", "text": text,
                "category": "other", "posted_at_0": "2022-07-04", "posted_at_1": "19:05",
                "link_by": "nik", "link_value": resident.nik,
                "assignee": self.humas_user.pk})
        assert answer.status_code == 302, answer.content.decode()[:3000]
        return Complaint.objects.get(resident=resident)

    def chronology(self, complaint) -> str:
        with travel(7, 5, 9, 0):
            page = reverse("admin:complaints_complaint_change", args=[complaint.pk])
            assert self.humas.post(page, {"op": "generate"}).status_code == 302
        chronology = complaint.chronologies.order_by("-version").first()
        return "\n".join(point["text"] for point in chronology.generated)


@contextmanager
def queued_for_the_worker():
    """Tasks queued meanwhile wait in the broker for the worker (the calls that follow)
    instead of running at once."""
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager


def trips(resident) -> set[date]:
    """The days he came to the office for this case: a ticket from the kiosk or the
    desk, or being sent away at the door."""
    days = {ticket.day for ticket in Ticket.objects.filter(resident=resident)}
    days |= {turn.at.astimezone(WIB).date() for turn in TurnAway.objects.filter(
        resident=resident)}
    return days


def served_on_the_day(kota, central_sim, application):
    """1 July from 08:00: called, started; the link is down from 09:00; finished at
    09:10 as served; the waiting work goes when the link is back, printed at 13:02."""
    with travel(7, 1, 7, 55):
        kota.counter("open")
    with travel(7, 1, 8, 0):
        called = kota.counter("call-next")
    with travel(7, 1, 8, 1):
        kota.counter("start")
    kota.link_down_from_nine(central_sim)
    with travel(7, 1, 9, 10):
        kota.counter("finish", outcome="served")
    application.refresh_from_db()
    assert application.status == "in_progress"
    return called


FACTS_OF_THE_NINE_POINTS = {
    1: ("booked by the phone desk on 31 May", "31 Mei 2022"),
    2: ("the missed booking expired", "kedaluwarsa"),
    3: ("re-booked for 1 July 08:00", "1 Juli 2022"),
    4: ("lost card + signature change before the visit", "KTP-el hilang"),
    5: ("ticket C-001 of lane C", "C-001"),
    6: ("outage 09:00 to 13:00", "09.00 sampai 13.00"),
    7: ("printed at 13:02", "pukul 13.02 WIB, KTP-el dicetak"),
    8: ("delivered to his wife on Monday", "diterima oleh istri pemohon"),
    9: ("the complaint", "pengaduan"),
}


def assert_nine_points(text):
    missing = [label for _n, (label, needle) in FACTS_OF_THE_NINE_POINTS.items()
               if needle not in text]
    assert missing == [], text


def test_the_real_case_with_a_feature_phone_takes_one_trip(
        office_a, make_staff, live_server, http, central_sim, sms_gateway):
    kota = Office(office_a, make_staff, live_server)
    sms = sms_gateway

    # March: with his wife at the desk for her family card, he is registered, his
    # feature phone bound and SMS chosen.
    with travel(3, 14, 10, 0):
        budi = kota.register(nik=make_nik(regency="3275", born=date(1985, 3, 12), serial=1),
                             name="Budi Santoso", birth_date="1985-03-12")
        kota.bind_phone(budi, PHONE, sms)
        token = kota.phone_desk_token(budi)
        kota.phone_desk(token, "phone-type", phone_type="feature_phone")
    budi.refresh_from_db()
    assert budi.phone_type == "feature_phone"

    # Tuesday 31 May: he calls the WhatsApp centre; the phone desk books him a signature
    # change for Thursday 30 June, 09:00, and he is told by SMS.
    with travel(5, 31, 10, 0):
        slots_ensure(office=office_a, start=date(2022, 6, 30), end=date(2022, 7, 1))
        slot = Slot.objects.get(office=office_a, lane__letter="C", date=date(2022, 6, 30),
                                start="09:00")
        token = kota.phone_desk_token(budi)
        kota.phone_desk(token, "rebook", services=[SIGNATURE], slot=slot.pk,
                        doc_KK="has", doc_KTP_LAMA="has")
    first = Booking.objects.get(resident=budi)
    assert (first.channel, first.created_by) == ("assisted", kota.desk_user)
    assert first.code in sms.received(PHONE)[-1]["body"]

    # He misses Thursday. Friday 00:05 the booking expires; the SMS offers two times.
    with travel(7, 1, 0, 5):
        bookings_expire_due.run()
    first.refresh_from_db()
    assert first.status == "expired"
    offer = sms.received(PHONE)[-1]["body"]
    assert "Balas 1" in offer
    assert "aplikasi" not in offer

    # 06:10 he replies 1 from his phone: booked for 08:00, told by SMS.
    with travel(7, 1, 6, 10):
        status, _body = sms.reply(phone=PHONE, text="1", base_url=live_server.url,
                                  gateway_id="gw-0001")
        assert status == 200
        # The gateway retries the same message: nothing new.
        assert sms.reply(phone=PHONE, text="1", base_url=live_server.url,
                         gateway_id="gw-0001")[0] == 200
    booking = Booking.objects.get(resident=budi, status="booked")
    assert (booking.channel, booking.slot.date, f"{booking.slot.start:%H:%M}") == \
        ("sms", date(2022, 7, 1), "08:00")
    assert booking.application_id == first.application_id
    assert booking.code in sms.received(PHONE)[-1]["body"]

    # 07:00 he calls again: the card is lost. The phone desk's pre-check says what that
    # makes of the visit; the booking becomes lost card + signature change, and the SMS
    # tells him the police letter (28 June) must be valid on the day.
    with travel(7, 1, 7, 0):
        token = kota.phone_desk_token(budi)
        checked = kota.phone_desk(token, "check", services=[SIGNATURE], doc_KK="has",
                                  doc_KTP_LAMA="lost")
        [problem] = checked.context["problems"]
        assert (problem["code"], problem["instead"]["services"]) == ("lost", [LOST, SIGNATURE])
        kota.phone_desk(token, "change", services=[LOST, SIGNATURE], doc_KK="has",
                        doc_KTP_LAMA="lost", doc_SURAT_KEHILANGAN="has",
                        issued_SURAT_KEHILANGAN="2022-06-28")
    booking.refresh_from_db()
    assert booking.application.service_set.codes == [LOST, SIGNATURE]
    told = sms.received(PHONE)[-1]["body"]
    assert "Surat keterangan kehilangan dari Kepolisian harus masih berlaku" in told

    # 07:30 the kiosk gives him C-001; one ticket for both services.
    with travel(7, 1, 7, 30):
        ticket = kota.check_in(booking.code)
    assert ticket.code == "C-001"
    served_on_the_day(kota, central_sim, booking.application)
    # Served at 09:10, he is told the outage holds his card (reply ANTAR for delivery)
    # and invited to rate the visit by SMS (IKM and nine digits).
    since_served = [m["body"] for m in sms.received(PHONE)[-2:]]
    [outage_sms] = [body for body in since_served if "ANTAR" in body]
    assert outage_sms.endswith("balas SMS ini dengan ANTAR.")
    [survey_sms] = [body for body in since_served if body.startswith("Mohon nilai")]
    assert "balas IKM" in survey_sms
    with travel(7, 1, 9, 15):
        assert sms.reply(phone=PHONE, text="ANTAR", base_url=live_server.url)[0] == 200
    assert "Pengantaran kartu" in sms.received(PHONE)[-1]["body"]
    with travel(7, 1, 9, 20):
        assert sms.reply(phone=PHONE, text="IKM 3 4 3 3 4 4 4 2 3 server pusat mati",
                         base_url=live_server.url)[0] == 200
    assert sms.received(PHONE)[-1]["body"].startswith("Terima kasih")
    answer = SurveyAnswer.objects.get(application=booking.application)
    assert (answer.scores()["U8"], answer.comment) == (2, "server pusat mati")

    kota.link_back_at_one(central_sim)
    application = Application.objects.get(pk=booking.application_id)
    kota.print_at(application)
    application.refresh_from_db()
    assert application.card.printed_at == wib(7, 1, 13, 2)
    attempt = kota.deliver_monday_to_the_wife(application, http)
    assert (attempt.recipient_relation, attempt.at) == ("spouse", wib(7, 4, 10, 15))
    assert attempt.photo.name

    assert trips(budi) == {date(2022, 7, 1)}  # one trip

    complaint = kota.complaint_by_whatsapp(
        budi, "Saya sudah bolak-balik urus KTP, server pusat mati, KTP diantar ke istri.")
    assert complaint.application_id == application.id
    text = kota.chronology(complaint)
    assert_nine_points(text)
    # Opened for what he asked for then; the change to a lost card is a point of its own.
    assert "berkas " + application.number + " (Perubahan tanda tangan" in text


def app(http, resident):
    """His app, signed in (tokens as the app holds them at that moment)."""
    return http.with_token(tokens_for_resident(resident)["access"])


def test_the_same_journey_with_the_app(office_a, make_staff, live_server, http, central_sim,
                                       sms_gateway):
    kota = Office(office_a, make_staff, live_server)
    nik = make_nik(regency="3275", born=date(1990, 4, 2), serial=2)

    # He is on the office's records with his address and the phone he bound in the app
    # last year. 31 May: he signs in (the code comes by SMS to that phone) and books a
    # signature change for Thursday 30 June, 09:00.
    rudi = ResidentFactory(nik=nik, name="Rudi Hartono", domicile_office=office_a,
                           phone="+6281277770002", phone_bound_at=wib(1, 10, 9),
                           address="Jl. Kenari No. 3", kecamatan="Bekasi Timur",
                           kelurahan="Margahayu")
    with travel(5, 31, 19, 40):
        assert http.post("/api/v1/auth/otp/", {
            "nik": nik, "phone": "081277770002"}).status_code == 202
        code = re.search(r"\b(\d{6})\b",
                         sms_gateway.received("081277770002")[-1]["body"]).group(1)
        assert http.post("/api/v1/auth/token/", {"nik": nik, "otp": code}).status_code == 200
        slots = http.get("/api/v1/offices/3275/slots/?service=KTP_TTD_FOTO"
                         "&date_from=2022-06-30&date_to=2022-06-30").json()["results"]
        first = app(http, rudi).post("/api/v1/bookings/", {
            "office": "3275", "service": SIGNATURE,
            "slot": next(s["id"] for s in slots if s["start"].endswith("09:00:00+07:00")),
            "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]})
        assert first.status_code == 201, first.json()

    with travel(7, 1, 0, 5):
        bookings_expire_due.run()
    with travel(7, 1, 6, 10):
        api = app(http, rudi)
        inbox = api.get("/api/v1/notifications/").json()["results"]
        assert "aplikasi" in inbox[0]["body"]  # re-book in the app
        # His old card is gone: the pre-check says what the visit becomes.
        check = api.post("/api/v1/requirement-checks/", {
            "office": "3275", "service": SIGNATURE, "visit_date": "2022-07-01",
            "documents": [{"requirement": "KK"},
                          {"requirement": "KTP_LAMA", "lost": True}]}).json()
        [problem] = check["problems"]
        assert (problem["code"], problem["instead"]["services"]) == ("lost", [LOST, SIGNATURE])
        assert "masih berlaku pada hari kunjungan 1 Juli 2022" in problem["message"]
        slots = http.get(f"/api/v1/offices/3275/slots/?service={LOST}&services={SIGNATURE}"
                         "&date_from=2022-07-01&date_to=2022-07-01").json()["results"]
        booked = api.post("/api/v1/bookings/", {
            "office": "3275", "service": LOST, "services": [SIGNATURE],
            "slot": slots[0]["id"],
            "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA", "lost": True},
                          {"requirement": "SURAT_KEHILANGAN", "issued_on": "2022-06-28"}]})
        assert booked.status_code == 201, booked.json()
        assert booked.json()["application"] == first.json()["application"]
        assert booked.json()["slot"]["start"] == "2022-07-01T08:00:00+07:00"

    with travel(7, 1, 7, 30):
        ticket = kota.check_in(booked.json()["code"])
    assert ticket.code == "C-001"
    application = Application.objects.get(pk=booked.json()["application"])
    served_on_the_day(kota, central_sim, application)
    with travel(7, 1, 9, 15):
        api = app(http, rudi)
        # The outage notice offers delivery in the app; the survey invitation came too.
        bodies = [n["body"] for n in api.get("/api/v1/notifications/").json()["results"][:2]]
        assert sorted(("di aplikasi" in b, b.startswith("Mohon nilai")) for b in bodies) == [
            (False, True), (True, False)]
        chosen = api.post(f"/api/v1/applications/{application.id}/handover/",
                          {"method": "delivery"})
        assert chosen.status_code == 200, chosen.json()
    kota.link_back_at_one(central_sim)
    kota.print_at(application)
    kota.deliver_monday_to_the_wife(application, http)
    assert trips(rudi) == {date(2022, 7, 1)}

    with travel(7, 4, 19, 5):
        filed = app(http, rudi).post("/api/v1/complaints/", {
            "office": "3275", "application": application.id,
            "text": "Server pusat mati, KTP saya baru sampai hari Senin."})
        assert filed.status_code == 201, filed.json()
    complaint = Complaint.objects.get(resident=rudi)
    text = kota.chronology(complaint)
    assert_nine_points(text)


def test_the_same_journey_with_no_phone_at_all(office_a, make_staff, live_server, http,
                                               central_sim, sms_gateway):
    """Everything at the desk and on paper: the slip says what to bring and what to do
    if he misses the day; nothing is sent to a phone."""
    kota = Office(office_a, make_staff, live_server)
    with travel(5, 31, 10, 0):
        pak = kota.register(nik=make_nik(regency="3275", born=date(1958, 2, 3), serial=3),
                            name="Sutrisno", birth_date="1958-02-03")
        token = kota.phone_desk_token(pak)
        kota.phone_desk(token, "phone-type", phone_type="none")
        slots_ensure(office=office_a, start=date(2022, 6, 30), end=date(2022, 7, 1))
        slot = Slot.objects.get(office=office_a, lane__letter="C", date=date(2022, 6, 30),
                                start="09:00")
        kota.phone_desk(token, "rebook", services=[SIGNATURE], slot=slot.pk,
                        doc_KK="has", doc_KTP_LAMA="has")
        first = Booking.objects.get(resident=pak)
        slip = kota.desk.get(reverse("appointments:slip", args=[first.code]))
        assert slip.status_code == 200
        assert "KTP-el lama" in slip.content.decode()

    with travel(7, 1, 0, 5):
        bookings_expire_due.run()
    told = pak.notifications.order_by("-created_at").first()
    assert "aplikasi" not in told.body

    # 07:20 he is at the desk: the booking has expired; the pre-check at the desk
    # finds the card lost, and he is booked for 08:00 today as lost card + signature
    # change with the police letter he brought (28 June).
    with travel(7, 1, 7, 20):
        token = kota.phone_desk_token(pak)
        checked = kota.phone_desk(token, "check", services=[SIGNATURE], doc_KK="has",
                                  doc_KTP_LAMA="lost")
        assert checked.context["problems"][0]["code"] == "lost"
        today = Slot.objects.get(office=office_a, lane__letter="C", date=date(2022, 7, 1),
                                 start="08:00")
        kota.phone_desk(token, "rebook", services=[LOST, SIGNATURE], slot=today.pk,
                        doc_KK="has", doc_KTP_LAMA="lost", doc_SURAT_KEHILANGAN="has",
                        issued_SURAT_KEHILANGAN="2022-06-28")
    booking = Booking.objects.get(resident=pak, status="booked")
    assert booking.application_id == first.application_id
    with travel(7, 1, 7, 30):
        assert kota.check_in(booking.code).code == "C-001"
    application = booking.application
    served_on_the_day(kota, central_sim, application)
    told = pak.notifications.get(kind="central.outage").body
    assert told.endswith("sampaikan ke loket depan atau hubungi +6281100003275.")
    # He tells the desk: home delivery, chosen for him in the admin.
    handover = application.handover
    with travel(7, 1, 9, 20):
        chosen = kota.desk.post(reverse("admin:deliveries_handover_choose",
                                        args=[handover.pk]), {"method": "delivery"})
        assert chosen.status_code == 302, chosen.content.decode()[:2000]
    kota.link_back_at_one(central_sim)
    kota.print_at(application)
    kota.deliver_monday_to_the_wife(application, http)
    # The day he came to be served; his first contact at the desk on 31 May made the
    # booking (he has no phone to call from).
    assert trips(pak) == {date(2022, 7, 1)}
    # Nothing was ever sent to a phone: he has none.
    assert not NotificationDelivery.objects.filter(notification__resident=pak).exclude(
        channel="push").exists()
