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
