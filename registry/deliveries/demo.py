"""Demo data of printing, hand-over and delivery, run by `manage.py load_demo` after the
registry's. Safe to run again: it creates only what is missing.

Kota Bekasi gets blank cards, a past outage of its central link (09:00-13:00, the day
of DESIGN.md), and the case of its story: Budi Santoso's signature change, printed and
out for home delivery, plus a card already delivered to a spouse with its proof.
Kabupaten Bekasi runs low on blank cards, so its admin index shows the alert.
"""

import io
from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from registry.calendar import (
    office_is_working_day,
    office_local,
    office_next_working_day,
    office_today,
)
from registry.central.models import CardStock, CentralOutage
from registry.central.services.jobs import application_visit_completed, central_job_send
from registry.central.services.stock import card_stock_receive, card_stock_set_threshold
from registry.deliveries.models import Delivery, DeliverySettings, DeliveryStatus
from registry.deliveries.services.couriers import delivery_deliver
from registry.deliveries.services.dispatch import deliveries_dispatch
from registry.deliveries.services.handovers import handover_choose
from registry.models import Channel, Resident, Service
from registry.services.cases import application_open
from registry.services.offices import office_settings_get


def _demo_photo() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (214, 229, 240))
    ImageDraw.Draw(image).rectangle((200, 160, 440, 320), fill=(11, 92, 171))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg")


def _printed_case(office, nik: str, service_code: str):
    resident = Resident.objects.get(nik=nik)
    service = Service.objects.get(office=office, code=service_code)
    with transaction.atomic():
        application = application_open(
            office=office, resident=resident, service=service, channel=Channel.APP)
        application_visit_completed(application=application)
    for job in application.central_jobs.order_by("id"):
        central_job_send(job_id=job.id)
    return application


def seed(*, offices: dict, stdout=None) -> None:
    """`offices` maps the demo prefixes ("kota", "kab") to their Office."""
    kota, kab = offices["kota"], offices["kab"]
    for office, on_hand, alert_below in ((kota, 120, 50), (kab, 30, 50)):
        if not CardStock.objects.filter(office=office).exists():
            card_stock_set_threshold(office=office, alert_below=alert_below)
            card_stock_receive(office=office, quantity=on_hand,
                               note="Kiriman blangko Kemendagri")
        office_settings_get(DeliverySettings, office=office)

    if not CentralOutage.objects.filter(office=kota).exists():
        day = office_today(kota) - timedelta(days=1)
        CentralOutage.objects.create(
            office=kota, started_at=office_local(kota, day, time(9, 0)),
            ended_at=office_local(kota, day, time(13, 0)), detection="health_check",
            end_detection="health_check", cause="simulated link is down",
            expected_back=office_local(kota, day, time(11, 0)))

    if Delivery.objects.filter(office=kota).exists():
        return
    courier = get_user_model().objects.filter(username="kota.courier").first()
    # Budi Santoso's new signature, for home delivery.
    budi = _printed_case(kota, "3275011203850001", "KTP_TTD_FOTO")
    handover_choose(application=budi, method="delivery", by_resident=True)
    # Rina Marlina's replacement of a damaged card: delivered to her mother.
    rina = _printed_case(kota, "3275026001950003", "KTP_RUSAK")
    handover_choose(application=rina, method="delivery", by_resident=True)
    # Dedi Kurniawan's data change: he collects it himself.
    _printed_case(kota, "3275030808000004", "KTP_UBAH_DATA")
    if courier is None:
        return
    # Today's route, or the next working day's on a weekend or holiday (the courier
    # page opens it with ?date=).
    day = office_today(kota)
    if not office_is_working_day(kota, day):
        day = office_next_working_day(kota, day)
    deliveries_dispatch(office=kota, day=day)
    delivery = Delivery.objects.get(application=rina, status=DeliveryStatus.ASSIGNED)
    delivery_deliver(
        delivery_id=delivery.id, courier=courier, recipient_name="Sumarni",
        recipient_relation="parent", receipt_code=rina.card.receipt_code,
        photo=_demo_photo(), latitude="-6.226510", longitude="106.978920")
