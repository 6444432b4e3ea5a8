"""Turn-aways at the door: the service, the front desk's page and the admin list."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from registry.errors import DomainError, NotFound
from registry.models import CaseEvent, NikDisclosure, Role, Service, TurnAway
from registry.services.cases import application_open
from registry.services.turn_aways import turn_away_record
from tests.language import choose_language

pytestmark = pytest.mark.django_db
PAGE = reverse("registry:turn-away")


def ttd(office) -> Service:
    return Service.objects.get(office=office, code="KTP_TTD_FOTO")


@pytest.fixture
def desk(make_staff, office_a, office_b):
    return make_staff(office_a, Role.FRONT_DESK, username="desk-a")


def test_a_turn_away_is_linked_to_the_open_case_with_a_case_event(office_a, resident_a, desk):
    application = application_open(office=office_a, resident=resident_a,
                                   service=ttd(office_a), channel="app")
    turn_away = turn_away_record(office=office_a, resident=resident_a, reason="no_booking",
                                 service=ttd(office_a), note="tanpa ponsel", by=desk)
    assert (turn_away.application, turn_away.actor, turn_away.office) == (
        application, desk, office_a)
    event = CaseEvent.objects.get(application=application, kind="desk.turned_away")
    assert (event.params, event.note, event.actor) == (
        {"reason": "no_booking", "service": ttd(office_a).name}, "tanpa ponsel", desk)


def test_a_case_opened_later_takes_the_turn_aways_of_the_last_60_days(office_a, resident_a,
                                                                      desk):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=61), tick=False):
        old = turn_away_record(office=office_a, resident=resident_a, reason="no_booking",
                               service=ttd(office_a), by=desk)
    with time_machine.travel(now - timedelta(days=3), tick=False):
        recent = turn_away_record(office=office_a, resident=resident_a, reason="no_booking",
                                  service=ttd(office_a), by=desk)
        no_service = turn_away_record(office=office_a, resident=resident_a,
                                      reason="office_full", by=desk)
        other_service = turn_away_record(
            office=office_a, resident=resident_a, reason="no_booking", by=desk,
            service=Service.objects.get(office=office_a, code="KTP_HILANG"))
    application = application_open(office=office_a, resident=resident_a,
                                   service=ttd(office_a), channel="app")
    linked = set(TurnAway.objects.filter(application=application).values_list("id", flat=True))
    assert linked == {recent.id, no_service.id}
    assert old.id not in linked
    assert other_service.id not in linked


def test_bad_input_and_another_offices_resident_change_nothing(office_a, resident_a,
                                                               resident_b, desk):
    with pytest.raises(DomainError) as refused:
        turn_away_record(office=office_a, resident=resident_a, reason="bogus", by=desk)
    assert refused.value.code == "reason_required"
    with pytest.raises(DomainError):
        turn_away_record(office=office_a, resident=resident_a, reason="other", by=desk)
    with pytest.raises(NotFound):
        turn_away_record(office=office_a, resident=resident_b, reason="no_booking", by=desk)
    assert TurnAway.objects.count() == 0


def test_the_front_desk_records_a_turn_away_by_nik(client, desk, office_a, resident_a):
    client.force_login(desk)
    response = client.post(PAGE, {"office": office_a.code, "nik": resident_a.nik,
                                  "service": "KTP_TTD_FOTO", "reason": "no_booking",
                                  "note": "tanpa ponsel"})
    assert response.status_code == 302
    turn_away = TurnAway.objects.get()
    assert (turn_away.resident, turn_away.service.code, turn_away.reason, turn_away.actor) == (
        resident_a, "KTP_TTD_FOTO", "no_booking", desk)
    # The NIK look-up is recorded, like every disclosure of a resident to staff.
    assert NikDisclosure.objects.filter(resident=resident_a, user=desk,
                                        office=office_a).count() == 1
    page = client.get(PAGE)
    assert resident_a.name in page.content.decode()


@pytest.mark.parametrize("data", [
    {"nik": "123", "reason": "no_booking"},
    {"nik": "", "reason": "no_booking"},
    {"reason": "bogus"},
    {"reason": "no_booking", "service": "NOPE"},
    {"reason": "other"},
    {"reason": "no_booking", "nik": "3275011203850001" * 3},
])
def test_bad_input_on_the_page_changes_nothing(client, desk, office_a, resident_a, data):
    client.force_login(desk)
    response = client.post(PAGE, {"nik": resident_a.nik, **data})
    assert response.status_code == 400
    assert TurnAway.objects.count() == 0


def test_another_offices_resident_is_not_found_and_nothing_is_recorded(client, desk,
                                                                       resident_b):
    client.force_login(desk)
    response = client.post(PAGE, {"nik": resident_b.nik, "reason": "no_booking"})
    assert response.status_code == 400
    assert (TurnAway.objects.count(), NikDisclosure.objects.count()) == (0, 0)


@pytest.mark.parametrize("role", [Role.COUNTER_OPERATOR, Role.COURIER, Role.PUBLIC_RELATIONS])
def test_other_roles_may_not_record(client, make_staff, office_a, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(PAGE).status_code == 403


@pytest.mark.parametrize("role", [Role.OFFICE_ADMIN, Role.SUPERVISOR])
def test_admins_and_supervisors_may_record(client, make_staff, office_a, role):
    client.force_login(make_staff(office_a, role))
    assert client.get(PAGE).status_code == 200


def test_indonesian_by_default_english_by_choice(client, desk):
    client.force_login(desk)
    assert client.get(PAGE)["Content-Language"] == "id"
    assert client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "id"
    assert "NIK (16 digits, from the KTP-el or the KK)" not in client.get(PAGE).content.decode()
    choose_language(client, "en")
    assert client.get(PAGE)["Content-Language"] == "en"
    assert "NIK (16 digits, from the KTP-el or the KK)" in client.get(PAGE).content.decode()


def test_the_admin_lists_only_the_offices_turn_aways(client, make_staff, office_a, office_b,
                                                     resident_a, resident_b, desk):
    turn_away_record(office=office_a, resident=resident_a, reason="no_booking", by=desk)
    desk_b = make_staff(office_b, Role.FRONT_DESK, username="desk-b")
    other = turn_away_record(office=office_b, resident=resident_b, reason="office_full",
                             by=desk_b)
    client.force_login(make_staff(office_a, Role.SUPERVISOR))
    listing = client.get(reverse("admin:registry_turnaway_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].queryset) == list(TurnAway.objects.filter(
        office=office_a))
    assert client.get(reverse("admin:registry_turnaway_change",
                              args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:registry_turnaway_add")).status_code == 403
