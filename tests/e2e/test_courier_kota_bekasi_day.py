"""The Kota Bekasi day of DESIGN.md, replayed end to end with controlled time.

Friday 1 July 2022: Budi Santoso is served at 09:30 for a new signature on his KTP-el,
while the link to the central server has been down since 09:00. He is told, chooses
home delivery in the app and leaves. The link is back at 13:00; the waiting work is
sent by itself and the card printed. The office is closed on the weekend: the card is
dispatched on Monday 4 July and delivered to his wife, Siti, who gives the receipt
code. Every step is on his case's timeline.

The Celery tasks run as a worker would run them: each queued task is taken from the
queue in order (the broker), and beat's periodic tasks are called at their times.
"""

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from registry.api.auth import tokens_for_resident, tokens_for_staff
from registry.central.models import CentralOutage
from registry.central.services.jobs import application_visit_completed, central_jobs_resend_due
from registry.central.tasks import central_link_check
from registry.deliveries.models import Delivery, DeliveryAttempt, DispatchRun
from registry.deliveries.services.dispatch import deliveries_dispatch_due
from registry.models import ApplicationStatus, Channel, Role
from registry.services.cases import application_open
from tests.factories import ResidentFactory, card_stock_for, make_nik

pytestmark = pytest.mark.django_db(transaction=True)
WIB = ZoneInfo("Asia/Jakarta")


def wib(day, hour, minute=0):
    return datetime(2022, 7, day, hour, minute, tzinfo=WIB)


class Broker:
    """Tasks queued after commit, run in order by `drain()` as a worker would."""

    def __init__(self):
        self.queue = []

    def publish(self, task, *args, **kwargs):
        self.queue.append((task, args))
        return True

    def fan_out(self, task, office_ids, *args):
        """registry.background.fan_out: one task per office, queued here too."""
        for office_id in office_ids:
            self.publish(task, office_id, *args)
        return len(office_ids)

    def drain(self):
        ran = []
        while self.queue:
            task, args = self.queue.pop(0)
            ran.append(task.name)
            task.run(*args)
        return ran


