"""No input answers 500: every write endpoint of the live OpenAPI schema gets malformed
JSON, wrong types, huge strings, nulls and unknown fields, as an anonymous caller, a
resident and a courier. Each answer is a 4xx (or a success that ignores unknown
fields) in the contract's error shape. New endpoints are covered by being in the
schema; `PATH_VALUES` says which objects fill their path parameters."""

import json
import re

import pytest

from registry.api.auth import tokens_for_resident, tokens_for_staff
from registry.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

HUGE = "x" * 1_000_000


def _path_values(world):
    """Path parameter values per path pattern: the caller's own objects, so the body
    is really parsed rather than refused by a 404 on the path."""
    return {
        r"^/api/v1/offices/\{code\}/": {"code": world["office"].code},
        r"^/api/v1/applications/\{id\}/": {"id": world["application"].id},
        r"^/api/v1/field/deliveries/\{id\}/": {
            "id": __import__("tests.factories", fromlist=["*"]).field_delivery_for(world).id},
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


def _bodies(operation, spec):
    content = operation.get("requestBody", {}).get("content", {})
    json_schema = content.get("application/json", {}).get("schema") or next(
        iter(content.values()), {}).get("schema", {})
    props = _resolve(json_schema, spec).get("properties", {}) if json_schema else {}
    props = {name: _resolve(p, spec) for name, p in props.items()}
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
                response = http.request(method.upper(), url, data=body,
                                        headers={**headers, "Content-Type": content_type})
                problem = None
                if response.status_code >= 500:
                    problem = f"answered {response.status_code}"
                elif response.status_code >= 400:
                    data = response.json()
                    if not (isinstance(data.get("detail"), str) and isinstance(
                            data.get("code"), str)):
                        problem = f"error without detail/code: {response.text[:200]}"
                if problem:
                    failures.append(f"{method.upper()} {url} as {who}, {label}: {problem}")
    assert failures == []
