"""The resident's choice of hand-over and the pick-up at the counter."""

import pytest

from registry.central.services.jobs import application_visit_completed
from registry.deliveries.models import Delivery, Handover
from registry.deliveries.services.handovers import (
    handover_choose,
    handover_collect,
    handover_options,
)
from registry.errors import Conflict, DomainError, NotFound
from registry.models import ApplicationStatus, Role, Service
from tests.deliveries.conftest import print_card
from tests.factories import ApplicationFactory, make_nik

pytestmark = pytest.mark.django_db


def test_home_delivery_of_a_printed_card_waits_for_dispatch(printed):
    application = printed(method="delivery")
    delivery = Delivery.objects.get(application=application)
    resident = application.resident
    assert (delivery.status, delivery.address, delivery.kecamatan, delivery.kelurahan) == (
        "waiting", resident.address, resident.kecamatan, resident.kelurahan)
    assert application.events.filter(kind="handover.chosen", by_resident=True).count() == 1
    assert application.events.filter(kind="delivery.waiting").count() == 1
    # Choosing the same again records nothing new.
    handover_choose(application=application, method="delivery", by_resident=True)
    assert application.events.filter(kind="handover.chosen").count() == 1
    # Back to pick-up cancels the waiting delivery.
    handover_choose(application=application, method="pickup", by_resident=True)
    delivery.refresh_from_db()
    assert delivery.status == "cancelled"


def test_delivery_chosen_before_printing_starts_when_the_card_is_printed(office_a, serve_only):
    application = serve_only(office_a)
    handover_choose(application=application, method="delivery", by_resident=True)
    assert Delivery.objects.count() == 0
    from registry.central.services.jobs import central_job_send

    for job in application.central_jobs.order_by("id"):
        central_job_send(job_id=job.id)
    assert Delivery.objects.get().status == "waiting"
    told = application.resident.notifications.get(kind="card.ready")
    assert "akan diantar ke rumah" in told.body


@pytest.fixture
def serve_only():
    from django.db import transaction

    from tests.factories import card_stock_for

    def make(office):
        card_stock_for(office)
        application = ApplicationFactory(office=office)
        with transaction.atomic():
            application_visit_completed(application=application)
        return application

    return make


def _holder_in_person(service_code="KTP_HILANG"):
    # The default catalogue delivers a lost card's replacement; an office that needs a
    # fingerprint match at hand-over switches this on for the service.
    Service.objects.filter(code=service_code).update(holder_in_person=True)


def test_a_lost_cards_replacement_may_go_to_a_proxy_or_home_by_default(printed):
    application = printed(service_code="KTP_HILANG")
    handover = Handover.objects.get(application=application)
    options = {o["method"]: o["available"] for o in handover_options(handover=handover)}
    assert options == {"pickup": True, "proxy": True, "delivery": True}


def test_holder_in_person_services_offer_neither_proxy_nor_delivery(printed):
    _holder_in_person()
    application = printed(service_code="KTP_HILANG")
    handover = Handover.objects.get(application=application)
    options = {o["method"]: (o["available"], o["code"]) for o in
               handover_options(handover=handover)}
    assert options == {"pickup": (True, ""), "proxy": (False, "holder_in_person"),
                       "delivery": (False, "holder_in_person")}
    for method in ("proxy", "delivery"):
        with pytest.raises(DomainError) as refused:
            handover_choose(application=application, method=method,
                            proxy_name="Siti", proxy_nik=make_nik(female=True),
                            proxy_relation="spouse")
        assert refused.value.code == "holder_in_person"
        assert str(refused.value.message).startswith("Layanan ini mewajibkan pemilik hadir")
    handover.refresh_from_db()
    assert handover.method == "pickup"
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize(("change", "code"), [
    ({"address": ""}, "address_missing"),
])
def test_delivery_refusals_change_nothing(printed, change, code):
    application = printed(**change)
    with pytest.raises(DomainError) as refused:
        handover_choose(application=application, method="delivery")
    assert refused.value.code == code
    assert Handover.objects.get(application=application).method == "pickup"


def test_delivery_only_within_the_office_area_and_where_the_service_allows(printed, office_b):
    outside = printed(domicile_office=office_b)
    with pytest.raises(DomainError) as refused:
        handover_choose(application=outside, method="delivery")
    assert refused.value.code == "delivery_outside_area"
    kk = ApplicationFactory(office=outside.office,
                            service=outside.office.services.get(code="KK_UBAH"))
    print_card(kk)
    with pytest.raises(Conflict) as no_card:
        handover_choose(application=kk, method="pickup")
    assert no_card.value.code == "no_card"