@pytest.fixture
def broker(mocker):
    broker = Broker()
    mocker.patch("registry.background.enqueue_now", side_effect=broker.publish)
    mocker.patch("registry.deliveries.services.dispatch.fan_out", side_effect=broker.fan_out)
    return broker


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (90, 140, 60)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_the_kota_bekasi_day(office_a, make_staff, central_sim, broker, client):
    office_a.latitude, office_a.longitude = -6.235, 107.006
    office_a.save()
    card_stock_for(office_a, on_hand=200, alert_below=20)
    courier = make_staff(office_a, Role.COURIER, username="kota.kurir", first_name="Joko")
    desk = make_staff(office_a, Role.COUNTER_OPERATOR, username="kota.loket")
    budi = ResidentFactory(domicile_office=office_a, name="Budi Santoso",
                           nik=make_nik(serial=1), address="Jl. Melati No. 7 RT 03/RW 05",
                           kecamatan="Bekasi Timur", kelurahan="Margahayu",
                           latitude="-6.238100", longitude="107.010200")
    signature = office_a.services.get(code="KTP_TTD_FOTO")

    # Friday 07:00: the morning dispatch finds nothing to deliver yet.
    with time_machine.travel(wib(1, 7, 5), tick=False):
        deliveries_dispatch_due()
        broker.drain()
    assert DispatchRun.objects.get().assigned == 0

    # 08:00 he is at the office with his booked case; the link is still up.
    with time_machine.travel(wib(1, 8, 0), tick=False):
        application = application_open(office=office_a, resident=budi,
                                       service=signature, channel=Channel.APP)
        central_link_check.run(office_a.id)
    # 09:00 the link goes down; beat checks every minute.
    central_sim.configure(office_a.code, down=True)
    for minute in (0, 1):
        with time_machine.travel(wib(1, 9, minute), tick=False):
            central_link_check.run(office_a.id)
            broker.drain()
    outage = CentralOutage.objects.get()
    assert (outage.started_at, outage.ended_at) == (wib(1, 9, 0), None)

    # 09:30 he is served at the counter: the work is queued, the send fails.
    with time_machine.travel(wib(1, 9, 30), tick=False):
        application_visit_completed(application=application, by=desk)
        broker.drain()
        office = client.get(f"/api/v1/offices/{office_a.code}/").json()
    assert office["link_status"] == "down"
    assert office["notice"]["since"] == "2022-07-01T09:00:00+07:00"
    told = budi.notifications.get(kind="central.outage")
    assert "sejak 01-07-2022 09:00 WIB" in told.body
    assert "atau memilih antar ke rumah di aplikasi" in told.body

    # 09:40 he has half a day off: he chooses home delivery in the app and leaves.
    with time_machine.travel(wib(1, 9, 40), tick=False):
        app_token = {"HTTP_AUTHORIZATION": f"Bearer {tokens_for_resident(budi)['access']}"}
        chosen = client.post(f"/api/v1/applications/{application.id}/handover/",
                             {"method": "delivery"}, content_type="application/json",
                             **app_token)
    assert chosen.status_code == 200
    assert (chosen.json()["method"], chosen.json()["status"]) == ("delivery", "waiting_card")

    # The outage goes on; retries wait with backoff, nothing is sent twice.
    for minute in (31, 45):
        with time_machine.travel(wib(1, 10, minute), tick=False):
            central_jobs_resend_due()
            broker.drain()
    assert central_sim.received() == []

    # 13:00 the link is back: the health check ends the outage and the work goes at once.
    central_sim.configure(office_a.code, down=False)
    with time_machine.travel(wib(1, 13, 0), tick=False):
        central_link_check.run(office_a.id)
        ran = broker.drain()
    assert ran.count("central.tasks.central_job_send") == 2
    outage.refresh_from_db()
    assert (outage.ended_at, outage.end_detection) == (wib(1, 13, 0), "health_check")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.READY
    ready = budi.notifications.get(kind="card.ready")
    receipt_code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", ready.body).group(0)
    assert "akan diantar ke rumah" in ready.body
    assert [r["times"] for r in central_sim.received()] == [1, 1]

    # Friday afternoon, Saturday and Sunday: beat finds no dispatch to run.
    for moment in (wib(1, 13, 5), wib(2, 7, 5), wib(3, 7, 5)):
        with time_machine.travel(moment, tick=False):
            assert deliveries_dispatch_due() == []
    delivery = Delivery.objects.get(application=application)
    assert (delivery.status, delivery.scheduled_for) == ("waiting", None)

    # Monday 07:05: the dispatch assigns it to the courier; he is told it comes today.
    with time_machine.travel(wib(4, 7, 5), tick=False):
        assert deliveries_dispatch_due() == [office_a.id]
        broker.drain()
    delivery.refresh_from_db()
    assert (delivery.status, str(delivery.scheduled_for), delivery.courier) == (
        "assigned", "2022-07-04", courier)
    today = budi.notifications.get(kind="delivery.today")
    assert "hari ini, 04-07-2022" in today.body

    # 10:15 at Jl. Melati: his wife receives it with the receipt code from his receipt.
    with time_machine.travel(wib(4, 10, 15), tick=False):
        staff_token = {"HTTP_AUTHORIZATION": f"Bearer {tokens_for_staff(courier)['access']}"}
        route = client.get("/api/v1/field/deliveries/?date=2022-07-04", **staff_token).json()
        assert [r["id"] for r in route["results"]] == [delivery.id]
        assert route["results"][0]["receipt_code"] == "****-**" + receipt_code[-2:]
        wrong = client.post(
            f"/api/v1/field/deliveries/{delivery.id}/deliver/",
            {"recipient_name": "Siti Rahmawati", "recipient_relation": "spouse",
             "receipt_code": "ABCD-EFGH", "latitude": "-6.238120", "longitude": "107.010190",
             "photo": SimpleUploadedFile("foto.jpg", jpeg(), "image/jpeg")}, **staff_token)
        assert (wrong.status_code, wrong.json()["code"]) == (400, "receipt_code_wrong")
        delivered = client.post(
            f"/api/v1/field/deliveries/{delivery.id}/deliver/",
            {"recipient_name": "Siti Rahmawati", "recipient_relation": "spouse",
             "receipt_code": receipt_code, "latitude": "-6.238120",
             "longitude": "107.010190",
             "photo": SimpleUploadedFile("foto.jpg", jpeg(), "image/jpeg")}, **staff_token)
        broker.drain()
    assert delivered.status_code == 200
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.recipient_name, attempt.recipient_relation, attempt.at) == (
        "Siti Rahmawati", "spouse", wib(4, 10, 15))
    assert attempt.photo.name.endswith(".jpg")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED

    # Every step on the timeline, in order, as the app shows it.
    with time_machine.travel(wib(4, 10, 30), tick=False):
        app_token = {"HTTP_AUTHORIZATION": f"Bearer {tokens_for_resident(budi)['access']}"}
        timeline = client.get(f"/api/v1/applications/{application.id}/",
                              **app_token).json()["timeline"]
    steps = [(entry["at"][:16], entry["kind"]) for entry in timeline]
    assert steps == [
        ("2022-07-01T08:00", "application.opened"),
        ("2022-07-01T09:30", "application.status"),
        ("2022-07-01T09:30", "central.job_queued"),
        ("2022-07-01T09:30", "central.job_queued"),
        # Served: the invitation to rate the visit (IKM survey) is sent in the counter's
        # transaction, the outage notice once the job is found waiting.
        ("2022-07-01T09:30", "notification.sent"),
        ("2022-07-01T09:30", "central.job_waiting"),
        ("2022-07-01T09:30", "notification.sent"),
        ("2022-07-01T09:40", "handover.chosen"),
        ("2022-07-01T13:00", "central.job_accepted"),
        ("2022-07-01T13:00", "card.printed"),
        ("2022-07-01T13:00", "application.status"),
        ("2022-07-01T13:00", "delivery.waiting"),
        ("2022-07-01T13:00", "notification.sent"),
        ("2022-07-04T07:05", "delivery.scheduled"),
        ("2022-07-04T07:05", "notification.sent"),
        ("2022-07-04T10:15", "delivery.delivered"),
        ("2022-07-04T10:15", "application.status"),
    ]
    messages = {entry["kind"]: entry["message"] for entry in timeline}
    assert messages["central.job_waiting"] == (
        "Server pusat tidak dapat dihubungi (jaringan terputus sejak 01-07-2022 09:00 WIB, "
        "perkiraan pulih sekitar 01-07-2022 11:00 WIB). Perubahan data menunggu dan dikirim "
        "otomatis begitu jaringan pulih.")
    assert messages["delivery.scheduled"] == (
        "Pengantaran dijadwalkan 2022-07-04 oleh kurir Joko (urutan 1).")
    assert messages["delivery.delivered"] == (
        "Kartu diantar dan diterima Siti Rahmawati (Suami/istri) dengan kode tanda terima; "
        "foto dan lokasi -6.23812, 107.01019 tercatat.")
