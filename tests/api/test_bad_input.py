"""No input answers 500: every write endpoint of the live OpenAPI schema gets malformed
JSON, wrong types, huge strings, nulls and unknown fields, as an anonymous caller, a
resident and a courier. Each answer is a 4xx (or a success that ignores unknown
fields) in the contract's error shape. New endpoints are covered by being in the
schema; `PATH_VALUES` says which objects fill their path parameters."""

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousMultipartForm,
    TooManyFilesSent,
)
from django.utils import timezone, translation
from drf_spectacular.generators import SchemaGenerator

from complaints.models import Complaint
from registry.api.auth import tokens_for_resident, tokens_for_staff
from registry.api.errors import exception_handler
from registry.models import Notification, OtpChallenge, Role
from registry.services.notifications import notification_send
from tests.factories import field_delivery_for

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = "x" * 1_000_000


def _path_values(world):
    """Path parameter values per path pattern: the caller's own objects, so the body
    is really parsed rather than refused by a 404 on the path."""
    return {
        r"^/api/v1/offices/\{code\}/": {"code": world["office"].code},
        r"^/api/v1/applications/\{id\}/": {"id": world["application"].id},
        r"^/api/v1/field/deliveries/\{id\}/": {"id": field_delivery_for(world).id},
        r".*": {"id": 999999, "code": "ZZZZZZ", "pk": 999999},
    }


def _fill(path, world):
    for pattern, values in _path_values(world).items():
        if re.match(pattern, path):
            try:
                return path.format(**values)
            except KeyError:
                continue
    return re.sub(r"\{[^}]+\}", "999999", path)


def _wrong_value(prop: dict):
    kind = prop.get("type")
    if kind == "string":
        return {"nested": ["not", "a", "string"]}
    if kind in ("integer", "number"):
        return "not-a-number"
    if kind == "boolean":
        return "perhaps"
    if kind == "array":
        return "not-a-list"
    return 12345


def _resolve(schema, spec):
    ref = schema.get("$ref")
    if ref:
        return _resolve(spec["components"]["schemas"][ref.split("/")[-1]], spec)
    return schema


def _extreme(prop: dict, spec, *, high: bool):
    """A value of the property's own type at the far end of what the type can say:
    the overflows that Python, SQLite and PostgreSQL each refuse differently."""
    kind, fmt = prop.get("type"), prop.get("format")
    if kind == "integer":
        return 10**30 if high else -(10**30)
    if kind == "number":
        return 1e308 if high else -1e308
    if kind == "string" and fmt == "date":
        return "9999-12-31" if high else "0001-01-01"
    if kind == "string" and fmt == "date-time":
        return "9999-12-31T23:59:59Z" if high else "0001-01-01T00:00:00Z"
    if kind == "array":
        return [_extreme(_resolve(prop.get("items", {}), spec), spec, high=high)]
    if kind == "object" or "properties" in prop:
        return {name: _extreme(_resolve(p, spec), spec, high=high)
                for name, p in prop.get("properties", {}).items()}
    return "x"


def _bodies(operation, spec):
    content = operation.get("requestBody", {}).get("content", {})
    json_schema = content.get("application/json", {}).get("schema") or next(
        iter(content.values()), {}).get("schema", {})
    props = _resolve(json_schema, spec).get("properties", {}) if json_schema else {}
    props = {name: _resolve(p, spec) for name, p in props.items()}
    yield "very deep nesting", "[" * 5000 + "]" * 5000, "application/json"
    infinite = ", ".join(f'"{n}": 1e999' for n in props)
    yield "infinite numbers", f"{{{infinite}}}", "application/json"
    yield "not UTF-8", b'{"x": "\xff\xfe"}', "application/json"
    yield "NUL characters", json.dumps(dict.fromkeys(props, "\x00")), "application/json"
    yield "NUL characters in a form", "&".join(f"{n}=%00" for n in props), \
        "application/x-www-form-urlencoded"
    for high in (True, False):
        yield f"extreme values ({'high' if high else 'low'})", json.dumps(
            {n: _extreme(p, spec, high=high) for n, p in props.items()}), "application/json"
    yield "malformed", "{not json", "application/json"
    yield "array", json.dumps([1, 2, 3]), "application/json"
    yield "empty", json.dumps({}), "application/json"
    yield "nulls", json.dumps(dict.fromkeys(props)), "application/json"
    yield "wrong types", json.dumps({n: _wrong_value(p) for n, p in props.items()}), \
        "application/json"
    yield "huge strings", json.dumps(dict.fromkeys(props, HUGE)), "application/json"
    yield "unknown fields", json.dumps({"unknown": "field", "__proto__": {"a": 1}}), \
        "application/json"
    yield "deep nesting", json.dumps({n: [[[[{"a": [[[]]]}]]]] for n in props}), \
        "application/json"
    yield "form garbage", "a=%ZZ&&&=", "application/x-www-form-urlencoded"
    yield "multipart garbage", b"--x\r\nnonsense", "multipart/form-data; boundary=x"


