"""A resident without the app learns how to have the card brought home by what they
have: an SMS reply (ANTAR) from a feature phone, the front desk without a phone; the
reply chooses home delivery under the same rules as the app."""

import pytest

from registry import extensions
from registry.deliveries.models import Delivery, Handover
from registry.deliveries.services.handovers import handover_delivery_by_sms

pytestmark = pytest.mark.django_db


def told(application):
    return application.resident.notifications.get(kind="card.ready").body


def test_a_feature_phone_is_told_to_reply_antar_and_the_reply_brings_the_card_home(printed):
    application = printed(phone_type="feature_phone")
    assert told(application).endswith("Balas ANTAR agar kartu diantar ke rumah Anda.")
    assert "aplikasi" not in told(application)
    resident = application.resident
    # The webhook tries every app's commands; this one is the deliveries app's.
    assert handover_delivery_by_sms in extensions.registered(extensions.SMS_COMMANDS)
    assert handover_delivery_by_sms(resident=resident, text="halo") is None
    text, params, office = handover_delivery_by_sms(resident=resident, text=" antar ")
    assert (str(text) % params).startswith(
        f"Pengantaran kartu untuk permohonan {application.number} dipilih.")
    assert office == application.office
    delivery = Delivery.objects.get(application=application)
    assert delivery.status == "waiting"
    assert application.events.filter(kind="handover.chosen", by_resident=True).count() == 1
    # Again: nothing new.
    handover_delivery_by_sms(resident=resident, text="ANTAR")
    assert Delivery.objects.filter(application=application).count() == 1


def test_without_a_phone_the_front_desk_is_named(printed, office_a):
    office_a.whatsapp = "08111222333"
    office_a.save()
    application = printed(phone_type="none")
    assert told(application).endswith("Untuk pengantaran ke rumah, sampaikan ke loket depan "
                                      "atau hubungi 08111222333.")


def test_the_app_user_is_told_of_the_app_as_before(printed):
    application = printed()
    assert told(application).endswith("atau pilih antar ke rumah di aplikasi.")


def test_a_card_held_for_the_holder_offers_no_delivery_by_sms(printed):
    from registry.models import Service

    Service.objects.filter(code="KTP_HILANG").update(holder_in_person=True)
    application = printed(service_code="KTP_HILANG", phone_type="feature_phone")
    assert "ANTAR" not in told(application)
    text, _params, _office = handover_delivery_by_sms(resident=application.resident,
                                                      text="ANTAR")
    assert str(text).startswith("Layanan ini mewajibkan pemilik hadir sendiri")
    assert Handover.objects.get(application=application).method == "pickup"
    assert not Delivery.objects.exists()


def test_another_residents_reply_touches_only_their_own_card(printed):
    mine = printed(phone_type="feature_phone")
    other = printed(phone_type="feature_phone")
    handover_delivery_by_sms(resident=other.resident, text="ANTAR")
    assert not Delivery.objects.filter(application=mine).exists()
    assert Delivery.objects.filter(application=other).exists()
    nothing = printed(phone_type="feature_phone")
    Handover.objects.filter(application=nothing).update(completed_at="2026-07-01T10:00Z")
    text, _params, office = handover_delivery_by_sms(resident=nothing.resident, text="ANTAR")
    assert (str(text), office) == ("Tidak ada kartu Anda yang menunggu diserahkan.", None)
