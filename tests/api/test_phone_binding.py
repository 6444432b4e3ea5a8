"""Issue 12, account takeover 1: a NIK alone never gets a sign-in code to a stranger's
phone. Over HTTP: who receives codes, the same answer for every case, the throttle
before any lookup, activation codes, and a signed-in resident changing their phone."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry import otp
from registry.models import ActivationCode, OtpChallenge, Resident, Role
from registry.notify.backends import SimulatedGateway
from tests.api.sign_in import last_code, sms_gateway, sms_to, tasks_at_once  # noqa: F401
from tests.factories import ResidentFactory, make_nik

OTP = "/api/v1/auth/otp/"
TOKEN = "/api/v1/auth/token/"
STRANGER = "+6281299990000"


def resident_fields(resident):
    return Resident.objects.values().get(pk=resident.pk)


def desk_code(office, resident, make_staff):
    desk = make_staff(office, Role.FRONT_DESK, username=f"desk-{resident.pk}")
    return otp.activation_code_issue(office=office, resident=resident, by=desk)


@pytest.fixture
def phoneless_a(office_a):
    """Booked at the desk: no phone at all."""
    return ResidentFactory(domicile_office=office_a, phone="", name="Siti Aminah")


@pytest.fixture
def typed_in_a(office_a):
    """Staff typed a contact number: not bound."""
    return ResidentFactory(domicile_office=office_a, phone="+6281311112222",
                           phone_bound_at=None)


# --- Who receives a code (real HTTP, the code sent by the task) -----------------------



@pytest.mark.parametrize("case", ["phoneless", "typed_in"])
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_a_nik_alone_does_not_open_an_account(http, phoneless_a, typed_in_a, case):
    """The reported takeover: a phone-less resident's NIK and any phone answered 202, the
    code went to that phone and auth/token bound it. Now nothing is sent, nothing can be
    verified and the resident is unchanged; also for a phone staff typed in."""
    resident = phoneless_a if case == "phoneless" else typed_in_a
    before = resident_fields(resident)
    response = http.post(OTP, {"nik": resident.nik, "phone": STRANGER})
    assert response.status_code == 202
    assert SimulatedGateway.sent("sms") == []
    for guess in ("000000", "123456"):
        response = http.post(TOKEN, {"nik": resident.nik, "otp": guess})
        assert (response.status_code, response.json()["code"]) == (400, "otp_expired")
    assert resident_fields(resident) == before
    assert list(OtpChallenge.objects.values_list("sent", "binds_phone", "attempts")) == [
        (False, False, 0)]
    # The typed-in phone itself gets nothing either: it was never proved.
    if case == "typed_in":
        assert http.post(OTP, {"nik": resident.nik, "phone": resident.phone}).status_code == 202
        assert SimulatedGateway.sent("sms") == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_an_activation_code_from_the_desk_binds_the_new_phone(http, office_a, phoneless_a,
                                                              make_staff):
    code = desk_code(office_a, phoneless_a, make_staff)
    typed = code.lower().replace("-", " ")  # as read off the slip
    response = http.post(OTP, {"nik": phoneless_a.nik, "phone": "0813 5555 0001",
                               "activation_code": typed})
    assert response.status_code == 202
    assert [m["address"] for m in SimulatedGateway.sent("sms")] == ["+6281355550001"]
    activation = ActivationCode.objects.get()
    assert activation.used_at is None  # used only when the phone is bound
    assert Resident.objects.get(pk=phoneless_a.pk).phone == ""
    response = http.post(TOKEN, {"nik": phoneless_a.nik, "otp": last_code()})
    assert response.status_code == 200
    assert response.json()["resident"]["phone"] == "+6281355550001"
    phoneless_a.refresh_from_db()
    activation.refresh_from_db()
    assert phoneless_a.phone == "+6281355550001"
    assert phoneless_a.phone_bound_at == activation.used_at
    assert phoneless_a.token_generation == 0  # no phone was bound before
    me = http.with_token(response.json()["access"]).get("/api/v1/me/")
    assert me.json()["name"] == "Siti Aminah"
    # Single use: the same code again sends nothing.
    http.post(OTP, {"nik": phoneless_a.nik, "phone": "081366660002", "activation_code": code})
    assert sms_to("+6281366660002") == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_wrong_activation_codes_send_nothing_and_five_spend_the_code(http, office_a,
                                                                     phoneless_a, make_staff,
                                                                     settings):
    settings.OTP_MAX_PER_WINDOW = 10
    code = desk_code(office_a, phoneless_a, make_staff)
    wrong = "AAAA-AAAA" if code != "AAAA-AAAA" else "CCCC-CCCC"
    for tries in range(1, 6):
        response = http.post(OTP, {"nik": phoneless_a.nik, "phone": f"08135555000{tries}",
                                   "activation_code": wrong})
        assert response.status_code == 202
        assert ActivationCode.objects.get().attempts == tries
    assert SimulatedGateway.sent("sms") == []
    # The right code after five wrong ones: spent, nothing is sent.
    response = http.post(OTP, {"nik": phoneless_a.nik, "phone": "081355550009",
                               "activation_code": code})
    assert response.status_code == 202
    assert SimulatedGateway.sent("sms") == []
    assert Resident.objects.get(pk=phoneless_a.pk).phone_bound_at is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_a_new_phone_bound_by_activation_code_ends_the_old_phones_sessions(
        http, office_a, resident_a, make_staff):
    old_phone = resident_a.phone
    http.post(OTP, {"nik": resident_a.nik, "phone": old_phone})
    old_tokens = http.post(TOKEN, {"nik": resident_a.nik, "otp": last_code()}).json()
    code = desk_code(office_a, resident_a, make_staff)  # the phone was lost
    http.post(OTP, {"nik": resident_a.nik, "phone": "081355550001", "activation_code": code})
    response = http.post(TOKEN, {"nik": resident_a.nik, "otp": last_code("+6281355550001")})
    assert response.status_code == 200
    resident_a.refresh_from_db()
    assert (resident_a.phone, resident_a.token_generation) == ("+6281355550001", 1)
    assert http.with_token(old_tokens["access"]).get("/api/v1/me/").status_code == 401
    assert http.with_token(response.json()["access"]).get("/api/v1/me/").status_code == 200
    told = sms_to(old_phone)[-1]
    assert "changed" in told["body"] or "diubah" in told["body"]
    # The old phone no longer gets codes.
    http.post(OTP, {"nik": resident_a.nik, "phone": old_phone})
    assert len(sms_to(old_phone)) == 2  # its sign-in code and the notice


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_a_strangers_request_does_not_replace_the_residents_code(http, resident_a):
    http.post(OTP, {"nik": resident_a.nik, "phone": resident_a.phone})
    code = last_code()
    assert http.post(OTP, {"nik": resident_a.nik, "phone": STRANGER}).status_code == 202
    response = http.post(TOKEN, {"nik": resident_a.nik, "otp": code})
    assert response.status_code == 200


# --- The same answer, the same work ----------------------------------------------------


def _cases(office, make_staff):
    """The four requests that must not be told apart, and the good one."""
    bound = ResidentFactory(domicile_office=office)
    phoneless = ResidentFactory(domicile_office=office, phone="")
    with_code = ResidentFactory(domicile_office=office, phone="")
    desk_code(office, with_code, make_staff)
    return {
        "good": {"nik": bound.nik, "phone": bound.phone},
        "registered_other_phone": {"nik": bound.nik, "phone": "081277770001"},
        "phoneless_no_code": {"nik": phoneless.nik, "phone": "081277770002"},
        "phoneless_wrong_code": {"nik": with_code.nik, "phone": "081277770003",
                                 "activation_code": "AAAA-AAAA"},
        "unknown_without_fields": {"nik": make_nik(), "phone": "081277770004"},
    }


EXPIRES = re.compile(rb'"expires_at":"[^"]+"')


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_every_case_gets_a_byte_identical_answer(http, office_a, make_staff):
    answers = {}
    for name, body in _cases(office_a, make_staff).items():
        response = http.post(OTP, body, headers={"Accept-Language": "en"})
        headers = {k.lower(): v for k, v in response.headers.items()
                   if k.lower() not in ("date", "content-length")}
        answers[name] = (response.status_code, headers,
                         EXPIRES.sub(b'"expires_at":""', response.content))
        assert EXPIRES.search(response.content)
    assert len({json.dumps([a[0], a[1], a[2].decode()]) for a in answers.values()}) == 1
    status, _headers, content = answers["good"]
    assert status == 202
    assert json.loads(content) == {
        "detail": "If this phone may sign in with this NIK, a code was sent to it. It is "
                  "valid for 5 minutes.",
        "expires_at": ""}
    assert len(SimulatedGateway.sent("sms")) == 1  # only the good case's
    assert OtpChallenge.objects.count() == 5
    assert OtpChallenge.objects.filter(sent=True).count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("sms_gateway")
def test_every_case_runs_the_same_statements(office_a, make_staff,
                                             django_capture_on_commit_callbacks):
    cases = _cases(office_a, make_staff)
    client = Client()
    counts, queued = {}, {}
    for name, body in cases.items():
        with CaptureQueriesContext(connection) as queries, \
                django_capture_on_commit_callbacks() as callbacks:
            response = client.post(OTP, body, content_type="application/json")
        assert response.status_code == 202, response.content
        counts[name] = len(queries)
        queued[name] = len(callbacks)
    # Without an activation code: the throttle, the resident, the row (and savepoints).
    without_code = {name: n for name, n in counts.items() if name != "phoneless_wrong_code"}
    # A savepoint, the throttle's count, the resident, the row, the savepoint's release.
    assert without_code == dict.fromkeys(without_code, 5), counts
    assert queued == dict.fromkeys(cases, 1)  # the sending task, queued for each


@pytest.mark.django_db
@pytest.mark.usefixtures("sms_gateway")
def test_a_wrong_activation_code_costs_the_same_whoever_the_nik_is(office_a, make_staff):
    cases = _cases(office_a, make_staff)
    client = Client()
    counts = {}
    for name in ("good", "registered_other_phone", "phoneless_no_code",
                 "phoneless_wrong_code", "unknown_without_fields"):
        body = {**cases[name], "activation_code": "AAAA-AAAA"}
        with CaptureQueriesContext(connection) as queries:
            response = client.post(OTP, body, content_type="application/json")
        assert response.status_code == 202
        counts[name] = len(queries)
    # And the live activation codes of the NIK, and the count of a wrong try on them.
    assert counts == dict.fromkeys(counts, 7)


# --- The throttle counts before any lookup ----------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_28_requests_for_a_registered_nik_with_a_wrong_phone_get_429(http, resident_a):
    """Reported: 28 requests in a row got no 429 (phone_mismatch answered before the
    throttle counted anything)."""
    answers = [http.post(OTP, {"nik": resident_a.nik, "phone": STRANGER}) for _ in range(28)]
    assert [a.status_code for a in answers] == [202] * 5 + [429] * 23
    assert {a.json()["code"] for a in answers[5:]} == {"otp_throttled"}
    assert set(answers[5].json()) == {"detail", "code"}
    assert 3500 < int(answers[5].headers["Retry-After"]) <= 3601
    assert OtpChallenge.objects.count() == 5  # a throttled request writes nothing
    assert SimulatedGateway.sent("sms") == []


@pytest.mark.django_db
def test_the_address_limit_is_wider_and_counts_every_nik(office_a, settings):
    settings.OTP_RESEND_INTERVAL = timedelta(seconds=0)
    settings.OTP_MAX_PER_ADDRESS = 30
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(30):
        response = client.post(OTP, {"nik": make_nik(), "phone": f"08127000{n:04d}"},
                               content_type="application/json")
        assert response.status_code == 202
    response = client.post(OTP, {"nik": make_nik(), "phone": "081299998888"},
                           content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (429, "otp_throttled")
    assert OtpChallenge.objects.count() == 30
    assert set(OtpChallenge.objects.values_list("address", flat=True)) == {"203.0.113.7"}
    other = Client(REMOTE_ADDR="198.51.100.9").post(
        OTP, {"nik": make_nik(), "phone": "081299998888"}, content_type="application/json")
    assert other.status_code == 202


@pytest.mark.django_db
def test_a_forwarded_for_header_does_not_escape_the_address_limit(office_a, settings):
    # With no proxy in front, the header is the client's own words: each request below
    # claims another address, and all count against the connection's.
    settings.OTP_RESEND_INTERVAL = timedelta(seconds=0)
    settings.OTP_MAX_PER_ADDRESS = 3
    client = Client(REMOTE_ADDR="203.0.113.7")
    answers = [
        client.post(OTP, {"nik": make_nik(), "phone": f"08127000{n:04d}"},
                    content_type="application/json",
                    HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}").status_code
        for n in range(4)
    ]
    assert answers == [202, 202, 202, 429]
    assert set(OtpChallenge.objects.values_list("address", flat=True)) == {"203.0.113.7"}


@pytest.mark.django_db
def test_behind_a_proxy_the_forwarded_address_counts(office_a, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    response = Client(REMOTE_ADDR="10.0.0.2").post(
        OTP, {"nik": make_nik(), "phone": "081270000001"}, content_type="application/json",
        HTTP_X_FORWARDED_FOR="198.51.100.4, 10.0.0.2")
    assert response.status_code == 202
    assert list(OtpChallenge.objects.values_list("address", flat=True)) == ["198.51.100.4"]


# --- A signed-in resident changes their phone ------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_a_signed_in_resident_moves_to_a_new_phone(http, resident_a):
    old_phone = resident_a.phone
    http.post(OTP, {"nik": resident_a.nik, "phone": old_phone})
    tokens = http.post(TOKEN, {"nik": resident_a.nik, "otp": last_code()}).json()
    app = http.with_token(tokens["access"])
    response = app.post("/api/v1/me/phone/", {"phone": "0813-7777-0001"},
                        headers={"Accept-Language": "en"})
    assert response.status_code == 202
    assert response.json()["detail"] == ("A code was sent to the new phone and another to "
                                         "your old phone. Both are valid for 5 minutes.")
    assert resident_fields(resident_a)["phone"] == old_phone  # not before the codes
    new_code, old_code = last_code("+6281377770001"), last_code(old_phone)
    wrong = "000000" if new_code != "000000" else "111111"
    response = app.post("/api/v1/me/phone/confirm/", {"otp": wrong, "old_phone_otp": old_code})
    assert (response.status_code, response.json()["code"]) == (400, "otp_wrong")
    assert resident_fields(resident_a)["phone"] == old_phone
    response = app.post("/api/v1/me/phone/confirm/",
                        {"otp": new_code, "old_phone_otp": old_code})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "resident"}
    assert body["resident"]["phone"] == "+6281377770001"
    resident_a.refresh_from_db()
    assert (resident_a.phone, resident_a.token_generation) == ("+6281377770001", 1)
    # The old phone is told, and its session ends; this device goes on with new tokens.
    with_old = [m for m in sms_to(old_phone) if not re.search(r"\b\d{6}\b", m["body"])]
    assert len(with_old) == 1
    assert "KTP-el" in with_old[0]["body"]
    assert app.get("/api/v1/me/").status_code == 401
    assert http.with_token(body["access"]).get("/api/v1/me/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_a_session_alone_does_not_move_the_account(http, resident_a):
    # Someone holding the resident's session (a borrowed phone, a copied token) asks to
    # move the account to their own phone: the code sent to it is not enough without the
    # one sent to the resident's phone, and wrong guesses of that one spend it.
    http.post(OTP, {"nik": resident_a.nik, "phone": resident_a.phone})
    app = http.with_token(http.post(TOKEN, {"nik": resident_a.nik, "otp": last_code()}
                                    ).json()["access"])
    assert app.post("/api/v1/me/phone/", {"phone": STRANGER}).status_code == 202
    theirs = last_code(STRANGER)
    answers = [app.post("/api/v1/me/phone/confirm/",
                        {"otp": theirs, "old_phone_otp": f"{guess:06d}"}).json()["code"]
               for guess in range(6)
               if f"{guess:06d}" != last_code(resident_a.phone)]
    assert answers[:5] == ["otp_wrong"] * 5
    assert answers[5] == "otp_locked"
    assert resident_fields(resident_a)["phone"] == resident_a.phone
    assert Resident.objects.get(pk=resident_a.pk).token_generation == 0
    assert app.get("/api/v1/me/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sms_gateway", "tasks_at_once")
def test_changing_the_phone_is_refused_cleanly(http, resident_a, settings):
    assert http.post("/api/v1/me/phone/", {"phone": "081377770001"}).status_code == 401
    http.post(OTP, {"nik": resident_a.nik, "phone": resident_a.phone})
    app = http.with_token(http.post(TOKEN, {"nik": resident_a.nik, "otp": last_code()}
                                    ).json()["access"])
    same = app.post("/api/v1/me/phone/", {"phone": resident_a.phone})
    assert (same.status_code, same.json()["code"]) == (400, "phone_unchanged")
    bad = app.post("/api/v1/me/phone/", {"phone": "12"})
    assert (bad.status_code, bad.json()["code"]) == (400, "phone_invalid")
    nothing = app.post("/api/v1/me/phone/confirm/", {"otp": "123456",
                                                       "old_phone_otp": "123456"})
    assert (nothing.status_code, nothing.json()["code"]) == (400, "otp_expired")
    settings.OTP_MAX_PER_WINDOW = 2  # the sign-in request above counts for the NIK
    assert app.post("/api/v1/me/phone/", {"phone": "081377770001"}).status_code == 202
    throttled = app.post("/api/v1/me/phone/", {"phone": "081377770002"})
    assert (throttled.status_code, throttled.json()["code"]) == (429, "otp_throttled")
    assert "Retry-After" in throttled.headers
    assert Resident.objects.get(pk=resident_a.pk).phone == resident_a.phone


@pytest.mark.django_db
def test_an_expired_sign_in_window_needs_nothing_special(resident_a):
    # A challenge older than the window no longer counts.
    OtpChallenge.objects.bulk_create(
        OtpChallenge(nik=resident_a.nik, phone=STRANGER, address="203.0.113.7",
                     code_hash="x$y", created_at=timezone.now() - timedelta(hours=2),
                     expires_at=timezone.now() - timedelta(hours=2))
        for _ in range(10))
    response = Client(REMOTE_ADDR="203.0.113.7").post(
        OTP, {"nik": resident_a.nik, "phone": resident_a.phone},
        content_type="application/json")
    assert response.status_code == 202