@pytest.fixture
def world(application_a, office_a, office_b, make_staff):
    courier = make_staff(office_a, Role.COURIER)
    return {
        "office": office_a,
        "application": application_a,
        "resident": application_a.resident,
        "tokens": {
            "anonymous": None,
            "resident": tokens_for_resident(application_a.resident)["access"],
            "courier": tokens_for_staff(courier)["access"],
        },
    }


def _problem(response) -> str | None:
    """What is wrong with an answer to bad input: a 5xx, or an error not in the
    contract's JSON shape."""
    if response.status_code >= 500:
        return f"answered {response.status_code}"
    if response.status_code >= 400:
        try:
            data = response.json()
        except ValueError:
            return f"error that is not JSON: {response.text[:200]}"
        if not (isinstance(data.get("detail"), str) and isinstance(data.get("code"), str)):
            return f"error without detail/code: {response.text[:200]}"
    return None


def test_no_write_endpoint_answers_500_to_bad_input(http, world):
    spec = http.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
                    ).json()
    writes = [(path, method, op) for path, ops in spec["paths"].items()
              for method, op in ops.items() if method in ("post", "put", "patch")]
    # The foundation's own: otp, token, refresh, staff-token, notifications/read.
    assert len(writes) >= 5
    failures = []
    for path, method, operation in writes:
        url = _fill(path, world)
        for who, token in world["tokens"].items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for label, body, content_type in _bodies(operation, spec):
                # A key of its own each time: the idempotent views store their answer.
                response = http.request(method.upper(), url, data=body, headers={
                    **headers, "Content-Type": content_type,
                    "Idempotency-Key": uuid.uuid4().hex})
                problem = _problem(response)
                if problem:
                    failures.append(f"{method.upper()} {url} as {who}, {label}: {problem}")
    assert failures == []


# Real values for required string parameters, so the others are really used.
QUERY_VALUES = {"service": "KTP_TTD_FOTO"}


def _queries(operation, spec):
    """Query strings with every parameter at its type's far end, or garbage."""
    params = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    if not params:
        return
    schemas = {p["name"]: _resolve(p.get("schema", {}), spec) for p in params}
    for high in (True, False):
        query = {name: _extreme(schema, spec, high=high) for name, schema in schemas.items()}
        yield f"extreme values ({'high' if high else 'low'})", {
            name: QUERY_VALUES.get(name, json.dumps(value) if isinstance(value, list)
                                   else value) for name, value in query.items()}
    yield "nulls", dict.fromkeys(schemas, "null")
    # Each under the request line's limit all together (the live server's 64 KB;
    # gunicorn's 4 KB answers 400 before Django), so Django sees them.
    yield "huge strings", dict.fromkeys(schemas, "x" * 5_000)
    yield "NUL characters", dict.fromkeys(schemas, "\x00")


def test_no_read_endpoint_answers_500_to_bad_query_parameters(http, world):
    spec = http.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
                    ).json()
    reads = [(path, op) for path, ops in spec["paths"].items()
             for method, op in ops.items() if method == "get"]
    failures, tried = [], 0
    for path, operation in reads:
        url = _fill(path, world)
        for who, token in world["tokens"].items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            for label, query in _queries(operation, spec):
                tried += 1
                response = http.get(url, params=query, headers=headers)
                problem = _problem(response)
                if problem:
                    failures.append(f"GET {url} as {who}, {label}: {problem}")
    assert tried > 50
    assert failures == []


