"""Token revocation and rotation over real HTTP: a staff member's tokens end with a new
password, deactivation or a membership removed; refresh tokens work once and a reused
one ends the sign-in; residents sign out everywhere; staff refresh tokens last one
working day; the generation raised by a new phone ends a resident's tokens."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from registry.api.auth import (
    BearerAuthentication,
    TokenRefused,
    tokens_for_resident,
    tokens_refresh,
)
from registry.models import Resident, Role, StaffMembership, StaffTokenState
from registry.services.staff import (
    staff_membership_grant,
    staff_membership_revoke,
    staff_tokens_revoke,
)
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-for-tests-1"
SIGNED_OUT = (401, "token_not_valid")


def answer(response) -> tuple:
    return response.status_code, response.json()["code"]


def staff_sign_in(http, username: str) -> dict:
    response = http.post("/api/v1/auth/staff-token/", {"username": username,
                                                       "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def route(http, tokens: dict):
    return http.with_token(tokens["access"]).get("/api/v1/field/deliveries/")


def refresh(http, tokens: dict):
    return http.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]},
                     headers={"Accept-Language": "en"})


def me(http, tokens: dict):
    return http.with_token(tokens["access"]).get("/api/v1/me/")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def couriers(make_staff, office_a, office_b):
    """A courier of each office, signed in on their phones."""
    def make(http):
        joko = make_staff(office_a, Role.COURIER, username="kurir-joko")
        rudi = make_staff(office_b, Role.COURIER, username="kurir-rudi")
        return joko, staff_sign_in(http, "kurir-joko"), rudi, staff_sign_in(http, "kurir-rudi")
    return make


# --- Staff: password, deactivation, membership ---------------------------------


def test_a_new_password_set_by_code_ends_the_staff_members_tokens(http, couriers):
    joko, tokens, _rudi, other = couriers(http)
    assert route(http, tokens).status_code == 200
    joko.set_password("another-pass-2")
    joko.save()
    assert answer(route(http, tokens)) == SIGNED_OUT
    assert answer(refresh(http, tokens)) == SIGNED_OUT
    # The other office's courier is untouched, and the new password signs in again.
    assert route(http, other).status_code == 200
    assert refresh(http, other).status_code == 200
    response = http.post("/api/v1/auth/staff-token/", {"username": "kurir-joko",
                                                       "password": "another-pass-2"})
    assert route(http, response.json()).status_code == 200


def test_a_new_password_set_in_the_admin_ends_the_staff_members_tokens(http, couriers,
                                                                         client):
    joko, tokens, _rudi, other = couriers(http)
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    opts = get_user_model()._meta
    response = client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_password_change", args=[joko.pk]),
        {"password1": "Another-pass-2026", "password2": "Another-pass-2026",
         "usable_password": "true"})
    assert response.status_code == 302
    assert answer(route(http, tokens)) == SIGNED_OUT
    assert answer(refresh(http, tokens)) == SIGNED_OUT
    assert route(http, other).status_code == 200


def test_deactivation_ends_the_staff_members_tokens(http, couriers):
    joko, tokens, _rudi, other = couriers(http)
    get_user_model().objects.filter(pk=joko.pk).update(is_active=False)
    assert answer(route(http, tokens)) == SIGNED_OUT
    response = refresh(http, tokens)
    assert response.json() == {"detail": "The account is no longer active.",
                               "code": "token_not_valid"}
    assert response.status_code == 401
    assert route(http, other).status_code == 200
    assert not BlacklistedToken.objects.exists()  # the refused token was not spent


def test_a_removed_membership_ends_the_staff_members_tokens(http, couriers, office_b):
    joko, tokens, rudi, other = couriers(http)
    # Joko also serves the other office, so he remains a courier after the removal.
    staff_membership_grant(user=joko, office=office_b, role=Role.COURIER)
    kept = staff_sign_in(http, "kurir-joko")
    assert route(http, kept).status_code == 200
    staff_membership_revoke(
        membership=StaffMembership.objects.get(user=joko, office__code="3275"))
    for signed_in in (tokens, kept):
        assert answer(route(http, signed_in)) == SIGNED_OUT
        assert answer(refresh(http, signed_in)) == SIGNED_OUT
    assert StaffTokenState.objects.get(user=joko).generation == 1
    assert not StaffTokenState.objects.filter(user=rudi).exists()
    assert route(http, other).status_code == 200
    # Signing in again works, with the role he still has.
    assert route(http, staff_sign_in(http, "kurir-joko")).status_code == 200


def test_memberships_deleted_in_the_admin_end_the_tokens(http, couriers, client):
    joko, tokens, rudi, other = couriers(http)
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    membership = StaffMembership.objects.get(user=joko)
    response = client.post(reverse("admin:registry_staffmembership_changelist"),
                           {"action": "delete_selected", "_selected_action": [membership.pk],
                            "post": "yes"})
    assert response.status_code == 302
    assert not StaffMembership.objects.filter(user=joko).exists()
    assert answer(refresh(http, tokens)) == SIGNED_OUT
    assert StaffTokenState.objects.get(user=joko).generation == 1
    assert route(http, other).status_code == 200
    assert not StaffTokenState.objects.filter(user=rudi).exists()


# --- Rotation --------------------------------------------------------------------


def test_refresh_rotates_and_a_used_refresh_token_is_refused(http, resident_a):
    tokens = tokens_for_resident(resident_a)
    response = refresh(http, tokens)
    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != tokens["refresh"]
    assert me(http, rotated).status_code == 200
    # The rotated token works once in turn.
    newest = refresh(http, rotated)
    assert newest.status_code == 200
    assert me(http, newest.json()).status_code == 200
    assert BlacklistedToken.objects.count() == 2
    assert set(OutstandingToken.objects.values_list("jti", "user", "token")) == {
        (claims(tokens["refresh"])["jti"], None, ""),
        (claims(rotated["refresh"])["jti"], None, "")}


def test_a_rotated_out_token_used_again_ends_every_token_of_the_sign_in(
        http, resident_a, resident_b):
    tokens = tokens_for_resident(resident_a)
    rotated = refresh(http, tokens).json()
    other = tokens_for_resident(resident_b)
    # Someone who copied the first refresh token tries it: refused, and the holder's
    # new tokens end too, since nobody can tell which of the two is the thief.
    response = refresh(http, tokens)
    assert response.status_code == 401
    assert response.json() == {"detail": "This refresh token was already used. Sign in again.",
                               "code": "token_not_valid"}
    assert answer(me(http, rotated)) == SIGNED_OUT
    assert answer(refresh(http, rotated)) == SIGNED_OUT
    assert Resident.objects.get(pk=resident_a.pk).token_generation == 1
    # Shown a third time it is refused for the generation, which is not raised again.
    assert answer(refresh(http, tokens)) == SIGNED_OUT
    assert Resident.objects.get(pk=resident_a.pk).token_generation == 1
    assert Resident.objects.get(pk=resident_b.pk).token_generation == 0
    assert me(http, other).status_code == 200
    assert refresh(http, other).status_code == 200


def test_a_staff_refresh_token_is_rotated_and_works_once(http, couriers):
    joko, tokens, _rudi, _other = couriers(http)
    rotated = refresh(http, tokens)
    assert rotated.status_code == 200
    assert route(http, rotated.json()).status_code == 200
    assert answer(refresh(http, tokens)) == SIGNED_OUT
    assert answer(route(http, rotated.json())) == SIGNED_OUT
    assert StaffTokenState.objects.get(user=joko).generation == 1
    assert OutstandingToken.objects.get().user == joko


def test_bad_refresh_tokens_are_refused_and_spend_nothing(http, resident_a):
    access = tokens_for_resident(resident_a)["access"]
    for token in ("not-a-token", access):  # an access token is no refresh token
        assert answer(http.post("/api/v1/auth/refresh/", {"refresh": token})) == SIGNED_OUT
    missing = http.post("/api/v1/auth/refresh/", {})
    assert answer(missing) == (400, "required")
    assert not OutstandingToken.objects.exists()
    assert Resident.objects.get(pk=resident_a.pk).token_generation == 0


# --- Staff refresh: one working day ---------------------------------------------


def test_a_staff_refresh_token_lasts_a_working_day_and_rotation_keeps_its_end(
        http, couriers, resident_a, settings):
    assert settings.STAFF_REFRESH_HOURS == 12
    signed_in_at = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)  # 07:30 in Bekasi
    with time_machine.travel(signed_in_at, tick=False) as clock:
        _joko, tokens, _rudi, _other = couriers(http)
        resident = tokens_for_resident(resident_a)
        end = int((signed_in_at + timedelta(hours=12)).timestamp())
        assert claims(tokens["refresh"])["exp"] == end
        clock.move_to(signed_in_at + timedelta(hours=11, minutes=50))
        rotated = refresh(http, tokens).json()
        assert claims(rotated["refresh"])["exp"] == end
        assert claims(rotated["access"])["exp"] == end  # capped at the sign-in's end
        assert route(http, rotated).status_code == 200
        clock.move_to(signed_in_at + timedelta(hours=12, seconds=1))
        assert answer(refresh(http, rotated)) == SIGNED_OUT
        assert answer(route(http, rotated)) == SIGNED_OUT
        # A resident's refresh token lasts 30 days from each rotation.
        again = refresh(http, resident).json()
        assert claims(again["refresh"])["exp"] == int(
            (signed_in_at + timedelta(hours=12, seconds=1, days=30)).timestamp())


# --- Sign out everywhere ---------------------------------------------------------


def test_logout_ends_every_token_of_the_resident_and_no_one_elses(http, resident_a,
                                                                   resident_b):
    phone, tablet = tokens_for_resident(resident_a), tokens_for_resident(resident_a)
    other = tokens_for_resident(resident_b)
    response = http.with_token(phone["access"]).post("/api/v1/auth/logout/")
    assert (response.status_code, response.content) == (204, b"")
    for tokens in (phone, tablet):
        assert answer(me(http, tokens)) == SIGNED_OUT
        assert answer(refresh(http, tokens)) == SIGNED_OUT
    assert answer(http.with_token(phone["access"]).post("/api/v1/auth/logout/")) == SIGNED_OUT
    assert Resident.objects.get(pk=resident_a.pk).token_generation == 1
    assert Resident.objects.get(pk=resident_b.pk).token_generation == 0
    assert me(http, other).status_code == 200
    assert refresh(http, other).status_code == 200
    # Signing in again gives tokens that work.
    assert me(http, tokens_for_resident(resident_a)).status_code == 200


def test_logout_of_a_staff_member_ends_their_tokens(http, couriers):
    joko, tokens, _rudi, other = couriers(http)
    assert http.with_token(tokens["access"]).post("/api/v1/auth/logout/").status_code == 204
    assert answer(route(http, tokens)) == SIGNED_OUT
    assert answer(refresh(http, tokens)) == SIGNED_OUT
    assert StaffTokenState.objects.get(user=joko).generation == 1
    assert route(http, other).status_code == 200


def test_logout_needs_a_token(http, resident_a):
    assert answer(http.post("/api/v1/auth/logout/")) == (401, "not_authenticated")
    assert Resident.objects.get(pk=resident_a.pk).token_generation == 0


# --- A raised generation (a phone bound anew) ------------------------------------


def test_a_resident_token_after_the_generation_is_raised_is_refused(http, resident_a,
                                                                     resident_b):
    tokens, other = tokens_for_resident(resident_a), tokens_for_resident(resident_b)
    # What binding a new phone does (registry.desk, registry.otp).
    Resident.objects.filter(pk=resident_a.pk).update(token_generation=F("token_generation") + 1)
    response = http.with_token(tokens["access"]).get("/api/v1/me/",
                                                     headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.json() == {"detail": "You were signed out. Sign in again.",
                               "code": "token_not_valid"}
    assert answer(refresh(http, tokens)) == SIGNED_OUT
    assert not BlacklistedToken.objects.exists()
    assert me(http, other).status_code == 200
    assert me(http, tokens_for_resident(resident_a)).status_code == 200


def test_tokens_without_a_generation_are_refused(http, resident_a, make_staff, office_a):
    """Tokens minted the way they were before revocation (simplejwt's defaults)."""
    from rest_framework_simplejwt.tokens import AccessToken

    resident_token = AccessToken()
    resident_token["resident_id"] = resident_a.pk
    courier = make_staff(office_a, Role.COURIER)
    staff_token = AccessToken.for_user(courier)
    assert answer(http.with_token(str(resident_token)).get("/api/v1/me/")) == SIGNED_OUT
    assert answer(route(http, {"access": str(staff_token)})) == SIGNED_OUT


def test_a_malformed_token_is_refused_in_indonesian_by_default(http):
    # simplejwt's own refusals, which it translates only as id_ID (registry.api.auth).
    for header, code, indonesian, english in [
        ("Bearer", "bad_authorization_header",
         "Header Authorization harus berisi dua nilai yang dipisah spasi (Bearer <token>).",
         "Authorization header must contain two space-delimited values"),
        ("Bearer abc", "token_not_valid", "Token ini tidak berlaku. Silakan masuk lagi.",
         "Given token not valid for any token type"),
    ]:
        answer = http.get("/api/v1/me/", headers={"Authorization": header})
        assert (answer.status_code, answer.json()) == (401, {"detail": indonesian,
                                                             "code": code})
        answer = http.get("/api/v1/me/", headers={"Authorization": header,
                                                 "Accept-Language": "en"})
        assert answer.json() == {"detail": english, "code": code}


# --- Cost --------------------------------------------------------------------------


def test_authentication_costs_one_query(resident_a, make_staff, office_a, office_b,
                                        django_assert_num_queries):
    courier = make_staff(office_a, Role.COURIER)
    revoked = make_staff(office_b, Role.COURIER)
    staff_tokens_revoke(user=revoked)  # has a token state row
    from registry.api.auth import tokens_for_staff

    for token in (tokens_for_resident(resident_a)["access"],
                  tokens_for_staff(courier)["access"], tokens_for_staff(revoked)["access"]):
        request = RequestFactory().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
        with django_assert_num_queries(1):
            user, _token = BearerAuthentication().authenticate(request)
        assert user.is_authenticated


# --- Two uses at once ------------------------------------------------------------


@pytest.mark.postgres
def test_the_same_refresh_token_used_at_once_succeeds_exactly_once(resident_a):
    threads = 8
    for _round in range(5):
        tokens = tokens_for_resident(resident_a)
        before = Resident.objects.get(pk=resident_a.pk).token_generation
        results, errors = race(lambda _i, token=tokens["refresh"]: tokens_refresh(refresh=token),
                               threads)
        pairs = [pair for pair in results if pair is not None]
        assert len(pairs) == 1, errors
        assert len(errors) == threads - 1
        assert all(isinstance(e, TokenRefused) and e.code == "token_not_valid" for e in errors)
        assert BlacklistedToken.objects.filter(
            token__jti=claims(tokens["refresh"])["jti"]).count() == 1
        # The losers were reuses: the winner's new pair ended with them.
        assert Resident.objects.get(pk=resident_a.pk).token_generation > before
        with pytest.raises(TokenRefused):
            tokens_refresh(refresh=pairs[0]["refresh"])
