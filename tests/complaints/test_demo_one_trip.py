"""The demo carries the real case in one trip at each of its stages (issue 14, "Done
means"): what a new user finds in `make run`'s Kota Bekasi."""

import pytest
from django.core.management import call_command

from complaints.demo_one_trip import RESIDENTS
from registry.appointments.models import SmsInbound, SmsOffer
from registry.models import Resident

pytestmark = pytest.mark.django_db


def test_each_stage_of_the_case_is_in_the_demo(central_sim):
    call_command("load_demo", quiet=True)
    people = {stage: Resident.objects.get(nik=nik) for stage, nik, *_ in RESIDENTS}
    assert {person.phone_type for person in people.values()} == {"feature_phone"}
    assert all(person.phone_bound_at for person in people.values())

    def case(stage):
        return people[stage].applications.get()

    def bookings(stage):
        return sorted((b.status, b.channel) for b in case(stage).bookings.all())

    assert bookings(1) == [("booked", "assisted")]
    assert bookings(2) == [("expired", "assisted")]
    assert SmsOffer.objects.get(resident=people[2]).status == "open"
    assert bookings(3) == [("booked", "sms"), ("expired", "assisted")]
    assert SmsInbound.objects.get(resident=people[3]).outcome == "booked"
    assert case(4).service_set.codes == ["KTP_HILANG", "KTP_TTD_FOTO"]
    assert case(4).events.filter(kind="booking.services_changed").exists()
    assert case(6).central_jobs.filter(status="pending").exists()
    assert case(7).handover.method == "delivery"
    assert case(7).status == "ready"
    delivered = case(8)
    assert delivered.status == "completed"
    assert delivered.deliveries.get().attempts.get().recipient_relation == "spouse"
    chronology = delivered.complaints.get().chronologies.get()
    assert any("istri pemohon" in point["text"] for point in chronology.generated)
    # Again: nothing new.
    call_command("load_demo", quiet=True)
    assert SmsOffer.objects.filter(resident=people[2]).count() == 1
    assert people[8].applications.count() == 1
