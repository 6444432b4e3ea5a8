"""The schema says the truth: Schemathesis makes requests for every operation of the
API's OpenAPI schema (the schema's examples, the boundary and negative cases of its
coverage phase, then random ones), sends them over real HTTP to the live server as an
anonymous caller, a resident and a courier, and checks every answer against the
schema: no server error, a documented status code and content type, and a body of the
documented shape (checks named in CHECKS).

One test per operation and caller; a failing one lists each check that failed, with
the answer and a curl command that repeats the request. The seed and the example count
are fixed, so every run sends the same requests.

The schema is made in-process when this module is collected, as Schemathesis makes its
tests then; test_the_fuzzed_schema_is_the_served_one checks that it is the one
/api/schema/ serves. (Schemathesis can also read the schema from a fixture, so from the
live server, but that does not run on pytest 9.2.)"""

import json
from datetime import timedelta

import hypothesis
import hypothesis.strategies as st
import pytest
import schemathesis
import time_machine
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

from complaints.services.intake import complaint_file
from queues.services.calling import ticket_call_next, ticket_recall
from queues.services.counters import counter_create
from registry.api.auth import tokens_for_resident, tokens_for_staff
from registry.appointments.models import Slot
from registry.appointments.services.slots import slots_ensure
from registry.models import AccessKind, Role, Service
from registry.services.access_log import record_access
from registry.services.residents import resident_nik_disclose
from tests.appointments.conftest import MONDAY, NOW, book
from tests.complaints.surveys import scores, served_visit
from tests.factories import ApplicationFactory, assigned_delivery
from tests.queues.conftest import walk_in

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 20260629
# Random requests per operation and caller, after the schema's examples and the
# coverage cases (about 55 an operation). With 35 operations and three callers, about
# 11,000 requests: 5 minutes on PostgreSQL on a 2-core machine.
MAX_EXAMPLES = 50
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance"]
CALLERS = ["anonymous", "resident", "courier"]
PASSWORD = "pass-for-tests-1"  # tests.factories.UserFactory's

# Values from the test's world that half the generated path parameters, queries and
# bodies take instead (by the start of the path, or by the operation), so the answers
# of the success paths and of the rules behind them are checked too, not only 404s
# and 400s. Each is a function of the world, called when a request is drawn.
OWN_PATH_PARAMETERS = {
    "/api/v1/offices/{code}/": lambda w: {"code": w["office"].code},
    "/api/v1/bookings/{code}/": lambda w: {"code": w["booking"].code},
    "/api/v1/applications/{id}/": lambda w: {"id": w["delivery"].application_id},
    "/api/v1/complaints/{id}/": lambda w: {"id": w["complaint"].id},
    "/api/v1/field/deliveries/{id}/": lambda w: {"id": w["delivery"].id},
}
OWN_QUERIES = {
    "GET /api/v1/offices/{code}/slots/": lambda w: {
        "service": "KTP_HILANG", "date_from": "2026-07-01", "date_to": "2026-07-03"},
    "GET /api/v1/field/deliveries/": lambda w: {
        "date": w["delivery"].scheduled_for.isoformat()},
}
OWN_BODIES = {
    "POST /api/v1/auth/otp/": lambda w: {"nik": w["resident"].nik,
                                         "phone": w["resident"].phone},
    "POST /api/v1/auth/token/": lambda w: {"nik": w["resident"].nik, "otp": "123456"},
    "POST /api/v1/auth/refresh/": lambda w: {"refresh": w["refresh"]},
    "POST /api/v1/auth/staff-token/": lambda w: {"username": w["courier"].username,
                                                 "password": PASSWORD},
    "POST /api/v1/me/phone/": lambda w: {"phone": "081299990001"},
    "POST /api/v1/requirement-checks/": lambda w: {
        "office": w["office"].code, "service": "KTP_HILANG", "visit_date": "2026-07-01",
        "documents": [{"requirement": "KK"},
                      {"requirement": "SURAT_KEHILANGAN", "issued_on": "2026-06-25"}]},
    "POST /api/v1/bookings/": lambda w: {
        "office": w["office"].code, "service": "KTP_CETAK_ULANG", "slot": w["reprint_slot"],
        "documents": [{"requirement": "KK"}, {"requirement": "KTP_LAMA"}]},
    "POST /api/v1/bookings/{code}/reschedule/": lambda w: {"slot": w["other_slot"]},
    "POST /api/v1/complaints/": lambda w: {"office": w["office"].code,
                                           "text": "Antrean terlalu lama."},
    "POST /api/v1/applications/{id}/handover/": lambda w: {"method": "pickup"},
    "POST /api/v1/surveys/": lambda w: {"application": w["served"].application_id,
                                        "scores": scores(4), "comment": "Cepat."},
    "POST /api/v1/field/deliveries/{id}/fail/": lambda w: {"reason": "nobody_home"},
    "POST /api/v1/me/correction-requests/": lambda w: {"field": "address",
                                                       "value": "Jl. Melati 3"},
}
# The running test's world, set by `world`.
WORLD: dict = {}


