"""Sign-in by one-time code (residents) and by password (field team), over HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import OtpChallenge, Resident, Role
from registry.notify.backends import SimulatedGateway
from tests.api.sign_in import last_code, sms_gateway, tasks_at_once  # noqa: F401 - fixtures
from tests.factories import make_nik

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("sms_gateway", "tasks_at_once")]


def test_a_new_resident_registers_signs_in_and_reads_me(http, office_a):
    nik = make_nik(regency="3275")
    response = http.post("/api/v1/auth/otp/", {"nik": nik, "phone": "0812-7777-0001",
                                               "name": "Budi Santoso",
                                               "birth_date": "1990-05-17"})
    assert response.status_code == 202, response.text
    assert response.json()["expires_at"].endswith("+07:00")
    assert SimulatedGateway.sent("sms")[-1]["address"] == "+6281277770001"
    assert OtpChallenge.objects.get().code_hash != last_code()  # only a hash is stored
    # A request alone writes no resident: a stranger's guess holds no NIK against its owner.
    assert not Resident.objects.filter(nik=nik).exists()
    response = http.post("/api/v1/auth/token/", {"nik": nik, "otp": last_code()})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "resident"}
    assert body["resident"]["nik"] == "************" + nik[-4:]
    assert body["resident"]["domicile_office"] == "3275"
    me = http.with_token(body["access"]).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["name"] == "Budi Santoso"
    assert me.json()["phone"] == "+6281277770001"
    assert me.json()["identity_verified"] is False  # the app asks them to bring the KTP-el
    registered = Resident.objects.get(nik=nik)
    assert (registered.name, registered.birth_date.isoformat()) == ("Budi Santoso",
                                                                     "1990-05-17")
    assert registered.app_registered_at is not None
    assert registered.phone_bound_at == registered.app_registered_at
    assert registered.identity_verified_at is None  # not verified until the desk sees the KTP


def test_an_unknown_nik_without_name_gets_the_same_answer_and_nothing_is_sent(http, office_a):
    nik = make_nik()
    response = http.post("/api/v1/auth/otp/", {"nik": nik, "phone": "081277770002"},
                         headers={"Accept-Language": "en"})
    assert response.status_code == 202
    assert response.json()["detail"] == (
        "If this phone may sign in with this NIK, a code was sent to it. It is valid for "
        "5 minutes.")
    assert not Resident.objects.exists()
    assert SimulatedGateway.sent("sms") == []
    assert list(OtpChallenge.objects.values_list("nik", "phone", "sent", "binds_phone")) == [
        (nik, "+6281277770002", False, False)]
    response = http.post("/api/v1/auth/token/", {"nik": nik, "otp": "123456"})
    assert (response.status_code, response.json()["code"]) == (400, "otp_expired")


@pytest.mark.parametrize(("nik", "code"), [
    ("12345", "nik_format"), ("2075011203850001", "nik_province"),
    ("3275013202850001", "nik_date"),
])
def test_malformed_niks_are_refused(http, office_a, nik, code):
    response = http.post("/api/v1/auth/otp/", {"nik": nik, "phone": "081277770002",
                                               "name": "X", "birth_date": "1985-02-12"})
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Resident.objects.exists()
    assert not OtpChallenge.objects.exists()


def test_a_nik_that_disagrees_with_the_birth_date_is_accepted_and_flagged(http, office_a):
    nik = make_nik(born=timezone.datetime(1990, 5, 17).date())
    response = http.post("/api/v1/auth/otp/", {"nik": nik, "phone": "081277770003",
                                               "name": "Agus", "birth_date": "1990-05-18"})
    assert response.status_code == 202
    assert http.post("/api/v1/auth/token/", {"nik": nik, "otp": last_code()}).status_code == 200
    assert Resident.objects.get(nik=nik).nik_needs_review is True


def test_the_code_goes_only_to_the_bound_phone(http, resident_a):
    before = Resident.objects.values().get(pk=resident_a.pk)
    response = http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": "081299990000"})
    assert response.status_code == 202
    assert SimulatedGateway.sent("sms") == []
    assert OtpChallenge.objects.get().sent is False
    response = http.post("/api/v1/auth/token/", {"nik": resident_a.nik, "otp": "123456"})
    assert (response.status_code, response.json()["code"]) == (400, "otp_expired")
    assert Resident.objects.values().get(pk=resident_a.pk) == before


def test_wrong_codes_are_400_then_429_after_five(http, resident_a):
    http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone})
    good = last_code()
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(5):
        response = http.post("/api/v1/auth/token/", {"nik": resident_a.nik, "otp": wrong})
        assert response.status_code == 400
        assert response.json()["code"] == "otp_wrong"
    response = http.post("/api/v1/auth/token/", {"nik": resident_a.nik, "otp": good})
    assert response.status_code == 429
    assert response.json()["code"] == "otp_locked"


def test_an_expired_code_is_refused(http, resident_a):
    http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone})
    OtpChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = http.post("/api/v1/auth/token/", {"nik": resident_a.nik, "otp": last_code()})
    assert response.status_code == 400
    assert response.json()["code"] == "otp_expired"


def test_a_code_works_once(http, resident_a):
    http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone})
    code = last_code()
    assert http.post("/api/v1/auth/token/", {"nik": resident_a.nik, "otp": code}
                     ).status_code == 200
    assert http.post("/api/v1/auth/token/", {"nik": resident_a.nik, "otp": code}
                     ).status_code == 400


def test_codes_are_throttled_per_nik_and_per_phone(http, resident_a, settings):
    settings.OTP_MAX_PER_WINDOW = 3
    for _ in range(3):
        assert http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone}
                         ).status_code == 202
    response = http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone})
    assert response.status_code == 429
    assert response.json()["code"] == "otp_throttled"
    assert int(response.headers["Retry-After"]) > 0
    # The same phone for another NIK is throttled too.
    response = http.post("/api/v1/auth/otp/", {"nik": make_nik(), "phone": resident_a.phone,
                                               "name": "Lain", "birth_date": "1990-05-17"})
    assert response.status_code == 429
    assert len(SimulatedGateway.sent("sms")) == 3


def test_a_second_code_within_a_minute_is_refused(http, resident_a, settings):
    settings.OTP_RESEND_INTERVAL = timedelta(seconds=60)
    assert http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone}
                     ).status_code == 202
    response = http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone})
    assert response.status_code == 429
    assert response.json()["code"] == "otp_too_soon"


def test_refresh_gives_a_new_access_token(http, resident_a):
    http.post("/api/v1/auth/otp/", {"nik": resident_a.nik, "phone": resident_a.phone})
    tokens = http.post("/api/v1/auth/token/", {"nik": resident_a.nik, "otp": last_code()}).json()
    response = http.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]})
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}  # rotated: tests/api/test_tokens.py
    assert http.with_token(response.json()["access"]).get("/api/v1/me/").status_code == 200
    bad = http.post("/api/v1/auth/refresh/", {"refresh": "not-a-token"})
    assert (bad.status_code, bad.json()["code"]) == (401, "token_not_valid")


def test_staff_token_for_the_field_team(http, make_staff, office_a):
    make_staff(office_a, Role.COURIER, username="kurir1")
    response = http.post("/api/v1/auth/staff-token/", {"username": "kurir1",
                                                       "password": "pass-for-tests-1"})
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    wrong = http.post("/api/v1/auth/staff-token/", {"username": "kurir1", "password": "x"})
    assert (wrong.status_code, wrong.json()["code"]) == (400, "invalid_credentials")


def test_staff_token_locks_after_repeated_failures(http, make_staff, office_a, settings):
    make_staff(office_a, Role.COURIER, username="kurir2")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert http.post("/api/v1/auth/staff-token/", {"username": "kurir2", "password": "x"}
                         ).status_code == 400
    response = http.post("/api/v1/auth/staff-token/", {"username": "kurir2", "password": "x"})
    assert response.status_code == 429
    response = http.post("/api/v1/auth/staff-token/", {"username": "kurir2",
                                                       "password": "pass-for-tests-1"})
    assert (response.status_code, response.json()["code"]) == (429, "locked_out")


def test_a_staff_token_is_not_a_resident(as_staff, make_staff, office_a):
    client = as_staff(make_staff(office_a, Role.COURIER))
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "code"}


def test_no_token_and_a_bad_token_are_401(http, office_a):
    assert http.get("/api/v1/me/").status_code == 401
    response = http.with_token("garbage").get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert isinstance(response.json()["detail"], str)