def _request_integers(spec):
    """(where, schema) of every integer a client sends: query and path parameters and
    request bodies, following $ref."""
    def walk(node, where, seen):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref:
                name = ref.split("/")[-1]
                if name not in seen:
                    yield from walk(spec["components"]["schemas"][name], name, seen | {name})
                return
            if node.get("type") == "integer" and not node.get("readOnly"):
                yield where, node
            for key, value in node.items():
                yield from walk(value, f"{where}.{key}", seen)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value, where, seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                yield from walk(parameter.get("schema", {}),
                                f"{method.upper()} {path} ?{parameter['name']}", set())
            yield from walk(operation.get("requestBody", {}), f"{method.upper()} {path}",
                            set())


def test_every_integer_a_client_sends_has_bounds_in_the_schema():
    spec = SchemaGenerator().get_schema(request=None, public=True)
    integers = list(_request_integers(spec))
    assert len(integers) > 20  # page and page_size of every list, ids, slots
    unbounded = sorted({where for where, schema in integers
                        if "maximum" not in schema or "minimum" not in schema})
    assert unbounded == []


# --- Each way in, one by one -----------------------------------------------------------

EN = {"Accept-Language": "en"}
JSON = {"Content-Type": "application/json", **EN}


@pytest.fixture
def inbox(world):
    """Two unread notifications of the world's resident."""
    application = world["application"]
    return [notification_send(office=application.office,
                              resident=application.resident, kind="test",
                              title="Judul", body=f"Pesan {n}",
                              application=application) for n in range(2)]


def unread(resident) -> int:
    return Notification.objects.filter(resident=resident, read_at__isnull=True).count()


def test_json_nested_thousands_deep_is_a_400_with_or_without_a_token(http, world, inbox):
    resident = http.with_token(world["tokens"]["resident"])
    too_deep = {"detail": "The JSON body is nested too deeply.", "code": "json_too_deep"}
    for depth in (5000, 11):
        body = "[" * depth + "]" * depth
        answer = http.post("/api/v1/auth/otp/", data=body, headers=JSON)
        assert (answer.status_code, answer.json()) == (400, too_deep)
        answer = resident.post("/api/v1/notifications/read/", data=body, headers=JSON)
        assert (answer.status_code, answer.json()) == (400, too_deep)
    deep_object = '{"ids": ' + "[" * 9 + "]" * 9 + "}"  # ten levels: parsed, then refused
    answer = resident.post("/api/v1/notifications/read/", data=deep_object, headers=JSON)
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid")
    assert OtpChallenge.objects.count() == 0
    assert unread(world["resident"]) == 2


def test_json_that_is_not_json_this_api_takes_is_a_400(http, world, inbox):
    resident = http.with_token(world["tokens"]["resident"])
    cases = [
        (b'{"nik": 1e999, "phone": "081234567890"}',
         {"detail": "The body is not valid JSON: number out of range: 1e999",
          "code": "parse_error"}),
        (b'{"nik": NaN, "phone": "081234567890"}',
         {"detail": "The body is not valid JSON: Out of range float values are not JSON "
                    "compliant: 'NaN'", "code": "parse_error"}),
        (b'{"nik": "\xff\xfe", "phone": "081234567890"}',
         {"detail": "The body is not valid JSON: 'utf-8' codec can't decode byte 0xff in "
                    "position 9: invalid start byte", "code": "parse_error"}),
    ]
    for body, expected in cases:
        answer = http.post("/api/v1/auth/otp/", data=body, headers=JSON)
        assert (answer.status_code, answer.json()) == (400, expected)
    for body, kind in (("[1, 2]", "list"), ('"read them"', "str"), ("7", "int")):
        answer = resident.post("/api/v1/notifications/read/", data=body, headers=JSON)
        message = f"Invalid data. Expected a dictionary, but got {kind}."
        assert (answer.status_code, answer.json()) == (400, {
            "detail": message, "code": "invalid", "non_field_errors": [message]})
    assert OtpChallenge.objects.count() == 0
    assert unread(world["resident"]) == 2


