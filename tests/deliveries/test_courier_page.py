"""The courier's route page shows a resident's full phone number as the field API does:
only on the courier's own delivery of today, while it is open."""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from registry.deliveries.models import Delivery
from registry.models import Role
from tests.factories import ApplicationFactory, assigned_delivery

WIB = ZoneInfo("Asia/Jakarta")


def test_the_route_page_masks_phones_of_closed_stops_and_other_days(client, office_a,
                                                                    make_staff):
    with time_machine.travel(datetime(2022, 7, 4, 8, 0, tzinfo=WIB), tick=True) as clock:
        courier = make_staff(office_a, Role.COURIER, username="kurir-halaman")
        first, second = (assigned_delivery(ApplicationFactory(office=office_a), courier)
                         for _i in range(2))
        one, two = first.application.resident.phone, second.application.resident.phone
        Delivery.objects.filter(pk=first.pk).update(status="delivered")
        client.force_login(courier)
        page = client.get(reverse("deliveries:route")).content.decode()
        assert f'<a href="tel:{two}">{two}</a>' in page
        assert f"{one[:6]}*****{one[-3:]}" in page
        assert one not in page
        clock.move_to(datetime(2022, 7, 5, 8, 0, tzinfo=WIB))
        page = client.get(reverse("deliveries:route") + "?date=2022-07-04").content.decode()
        assert f"{two[:6]}*****{two[-3:]}" in page
        assert two not in page


def test_the_route_page_and_the_field_api_are_in_the_access_log(client, office_a, office_b,
                                                              make_staff, http):
    from registry.api.auth import tokens_for_staff
    from registry.models import AccessKind, AccessLog

    with time_machine.travel(datetime(2022, 7, 4, 8, 0, tzinfo=WIB), tick=True):
        courier = make_staff(office_a, Role.COURIER, username="kurir-log")
        other = make_staff(office_b, Role.COURIER, username="kurir-lain")
        mine = [assigned_delivery(ApplicationFactory(office=office_a), courier)
                for _i in range(2)]
        theirs = assigned_delivery(ApplicationFactory(office=office_b), other)
        client.force_login(courier)
        assert client.get(reverse("deliveries:route")).status_code == 200
        page_log = AccessLog.objects.get(user=courier)
        assert (page_log.kind, page_log.office_id, page_log.role) == (
            AccessKind.DELIVERY, office_a.id, Role.COURIER)
        residents = sorted(d.application.resident_id for d in mine)
        assert sorted(page_log.entries.values_list("resident_id", flat=True)) == residents
        assert theirs.application.resident_id not in residents

        token = tokens_for_staff(courier)["access"]
        response = http.with_token(token).get("/api/v1/field/deliveries/")
        assert response.status_code == 200
        api_log = AccessLog.objects.filter(user=courier).latest("id")
        assert api_log.pk != page_log.pk
        assert sorted(api_log.entries.values_list("resident_id", flat=True)) == residents
