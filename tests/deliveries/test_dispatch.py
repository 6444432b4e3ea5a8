"""The morning dispatch: working days only, balanced loads within the office's maximum,
routes by area and distance, run twice without assigning twice; and what happens at
the door."""

import io
import threading
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from registry.deliveries.models import (
    CourierAbsence,
    Delivery,
    DeliveryAttempt,
    DeliverySettings,
    DispatchRun,
    Handover,
)
from registry.deliveries.services.couriers import (
    courier_absence_add,
    delivery_deliver,
    delivery_fail,
    delivery_reopen,
)
from registry.deliveries.services.dispatch import (
    deliveries_dispatch,
    deliveries_dispatch_due,
    deliveries_notify_scheduled,
)
from registry.deliveries.services.handovers import handover_choose
from registry.errors import Conflict, DomainError, NotFound
from registry.models import ApplicationStatus, Closure, Notification, Role
from tests.deliveries.conftest import MONDAY, coords

pytestmark = pytest.mark.django_db
WIB = ZoneInfo("Asia/Jakarta")


def jpeg(size=(64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, format="JPEG")
    return SimpleUploadedFile("bukti.jpg", buffer.getvalue(), content_type="image/jpeg")


def make_waiting(printed, count, kecamatan="Bekasi Timur", kelurahan="Margahayu", **extra):
    return [printed(method="delivery", kecamatan=kecamatan, kelurahan=kelurahan, **extra)
            for _i in range(count)]


def test_dispatch_balances_loads_within_the_maximum_and_groups_by_area(
        printed, office_a, make_staff, queued_deliveries, committed):
    DeliverySettings.objects.create(office=office_a, max_per_courier=4)
    couriers = [make_staff(office_a, Role.COURIER, username=f"kurir-{n}") for n in "abc"]
    make_waiting(printed, 6, kecamatan="Rawalumbu", kelurahan="Bojong")
    make_waiting(printed, 5, kecamatan="Bekasi Barat", kelurahan="Kranji")
    queued_deliveries.clear()
    with committed():
        run = deliveries_dispatch(office=office_a, day=MONDAY)

    assert (run.couriers, run.assigned, run.left_waiting, run.runs) == (3, 11, 0, 1)
    loads = {c.username: list(Delivery.objects.filter(courier=c).order_by("route_position")
                              .values_list("kecamatan", "route_position"))
             for c in couriers}
    assert sorted(len(v) for v in loads.values()) == [3, 4, 4]
    assert [p for _k, p in loads["kurir-a"]] == [1, 2, 3, 4]
    # Contiguous shares in area order: the first courier takes Bekasi Barat.
    assert {k for k, _p in loads["kurir-a"]} == {"Bekasi Barat"}
    assert Delivery.objects.filter(status="assigned", scheduled_for=MONDAY).count() == 11
    events = Delivery.objects.first().application.events.filter(kind="delivery.scheduled")
    assert events.count() == 1
    assert queued_deliveries == [("deliveries.tasks.deliveries_notify_scheduled",
                                  (office_a.id, "2022-07-04"))]


def test_running_twice_assigns_nothing_twice_and_fills_only_the_room_left(
        printed, office_a, make_staff):
    DeliverySettings.objects.create(office=office_a, max_per_courier=3)
    courier = make_staff(office_a, Role.COURIER)
    make_waiting(printed, 2)
    deliveries_dispatch(office=office_a, day=MONDAY)
    before = list(Delivery.objects.order_by("id").values_list("id", "courier_id",
                                                              "route_position"))
    run = deliveries_dispatch(office=office_a, day=MONDAY)
    assert run.assigned == 2
    assert run.runs == 2
    assert list(Delivery.objects.order_by("id").values_list(
        "id", "courier_id", "route_position")) == before
    make_waiting(printed, 2)
    run = deliveries_dispatch(office=office_a, day=MONDAY)
    assert (run.assigned, run.left_waiting) == (3, 1)
    assert sorted(Delivery.objects.filter(courier=courier).values_list(
        "route_position", flat=True)) == [1, 2, 3]
    assert DispatchRun.objects.count() == 1


def test_oldest_first_when_couriers_are_short_and_absent_couriers_get_nothing(
        printed, office_a, make_staff):
    DeliverySettings.objects.create(office=office_a, max_per_courier=2)
    present = make_staff(office_a, Role.COURIER, username="hadir")
    absent = make_staff(office_a, Role.COURIER, username="cuti")
    courier_absence_add(office=office_a, courier=absent, day=MONDAY, reason="Cuti")
    waiting = make_waiting(printed, 3)
    run = deliveries_dispatch(office=office_a, day=MONDAY)
    assert (run.couriers, run.assigned, run.left_waiting) == (1, 2, 1)
    assigned = set(Delivery.objects.filter(courier=present).values_list("application_id",
                                                                        flat=True))
    assert assigned == {waiting[0].id, waiting[1].id}
    assert not Delivery.objects.filter(courier=absent).exists()
    assert CourierAbsence.objects.count() == 1


def test_routes_go_nearest_first_from_the_office(printed, office_a, make_staff):
    office_a.latitude, office_a.longitude = -6.235, 107.006
    office_a.save()
    courier = make_staff(office_a, Role.COURIER)
    far = printed(method="delivery", **coords("-6.300000", "107.100000"))
    near = printed(method="delivery", **coords("-6.236000", "107.007000"))
    middle = printed(method="delivery", **coords("-6.260000", "107.040000"))
    unknown = printed(method="delivery", kelurahan="Aren Jaya")
    deliveries_dispatch(office=office_a, day=MONDAY)
    route = list(Delivery.objects.filter(courier=courier).order_by("route_position")
                 .values_list("application_id", flat=True))
    assert route == [near.id, middle.id, far.id, unknown.id]


def test_no_dispatch_on_a_closed_day_and_the_beat_waits_for_the_morning(
        printed, office_a, office_b, make_staff, queued_deliveries, mocker):
    make_staff(office_a, Role.COURIER)
    make_waiting(printed, 1)
    saturday = date(2022, 7, 2)
    with pytest.raises(DomainError) as closed:
        deliveries_dispatch(office=office_a, day=saturday)
    assert closed.value.code == "closed_day"
    assert DispatchRun.objects.count() == 0
    queued_deliveries.clear()
    for moment in (datetime(2022, 7, 2, 9, 0, tzinfo=WIB),  # Saturday
                   datetime(2022, 7, 4, 6, 30, tzinfo=WIB)):  # Monday, before 07:00
        assert deliveries_dispatch_due(now=moment) == []
    # Monday 07:05: one task per office due, as a Celery group (office_b too: the
    # morning's run is recorded even with nothing to assign), each with its local day.
    fanned = []
    mocker.patch("registry.deliveries.services.dispatch.fan_out",
                 side_effect=lambda task, ids, *args: fanned.append((task.name, ids, args)))
    with time_machine.travel(datetime(2022, 7, 4, 7, 5, tzinfo=WIB), tick=False):
        assert deliveries_dispatch_due() == [office_a.id, office_b.id]
    assert fanned == [("deliveries.tasks.deliveries_dispatch", [office_a.id, office_b.id],
                       ("2022-07-04",))]
    # Once an office has dispatched that day, or is closed, the beat leaves it out.
    deliveries_dispatch(office=office_a, day=date(2022, 7, 4))
    Closure.objects.create(office=office_b, date=date(2022, 7, 4), reason="Banjir")
    with time_machine.travel(datetime(2022, 7, 4, 7, 10, tzinfo=WIB), tick=False):
        assert deliveries_dispatch_due() == []
    assert queued_deliveries == []


def test_residents_are_told_once_that_the_card_comes_today(printed, office_a, make_staff):
    make_staff(office_a, Role.COURIER)
    waiting = make_waiting(printed, 2)
    deliveries_dispatch(office=office_a, day=MONDAY)
    assert deliveries_notify_scheduled(office_id=office_a.id, day=MONDAY) == 0
    assert deliveries_notify_scheduled(office_id=office_a.id, day=MONDAY) == 0
    told = Notification.objects.filter(kind="delivery.today")
    assert sorted(told.values_list("application_id", flat=True)) == sorted(
        a.id for a in waiting)
    assert "04-07-2022" in told.first().body


@pytest.fixture
def out_today(printed, office_a, courier_a):
    application = printed(method="delivery")
    deliveries_dispatch(office=office_a, day=MONDAY)
    return Delivery.objects.get(application=application)


def test_delivered_with_recipient_code_photo_and_place(out_today, courier_a):
    card = out_today.handover.card
    delivery_deliver(
        delivery_id=out_today.id, courier=courier_a, recipient_name="Siti Rahmawati",
        recipient_relation="spouse", receipt_code=card.receipt_code, photo=jpeg(),
        latitude=-6.2381, longitude=107.0102)
    out_today.refresh_from_db()
    assert (out_today.status, out_today.recipient_name, out_today.recipient_relation) == (
        "delivered", "Siti Rahmawati", "spouse")
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.outcome, str(attempt.latitude), str(attempt.longitude)) == (
        "delivered", "-6.238100", "107.010200")
    assert attempt.photo.name.startswith(f"deliveries/{out_today.office_id}/")
    assert attempt.photo.read()[:2] == b"\xff\xd8"
    application = out_today.application
    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED
    handover = Handover.objects.get(pk=out_today.handover_id)
    assert (handover.collected_by_name, handover.collected_relation) == (
        "Siti Rahmawati", "spouse")
    with pytest.raises(Conflict):
        delivery_deliver(
            delivery_id=out_today.id, courier=courier_a, recipient_name="Siti",
            recipient_relation="spouse", receipt_code=card.receipt_code, photo=jpeg(),
            latitude=-6.2, longitude=107.0)