def _openapi() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


OPENAPI = _openapi()
schema = schemathesis.openapi.from_dict(OPENAPI, config=schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none",
                   # A failure is reported as found: the world it ran in has changed
                   # since, so a shrunk example would not fail the same way.
                   "no-shrink": True},
    "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
}))


def _or_own(strategy, recipe):
    if recipe is None:
        return strategy
    return st.one_of(st.builds(lambda: recipe(WORLD)), strategy)


@schema.hook
def before_generate_path_parameters(context, strategy):
    path = context.operation.path
    return _or_own(strategy, next((recipe for prefix, recipe in OWN_PATH_PARAMETERS.items()
                                   if path.startswith(prefix)), None))


@schema.hook
def before_generate_query(context, strategy):
    return _or_own(strategy, OWN_QUERIES.get(context.operation.label))


@schema.hook
def before_generate_body(context, strategy):
    return _or_own(strategy, OWN_BODIES.get(context.operation.label))


@pytest.fixture(autouse=True)
def clock():
    """Monday 29 June 2026, 09:00 WIB, as in tests/appointments; the clock runs."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def world(office_a, office_b, resident_a, make_staff, settings):
    """Something to find for every operation: two offices with their catalogue, slots
    for two weeks, a resident with a bound phone, a booking, a case whose card is out
    for delivery with the courier, a complaint about it, a call on the board, a served
    visit to rate; and the sign-in throttles loose enough that the requests reach the
    rules behind them.
    Yields each caller's headers."""
    settings.OTP_MAX_PER_WINDOW = 100_000
    settings.OTP_RESEND_INTERVAL = timedelta(0)
    resident_a.phone_bound_at = NOW
    resident_a.save(update_fields=["phone_bound_at"])
    courier = make_staff(office_a, Role.COURIER, username="kurir-fuzz")
    slots_ensure(office=office_a, start=MONDAY, end=MONDAY + timedelta(days=14))
    wednesday = MONDAY + timedelta(days=2)
    lost_card = Service.objects.get(office=office_a, code="KTP_HILANG")
    lane_c = Slot.objects.filter(lane=lost_card.lane, date=wednesday).order_by("starts_at")
    booking = book(resident_a, lost_card, lane_c[0])
    reprint = Service.objects.get(office=office_a, code="KTP_CETAK_ULANG")
    delivery = assigned_delivery(ApplicationFactory(office=office_a, resident=resident_a),
                                 courier)
    # A call and its recall on the board, so its calls are checked too.
    operator = make_staff(office_a, Role.COUNTER_OPERATOR, username="loket-fuzz")
    loket = counter_create(office=office_a, number=12, lanes=[lost_card.lane])
    walk_in(office_a, "C")
    ticket_call_next(counter=loket, by=operator)
    ticket_recall(counter=loket, by=operator)
    # A visit served at another counter, for the satisfaction survey.
    served = served_visit(office_a, resident_a, make_staff, counter_number=13)
    # A look at the resident's data and at their full NIK, for the access log.
    desk = make_staff(office_a, Role.FRONT_DESK, username="loket-fuzz-desk")
    record_access(desk, kind=AccessKind.RESIDENT, residents=[resident_a], office=office_a,
                  reason="Memeriksa data")
    resident_nik_disclose(resident=resident_a, office=office_a, user=desk, reason="KTP")
    resident_tokens = tokens_for_resident(resident_a)
    WORLD.update(
        served=served,
        office=office_a, resident=resident_a, courier=courier, booking=booking,
        delivery=delivery, refresh=resident_tokens["refresh"], other_slot=lane_c[1].id,
        reprint_slot=Slot.objects.filter(lane=reprint.lane, date=wednesday)
        .order_by("starts_at").first().id,
        complaint=complaint_file(resident=resident_a, office=office_a,
                                 text="Kartu belum sampai.",
                                 application=delivery.application))
    yield {
        "anonymous": {},
        "resident": {"Authorization": f"Bearer {resident_tokens['access']}"},
        "courier": {"Authorization": f"Bearer {tokens_for_staff(courier)['access']}"},
    }
    WORLD.clear()


@pytest.mark.parametrize("caller", CALLERS)
@schema.parametrize()
# The world is made once per test and changed by the requests (a booking cancelled, a
# delivery closed): the later ones get the refusals, which must be documented too. How
# fast requests are made depends on the machine's load, not on the contract.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture,
                                            hypothesis.HealthCheck.too_slow])
def test_every_answer_is_one_the_schema_documents(case, caller, world, live_server):
    # A connection per request (Schemathesis' default): a kept-alive one waits for the
    # live server's delayed ACKs, 40 ms a request.
    case.call_and_validate(base_url=live_server.url, headers=world[caller])


def test_the_fuzzed_schema_is_the_served_one(http):
    served = http.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert served.json() == OPENAPI