def test_a_proxy_is_named_with_a_valid_nik_and_relation(printed):
    application = printed()
    wife = make_nik(female=True, serial=9001)
    for kwargs, code in [
        ({"proxy_name": "", "proxy_nik": wife, "proxy_relation": "spouse"},
         "proxy_name_required"),
        ({"proxy_name": "Siti", "proxy_nik": "12345", "proxy_relation": "spouse"},
         "proxy_nik_invalid"),
        ({"proxy_name": "Siti", "proxy_nik": application.resident.nik,
          "proxy_relation": "spouse"}, "proxy_is_holder"),
        ({"proxy_name": "Siti", "proxy_nik": wife, "proxy_relation": "neighbour"},
         "proxy_relation_invalid"),
    ]:
        with pytest.raises(DomainError) as refused:
            handover_choose(application=application, method="proxy", **kwargs)
        assert refused.value.code == code
    assert Handover.objects.get(application=application).method == "pickup"
    handover_choose(application=application, method="proxy", proxy_name="Siti",
                    proxy_nik=wife, proxy_relation="spouse")
    handover = Handover.objects.get(application=application)
    assert (handover.method, handover.proxy_name, handover.proxy_nik,
            handover.proxy_relation) == ("proxy", "Siti", wife, "spouse")
    event = application.events.get(kind="handover.chosen")
    assert event.message == "Cara penyerahan dipilih: Diambil oleh kuasa, Siti (Suami/istri)."


def test_the_holder_collects_at_the_counter_with_the_receipt_code(printed, make_staff):
    application = printed()
    desk = make_staff(application.office, Role.FRONT_DESK)
    handover = Handover.objects.get(application=application)
    code = handover.card.receipt_code
    resident = application.resident
    with pytest.raises(DomainError) as wrong:
        handover_collect(handover=handover, receipt_code="AAAA-AAAA",
                         collector_name=resident.name, collector_nik=resident.nik,
                         by=desk)
    assert wrong.value.code == "receipt_code_wrong"
    with pytest.raises(DomainError) as stranger:
        handover_collect(handover=handover, receipt_code=code,
                         collector_name="Orang Lain",
                         collector_nik=make_nik(serial=7777), by=desk)
    assert stranger.value.code == "not_holder_or_proxy"
    handover.refresh_from_db()
    assert handover.completed_at is None
    handover_collect(handover=handover, receipt_code=code.lower().replace("-", ""),
                     collector_name=resident.name, collector_nik=resident.nik, by=desk)
    handover.refresh_from_db()
    assert (handover.collected_by_name, handover.collected_by_nik,
            handover.collected_relation, handover.handed_over_by) == (
        resident.name, resident.nik, "self", desk)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED
    event = application.events.get(kind="handover.collected")
    assert event.actor == desk
    assert event.params["nik"] == resident.masked_nik
    with pytest.raises(Conflict):
        handover_collect(handover=handover, receipt_code=code,
                         collector_name=resident.name, collector_nik=resident.nik,
                         by=desk)


def test_the_named_proxy_collects_and_holder_in_person_needs_the_fingerprint(
        printed, make_staff, office_b):
    application = printed()
    desk = make_staff(application.office, Role.FRONT_DESK)
    wife = make_nik(female=True, serial=9002)
    handover_choose(application=application, method="proxy", proxy_name="Siti",
                    proxy_nik=wife, proxy_relation="spouse")
    handover = Handover.objects.get(application=application)
    handover_collect(handover=handover, receipt_code=handover.card.receipt_code,
                     collector_name="Siti", collector_nik=wife, by=desk)
    handover.refresh_from_db()
    assert handover.collected_relation == "spouse"

    _holder_in_person()
    lost = printed(service_code="KTP_HILANG")
    handover = Handover.objects.get(application=lost)
    holder = lost.resident
    with pytest.raises(DomainError) as no_print:
        handover_collect(handover=handover, receipt_code=handover.card.receipt_code,
                         collector_name=holder.name, collector_nik=holder.nik,
                         by=desk)
    assert no_print.value.code == "fingerprint_required"
    other_desk = make_staff(office_b, Role.FRONT_DESK)
    with pytest.raises(NotFound):
        handover_collect(handover=handover, receipt_code=handover.card.receipt_code,
                         collector_name=holder.name, collector_nik=holder.nik,
                         by=other_desk, fingerprint_verified=True)
    handover_collect(handover=handover, receipt_code=handover.card.receipt_code,
                     collector_name=holder.name, collector_nik=holder.nik, by=desk,
                     fingerprint_verified=True)
    assert Handover.objects.get(pk=handover.pk).fingerprint_verified is True


def test_no_choice_before_the_visit(application_a):
    with pytest.raises(Conflict) as early:
        handover_choose(application=application_a, method="delivery")
    assert early.value.code == "handover_not_yet"
