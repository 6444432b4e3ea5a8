"""GET /api/v1/tickets/: the resident's tickets today with position, estimated wait and,
when it is uncertain, the range of the wait, over real HTTP."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from queues import estimates, selectors
from queues.models import Ticket
from queues.services.calling import ticket_call_next
from queues.services.counters import counter_create
from registry.models import Role
from registry.services.cases import application_open
from tests.queues.conftest import lanes_of, walk_in

# Walk-in tickets are issued in office hours (tests/conftest.py: office_hours).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("office_hours")]


def held_by(ticket, resident):
    application = application_open(office=ticket.office, resident=resident,
                                   service=ticket.service, channel="app")
    Ticket.objects.filter(pk=ticket.pk).update(resident=resident, application=application)
    return ticket


def test_a_resident_sees_their_tickets_with_position_and_wait(
        as_resident, office_a, office_b, resident_a, resident_b, make_staff):
    operator = make_staff(office_a, Role.COUNTER_OPERATOR)
    lanes = lanes_of(office_a)
    counter = counter_create(office=office_a, number=1, lanes=[lanes["C"]])
    walk_in(office_a)
    walk_in(office_a)
    mine = held_by(walk_in(office_a), resident_a)
    theirs = held_by(walk_in(office_a), resident_b)
    elsewhere = held_by(walk_in(office_b, "B"), resident_a)
    ticket_call_next(counter=counter, by=operator)
    response = as_resident(resident_a).get("/api/v1/tickets/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    rows = {(row["office"], row["code"]): row for row in body["results"]}
    assert set(rows) == {("3275", "C-003"), ("3216", "B-001")}
    kota = rows[("3275", "C-003")]
    assert (kota["lane"], kota["lane_name"], kota["status"], kota["position"], kota["counter"],
            kota["service"]) == ("C", "Perubahan biodata", "waiting", 2, None, "KTP_TTD_FOTO")
    assert isinstance(kota["estimated_wait_minutes"], int)
    assert kota["estimated_wait_minutes"] > 0
    assert kota["issued_at"].endswith("+07:00")
    assert (rows[("3216", "B-001")]["position"], rows[("3216", "B-001")]["status"]) == (
        1, "waiting")
    other = as_resident(resident_b).get("/api/v1/tickets/").json()
    assert [(row["office"], row["code"], row["position"]) for row in other["results"]] == [
        ("3275", "C-004", 3)]
    assert mine.pk != theirs.pk != elsewhere.pk


def test_a_called_ticket_says_where_to_go(as_resident, office_a, resident_a, make_staff):
    operator = make_staff(office_a, Role.COUNTER_OPERATOR)
    counter = counter_create(office=office_a, number=3,
                             lanes=[lanes_of(office_a)["C"]])
    held_by(walk_in(office_a), resident_a)
    ticket_call_next(counter=counter, by=operator)
    row = as_resident(resident_a).get("/api/v1/tickets/").json()["results"][0]
    assert (row["status"], row["position"], row["estimated_wait_minutes"], row["counter"],
            row["estimated_wait_range"]) == ("called", 0, 0, "Loket 3", None)


def test_only_residents_may_ask(http, as_staff, office_a, make_staff):
    assert http.get("/api/v1/tickets/").status_code == 401
    staff = as_staff(make_staff(office_a, Role.COUNTER_OPERATOR))
    response = staff.get("/api/v1/tickets/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_list_costs_a_bounded_number_of_queries(client, office_a, office_b, resident_a,
                                                    django_assert_max_num_queries):
    from registry.api.auth import tokens_for_resident

    for office in (office_a, office_b):
        for _n in range(3):
            held_by(walk_in(office), resident_a)
    token = tokens_for_resident(resident_a)["access"]
    with django_assert_max_num_queries(30):
        response = client.get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["count"] == 6


def test_an_uncertain_wait_comes_as_a_range_to_its_resident_only(
        as_resident, office_a, resident_a, resident_b):
    counter_create(office=office_a, number=1, lanes=[lanes_of(office_a)["C"]])
    first = held_by(walk_in(office_a), resident_b)
    for _n in range(3):
        walk_in(office_a)
    mine = held_by(walk_in(office_a), resident_a)
    estimate = selectors.queue_estimates(selectors.queue_state(office=office_a))
    expected = selectors.wait_range_shown(estimate, mine.pk)
    # Fifth in line at the one counter: four services ahead, a wide range.
    assert expected is not None
    assert expected["high"] - expected["low"] > 15
    row = as_resident(resident_a).get("/api/v1/tickets/").json()["results"][0]
    assert (row["code"], row["position"], row["estimated_wait_range"]) == (
        mine.code, 5, expected)
    assert row["estimated_wait_minutes"] == estimates.to_minutes(estimate.tickets[mine.pk])
    assert expected["low"] < row["estimated_wait_minutes"] < expected["high"]
    # The other resident sees their own ticket only: next in line, one figure.
    other = as_resident(resident_b).get("/api/v1/tickets/").json()["results"]
    assert [(r["code"], r["position"], r["estimated_wait_minutes"], r["estimated_wait_range"])
            for r in other] == [(first.code, 1, 0, None)]


def test_the_schema_says_when_the_range_is_given():
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    field = schemas["Ticket"]["properties"]["estimated_wait_range"]
    assert (field["nullable"], field["allOf"]) == (
        True, [{"$ref": "#/components/schemas/WaitRange"}])
    assert f"wider than {estimates.RANGE_SHOWN_FROM} minutes" in schemas["WaitRange"]["description"]
    assert schemas["WaitRange"]["required"] == ["high", "low"]