@pytest.mark.parametrize(("change", "code"), [
    ({"receipt_code": "ZZZZ-ZZZZ"}, "receipt_code_wrong"),
    ({"photo": SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a photo")}, "photo_type"),
    ({"photo": SimpleUploadedFile("x.jpg", b"\xff\xd8\xff\xe0" + b"0" * 400)},
     "photo_broken"),
    ({"photo": None}, "photo_required"),
    ({"recipient_relation": "neighbour"}, "recipient_relation_invalid"),
    ({"latitude": None}, "location_required"),
    ({"latitude": 123}, "location_invalid"),
])
def test_a_refused_delivery_changes_nothing(out_today, courier_a, change, code):
    kwargs = {"recipient_name": "Siti", "recipient_relation": "spouse",
              "receipt_code": out_today.handover.card.receipt_code, "photo": jpeg(),
              "latitude": -6.2, "longitude": 107.0, **change}
    with pytest.raises(DomainError) as refused:
        delivery_deliver(delivery_id=out_today.id, courier=courier_a, **kwargs)
    assert refused.value.code == code
    out_today.refresh_from_db()
    assert (out_today.status, out_today.recipient_name) == ("assigned", "")
    assert DeliveryAttempt.objects.count() == 0
    assert not out_today.application.events.filter(kind="delivery.delivered").exists()


def test_another_couriers_delivery_is_not_found(out_today, make_staff, office_a, office_b):
    other = make_staff(office_a, Role.COURIER, username="kurir-lain")
    elsewhere = make_staff(office_b, Role.COURIER, username="kurir-kab")
    for courier in (other, elsewhere):
        with pytest.raises(NotFound):
            delivery_fail(delivery_id=out_today.id, courier=courier,
                          reason="nobody_home")
    assert Delivery.objects.get(pk=out_today.pk).status == "assigned"


def test_failed_deliveries_go_again_on_the_next_working_day_then_return_to_pickup(
        out_today, courier_a, office_a):
    friday = date(2022, 7, 8)
    for attempt, day in enumerate([MONDAY, date(2022, 7, 5), friday], start=1):
        if attempt > 1:
            deliveries_dispatch(office=office_a, day=day)
        delivery = delivery_fail(delivery_id=out_today.id, courier=courier_a,
                                 reason="nobody_home", note="Rumah kosong")
        if attempt == 1:
            assert (delivery.status, delivery.not_before) == ("waiting", date(2022, 7, 5))
            # Not dispatched again the same day.
            assert deliveries_dispatch(office=office_a, day=MONDAY).assigned == 1
            assert Delivery.objects.get(pk=out_today.pk).status == "waiting"
    delivery = Delivery.objects.get(pk=out_today.pk)
    assert (delivery.status, delivery.failed_attempts) == ("returned", 3)
    assert Handover.objects.get(pk=delivery.handover_id).method == "pickup"
    resident = delivery.application.resident
    assert list(resident.notifications.filter(kind__startswith="delivery.").order_by(
        "id").values_list("kind", flat=True)) == [
        "delivery.failed", "delivery.failed", "delivery.returned"]
    failed = resident.notifications.filter(kind="delivery.failed").order_by("id").first()
    assert failed.body.endswith("Kartu akan diantar lagi pada 05-07-2022.")
    with pytest.raises(DomainError) as again:
        handover_choose(application=delivery.application, method="delivery")
    assert again.value.code == "delivery_returned"


def test_a_friday_failure_goes_out_on_monday(printed, office_a, courier_a):
    friday = date(2022, 7, 1)
    application = printed(method="delivery")
    deliveries_dispatch(office=office_a, day=friday)
    delivery = Delivery.objects.get(application=application)
    delivery = delivery_fail(delivery_id=delivery.id, courier=courier_a,
                             reason="address_not_found")
    assert delivery.not_before == MONDAY


def test_an_unattempted_delivery_is_dispatched_again(out_today, office_a, courier_a):
    run = deliveries_dispatch(office=office_a, day=date(2022, 7, 5))
    assert run.assigned == 1
    out_today.refresh_from_db()
    assert out_today.scheduled_for == date(2022, 7, 5)
    assert out_today.application.events.filter(kind="delivery.not_attempted").count() == 1


def test_a_supervisor_reopens_a_delivery_with_a_reason(out_today, courier_a, make_staff,
                                                       office_a):
    delivery_deliver(
        delivery_id=out_today.id, courier=courier_a, recipient_name="Tetangga",
        recipient_relation="other_family", receipt_code=out_today.handover.card.receipt_code,
        photo=jpeg(), latitude=-6.2, longitude=107.0)
    with pytest.raises(NotFound):
        delivery_reopen(delivery=out_today, by=courier_a, reason="Klaim warga")
    supervisor = make_staff(office_a, Role.SUPERVISOR)
    with pytest.raises(DomainError):
        delivery_reopen(delivery=out_today, by=supervisor, reason="")
    delivery_reopen(delivery=out_today, by=supervisor,
                    reason="Warga menyatakan kartu belum diterima")
    out_today.refresh_from_db()
    assert (out_today.status, out_today.reopen_reason, out_today.reopened_by) == (
        "waiting", "Warga menyatakan kartu belum diterima", supervisor)
    assert DeliveryAttempt.objects.count() == 1  # the proof stays
    application = out_today.application
    application.refresh_from_db()
    assert application.status == ApplicationStatus.READY
    assert application.events.get(kind="delivery.reopened").message == (
        "Supervisor membuka kembali pengantaran: Warga menyatakan kartu belum diterima")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatches_at_once_assign_each_card_once(printed, office_a, make_staff):
    for name in ("a", "b", "c"):
        make_staff(office_a, Role.COURIER, username=f"kurir-{name}")
    make_waiting(printed, 30)
    errors = []

    def run():
        try:
            deliveries_dispatch(office=office_a, day=MONDAY)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Delivery.objects.filter(status="assigned").count() == 30
    positions = list(Delivery.objects.values_list("courier_id", "route_position"))
    assert len(set(positions)) == 30
    assert DispatchRun.objects.get().runs == 4
    from registry.models import CaseEvent

    assert CaseEvent.objects.filter(kind="delivery.scheduled").count() == 30
