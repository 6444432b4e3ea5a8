"""Admin of hand-over and delivery: the counter hand-over, the choice at the desk, the
supervisor's reopen and dispatch, proof export, and the protected photos."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from registry.deliveries.models import Delivery, DeliveryAttempt, Handover
from registry.deliveries.services.couriers import delivery_deliver
from registry.deliveries.services.dispatch import deliveries_dispatch
from registry.models import Role
from tests.deliveries.conftest import MONDAY

pytestmark = pytest.mark.django_db


def jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(buffer, format="JPEG")
    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_the_front_desk_hands_over_at_the_counter(printed, make_staff, client):
    application = printed()
    desk = make_staff(application.office, Role.FRONT_DESK)
    client.force_login(desk)
    handover = Handover.objects.get(application=application)
    url = reverse("admin:deliveries_handover_collect", args=[handover.pk])
    resident = application.resident
    wrong = client.post(url, {"receipt_code": "AAAA-BBBB", "collector_name": resident.name,
                              "collector_nik": resident.nik}, follow=True)
    assert "Kode tanda terima salah." in wrong.content.decode()
    assert Handover.objects.get(pk=handover.pk).completed_at is None
    done = client.post(url, {"receipt_code": handover.card.receipt_code,
                             "collector_name": resident.name, "collector_nik": resident.nik})
    assert done.status_code == 302
    handover.refresh_from_db()
    assert (handover.collected_relation, handover.handed_over_by) == ("self", desk)


def test_the_desk_records_a_proxy_choice_and_cannot_see_another_office(printed, make_staff,
                                                                        client, office_b):
    application = printed()
    desk = make_staff(application.office, Role.FRONT_DESK)
    client.force_login(desk)
    handover = Handover.objects.get(application=application)
    from tests.factories import make_nik

    wife = make_nik(female=True, serial=4242)
    client.post(reverse("admin:deliveries_handover_choose", args=[handover.pk]),
                {"method": "proxy", "proxy_name": "Siti", "proxy_nik": wife,
                 "proxy_relation": "spouse"})
    handover.refresh_from_db()
    assert (handover.method, handover.chosen_by) == ("proxy", desk)
    elsewhere = printed(office=office_b)
    other = Handover.objects.get(application=elsewhere)
    for name in ("deliveries_handover_choose", "deliveries_handover_collect",
                 "deliveries_handover_change"):
        assert client.get(reverse(f"admin:{name}", args=[other.pk])).status_code == 404


def test_a_supervisor_dispatches_reopens_and_exports_proofs(printed, make_staff, client,
                                                            courier_a, office_a, mocker):
    application = printed(method="delivery")
    supervisor = make_staff(office_a, Role.SUPERVISOR)
    client.force_login(supervisor)
    mocker.patch("registry.deliveries.services.dispatch.office_today", return_value=MONDAY)
    client.post(reverse("admin:deliveries_delivery_dispatch"), {"office": office_a.code})
    delivery = Delivery.objects.get(application=application)
    assert (delivery.status, delivery.courier) == ("assigned", courier_a)
    delivery_deliver(delivery_id=delivery.id, courier=courier_a,
                     recipient_name="Sumarni", recipient_relation="parent",
                     receipt_code=delivery.handover.card.receipt_code, photo=jpeg(),
                     latitude=-6.2, longitude=107.0)
    attempt = DeliveryAttempt.objects.get()

    page = client.get(reverse("admin:deliveries_delivery_change", args=[delivery.pk]))
    html = page.content.decode()
    assert reverse("deliveries:photo", args=[attempt.pk]) in html
    assert "openstreetmap.org/?mlat=-6.200000&amp;mlon=107.000000" in html
    assert client.get(reverse("deliveries:photo", args=[attempt.pk])).status_code == 200

    day = attempt.at.date()
    export = client.get(reverse("admin:deliveries_delivery_export"), {
        "office": office_a.id, "date_from": (day - timedelta(days=1)).isoformat(),
        "date_to": (day + timedelta(days=1)).isoformat()})
    assert export["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    rows = list(csv.DictReader(io.StringIO(archive.read("proofs.csv").decode())))
    assert [(r["application"], r["recipient_name"], r["recipient_relation"], r["outcome"])
            for r in rows] == [(application.number, "Sumarni", "parent", "delivered")]
    assert archive.read(rows[0]["photo"])[:2] == b"\xff\xd8"
    too_long = client.get(reverse("admin:deliveries_delivery_export"), {
        "office": office_a.id, "date_from": "2022-01-01", "date_to": "2022-12-31"})
    assert too_long["Content-Type"].startswith("text/html")

    changelist = reverse("admin:deliveries_delivery_changelist")
    client.post(changelist, {"action": "reopen", "_selected_action": [delivery.pk],
                             "reason": "Warga belum menerima kartu"})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.reopen_reason) == ("waiting",
                                                         "Warga belum menerima kartu")


def test_photos_are_not_served_to_other_offices_or_other_roles(printed, make_staff, client,
                                                               courier_a, office_a, office_b):
    application = printed(method="delivery")
    deliveries_dispatch(office=office_a, day=MONDAY)
    delivery = Delivery.objects.get(application=application)
    delivery_deliver(delivery_id=delivery.id, courier=courier_a,
                     recipient_name="Sumarni", recipient_relation="parent",
                     receipt_code=delivery.handover.card.receipt_code, photo=jpeg(),
                     latitude=-6.2, longitude=107.0)
    url = reverse("deliveries:photo", args=[DeliveryAttempt.objects.get().pk])
    for user, status in ((make_staff(office_b, Role.SUPERVISOR), 404),
                         (make_staff(office_a, Role.COURIER, username="kurir-lain"), 404),
                         (courier_a, 200),
                         (make_staff(office_a, Role.PUBLIC_RELATIONS), 200)):
        client.force_login(user)
        assert client.get(url).status_code == status, user.username
    client.logout()
    assert client.get(url).status_code == 302


def test_the_admin_index_shows_stock_and_deliveries(printed, make_staff, client, office_a):
    printed(method="delivery")
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    html = client.get(reverse("admin:index")).content.decode()
    assert "Stok blangko KTP-el" in html
    assert "Pengantaran menunggu jadwal" in html


def test_the_courier_filter_lists_only_this_offices_couriers(printed, make_staff, client,
                                                             office_a, office_b, courier_a):
    printed(method="delivery")
    deliveries_dispatch(office=office_a, day=MONDAY)
    elsewhere = printed(office=office_b, method="delivery")
    make_staff(office_b, Role.COURIER, username="kurir-kabupaten")
    deliveries_dispatch(office=office_b, day=MONDAY)
    assert Delivery.objects.get(application=elsewhere).status == "assigned"
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    html = client.get(reverse("admin:deliveries_delivery_changelist")).content.decode()
    assert "kurir-a" in html
    assert "kurir-kabupaten" not in html