def test_ids_beyond_any_row_are_a_400_not_an_overflow(http, world, inbox):
    resident = http.with_token(world["tokens"]["resident"])
    for ids in ([99999999999999999999999], [2**31], [2**63]):
        answer = resident.post("/api/v1/notifications/read/", json={"ids": ids}, headers=EN)
        assert (answer.status_code, answer.json()["code"]) == (400, "max_value")
        assert answer.json()["detail"] == (
            "ids: Ensure this value is less than or equal to 2147483647.")
    assert unread(world["resident"]) == 2
    answer = resident.post("/api/v1/notifications/read/", json={"ids": [2**31 - 1]})
    assert (answer.status_code, answer.json()) == (200, {"marked": 0})
    huge = 99999999999999999999999
    answer = resident.get(f"/api/v1/applications/{huge}/", headers=EN)
    assert (answer.status_code, answer.json()) == (404, {"detail": "Not found.",
                                                          "code": "not_found"})


def test_page_and_page_size_are_whole_numbers_in_range(http, world):
    for query, field, code in (("page_size=null", "page_size", "invalid"),
                               ("page_size=101", "page_size", "max_value"),
                               ("page_size=0", "page_size", "min_value"),
                               ("page=99999999999999999999999", "page", "max_value"),
                               ("page=last", "page", "invalid")):
        answer = http.get(f"/api/v1/offices/?{query}", headers=EN)
        assert (answer.status_code, answer.json()["code"]) == (400, code), query
        assert answer.json()["detail"].startswith(f"{field}: ")
    answer = http.get("/api/v1/offices/?page_size=100&page=1")
    assert (answer.status_code, answer.json()["count"]) == (200, 2)
    answer = http.get("/api/v1/offices/?page=2", headers=EN)
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")


def test_a_date_far_from_today_is_a_400_on_every_date_parameter(http, world):
    office = world["office"]
    today = timezone.localdate()
    span = timedelta(days=366 * 10)
    out_of_range = (f"Enter a date between {(today - span).isoformat()} and "
                    f"{(today + span).isoformat()}.")
    slots = f"/api/v1/offices/{office.code}/slots/?service=KTP_TTD_FOTO"
    courier = http.with_token(world["tokens"]["courier"])
    for url, field in ((slots + "&date_from=9999-12-31", "date_from"),
                       (slots + "&date_to=0001-01-01", "date_to"),
                       (slots + f"&date_from={(today + span + timedelta(days=1))}",
                        "date_from"),
                       ("/api/v1/field/deliveries/?date=9999-12-31", "date")):
        answer = courier.get(url, headers=EN)
        assert (answer.status_code, answer.json()) == (400, {
            "detail": f"{field}: {out_of_range}", "code": "date_out_of_range",
            field: [out_of_range]}), url
    answer = http.get(slots + f"&date_from={today}&date_to={today + span}")
    assert answer.status_code == 200
    assert courier.get(f"/api/v1/field/deliveries/?date={today - span}").status_code == 200


def test_a_body_over_the_limit_is_a_json_413_with_or_without_a_token(http, world, inbox,
                                                                     settings):
    resident = http.with_token(world["tokens"]["resident"])
    courier = http.with_token(world["tokens"]["courier"])
    delivery = field_delivery_for(world)
    unread_before = unread(world["resident"])
    too_large = {"detail": "The request is too large (at most 12 MB).",
                 "code": "request_too_large"}
    thirty_mb = b'{"nik": "' + b"1" * (30 * 1024 * 1024) + b'"}'
    just_over = b'{"ids": [' + b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 11) + b"1]}"
    assert len(just_over) == settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    photo = {"photo": ("bukti.jpg", b"\xff\xd8" + b"0" * (20 * 1024 * 1024), "image/jpeg")}
    for debug in (False, True):  # DEBUG (make run) answered Django's HTML error page
        settings.DEBUG = debug
        for answer in (
                http.post("/api/v1/auth/otp/", data=thirty_mb, headers=JSON),
                resident.post("/api/v1/notifications/read/", data=just_over, headers=JSON),
                courier.post(f"/api/v1/field/deliveries/{delivery.id}/deliver/",
                             data={"recipient_name": "Siti"}, files=photo, headers=EN)):
            assert (answer.status_code, answer.headers["Content-Type"], answer.json()) == (
                413, "application/json", too_large)
    answer = http.post("/api/v1/auth/otp/", data=thirty_mb,
                       headers={"Content-Type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (413, "request_too_large")
    assert OtpChallenge.objects.count() == 0
    assert unread(world["resident"]) == unread_before
    delivery.refresh_from_db()
    assert (delivery.status, delivery.recipient_name) == ("assigned", "")


def test_too_many_fields_are_a_json_400_in_debug_too(http, world, inbox, settings):
    resident = http.with_token(world["tokens"]["resident"])
    fields = "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    too_many = {"detail": "The request has too many fields.", "code": "too_many_fields"}
    for debug in (False, True):
        settings.DEBUG = debug
        answer = resident.post("/api/v1/notifications/read/", data=fields, headers={
            "Content-Type": "application/x-www-form-urlencoded", **EN})
        assert (answer.status_code, answer.json()) == (400, too_many)
        answer = http.get(f"/api/v1/offices/?{fields}", headers=EN)
        assert (answer.status_code, answer.json()) == (400, too_many)
    assert unread(world["resident"]) == 2


def test_a_nul_character_is_a_400_wherever_it_comes(http, world):
    """PostgreSQL refuses NUL in text: a lookup or a write with one was a 500 there."""
    resident = http.with_token(world["tokens"]["resident"])
    nul_in_address = {"detail": "The address contains a NUL character.",
                      "code": "null_character"}
    for url in ("/api/v1/bookings/AB%00C/", f"/api/v1/offices/{world['office'].code}%00/",
                f"/api/v1/offices/{world['office'].code}/slots/?service=KTP%00"):
        answer = resident.get(url, headers=EN)
        assert (answer.status_code, answer.json()) == (400, nul_in_address), url
    page = http.get("/staff/%00/")
    assert (page.status_code, page.headers["Content-Type"]) == (400,
                                                                "text/html; charset=utf-8")
    answer = http.post("/api/v1/auth/otp/", json={"nik": "3275\x00", "phone": "0812\x00"},
                       headers=EN)
    assert (answer.status_code, answer.json()["code"]) == (400, "null_characters_not_allowed")
    assert OtpChallenge.objects.count() == 0
    # A choice quotes what it refuses; the idempotent answer is kept all the same.
    complaint = {"office": world["office"].code, "text": "Antrean terlalu lama sekali.",
                 "category": "\x00"}
    for attempt in range(2):
        answer = resident.post("/api/v1/complaints/", json=complaint,
                               headers={"Idempotency-Key": "complaint-nul", **EN})
        assert (answer.status_code, answer.json()["code"]) == (400, "invalid_choice")
        assert answer.headers.get("Idempotent-Replayed") == ("true" if attempt else None)
    answer = resident.post("/api/v1/complaints/", data={**complaint, "category": "a\x00"},
                           headers={"Idempotency-Key": "complaint-nul-form", **EN})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_choice")
    assert Complaint.objects.count() == 0


def test_malformed_multipart_and_long_queries_are_400s(http, world):
    courier = http.with_token(world["tokens"]["courier"])
    delivery = field_delivery_for(world)
    for body, content_type in ((b"--x\r\nnonsense", "multipart/form-data; boundary=x"),
                               (b"whatever", "multipart/form-data"),
                               ((b"--x\r\nContent-Disposition: form-data; name=\"photo\"; "
                                b"filename=\"a.jpg\"\r\n\r\n\xff\xd8"),
                                "multipart/form-data; boundary=x")):
        answer = courier.post(f"/api/v1/field/deliveries/{delivery.id}/deliver/", data=body,
                              headers={"Content-Type": content_type, **EN})
        assert answer.status_code == 400, body
        assert isinstance(answer.json()["code"], str)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.recipient_name) == ("assigned", "")
    answer = http.get(f"/api/v1/offices/{world['office'].code}/slots/?service="
                      + "x" * 60_000, headers=EN)
    assert (answer.status_code, answer.json()["code"]) == (400, "max_length")


def test_djangos_own_refusals_inside_a_view_have_the_contracts_shape(settings):
    """Behind the middleware's check of Content-Length, Django's refusals while a view
    reads the request are answered by the exception handler, DEBUG or not."""
    settings.DEBUG = True
    with translation.override("en"):
        answers = [exception_handler(error, {}) for error in (
            RequestDataTooBig("too big"), TooManyFilesSent("files"),
            SuspiciousMultipartForm("odd"))]
        assert [(a.status_code, a.data) for a in answers] == [
            (413, {"detail": "The request is too large (at most 12 MB).",
                   "code": "request_too_large"}),
            (400, {"detail": "The request has too many fields.", "code": "too_many_fields"}),
            (400, {"detail": "The request could not be understood.", "code": "bad_request"}),
        ]
