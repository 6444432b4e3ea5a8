"""Bearer tokens (JWT) for residents and staff.

Residents sign in with a one-time code and are not Django users: their tokens carry a
`resident_id` claim and authenticate as a ResidentPrincipal. Staff (the field team)
sign in with username and password and authenticate as their Django user.

Revocation. Every token, access and refresh, carries its principal's generation
(`gen`): Resident.token_generation, or StaffTokenState.generation for staff (0 while
they have no row). Raising it (sign out everywhere, a phone bound anew, a membership
removed, a refresh token used twice) ends every token issued before. A staff token also
carries a keyed hash of the password hash (`pwd`, as Django's session auth hash), so a
new password ends it whichever way it was set; an inactive account's tokens end too.

Rotation. A refresh token works once: refreshing answers a new pair, and records the
old token's id (never the token) in simplejwt's blacklist tables. A used token shown
again was copied, or its owner's was: the generation is raised, so the whole sign-in
ends for both holders (the OAuth 2.0 Security BCP, RFC 9700 section 4.14.2). A staff
refresh token lasts STAFF_REFRESH_HOURS from the sign-in, rotation keeps that end; a
resident's lasts JWT_REFRESH_DAYS from each rotation.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from registry import tenancy
from registry.errors import DomainError
from registry.models import Resident, Role, StaffTokenState
from registry.services.residents import resident_tokens_revoke
from registry.services.staff import staff_tokens_revoke

RESIDENT_CLAIM = "resident_id"

# What simplejwt answers a bad token with. It ships these in Indonesian as `id_ID`, which
# Django does not use for `id`; listed here, they are extracted into this project's
# catalogue, and Django finds them there (one merged catalogue per language).
SIMPLEJWT_MESSAGES = [
    gettext_noop("Authorization header must contain two space-delimited values"),
    gettext_noop("Given token not valid for any token type"),
    gettext_noop("Token contained no recognizable user identification"),
    gettext_noop("User not found"),
    gettext_noop("User is inactive"),
    gettext_noop("The user's password has been changed."),
    gettext_noop("Token is expired"),
    gettext_noop("Token is invalid"),
    gettext_noop("Token is invalid or expired"),
    gettext_noop("Token has no id"),
    gettext_noop("Token has no type"),
    gettext_noop("Token has wrong type"),
    gettext_noop("Token is blacklisted"),
]
GENERATION_CLAIM = "gen"
CREDENTIALS_CLAIM = "pwd"


class TokenRefused(DomainError):
    """The token is not valid (any more): the app signs in again."""

    status = 401

    def __init__(self, message):
        super().__init__(message, "token_not_valid")


class ResidentPrincipal:
    """request.user for a resident's token."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, resident: Resident):
        self.resident = resident
        self.pk = f"resident:{resident.pk}"

    def __str__(self):
        return self.pk


class _RefreshToken(RefreshToken):
    """A refresh token whose one use is checked by tokens_refresh (the blacklist row
    it inserts), not by a lookup when it is read: a used token must reach
    tokens_refresh, which tells it apart from a forged or expired one."""

    def check_blacklist(self) -> None:
        return None


def _password_hash(user) -> str:
    """Changes whenever the password does, by whatever path; keyed with SECRET_KEY, so
    the token does not reveal the password hash (unlike simplejwt's unkeyed MD5)."""
    return salted_hmac("registry.api.auth.password", user.password,
                       algorithm="sha256").hexdigest()[:32]


def _staff_generation(user) -> int:
    return StaffTokenState.objects.filter(user=user).values_list(
        "generation", flat=True).first() or 0


def _pair(refresh: RefreshToken) -> dict:
    access = refresh.access_token
    # An access token never outlives its refresh token (a staff sign-in's end).
    access["exp"] = min(access["exp"], refresh["exp"])
    return {"access": str(access), "refresh": str(refresh)}


def _resident_refresh(resident_id: int, generation: int) -> RefreshToken:
    refresh = _RefreshToken()
    refresh[RESIDENT_CLAIM] = resident_id
    refresh[GENERATION_CLAIM] = generation
    return refresh


def _staff_refresh(user, generation: int, *, expires: int | None = None) -> RefreshToken:
    refresh = _RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[GENERATION_CLAIM] = generation
    refresh[CREDENTIALS_CLAIM] = _password_hash(user)
    if expires is None:
        refresh.set_exp(lifetime=timedelta(hours=settings.STAFF_REFRESH_HOURS))
    else:
        refresh["exp"] = expires
    return refresh


def tokens_for_resident(resident: Resident) -> dict:
    # The generation is read afresh: the instance may predate a raise by F().
    generation = Resident.objects.filter(pk=resident.pk).values_list(
        "token_generation", flat=True).get()
    return _pair(_resident_refresh(resident.pk, generation))


def tokens_for_staff(user) -> dict:
    return _pair(_staff_refresh(user, _staff_generation(user)))


def _principal_of(token):
    """The resident or staff user a token names, if the token is still theirs; raises
    TokenRefused otherwise. One query."""
    generation = token.get(GENERATION_CLAIM)
    if RESIDENT_CLAIM in token:
        resident = Resident.objects.filter(pk=token[RESIDENT_CLAIM]).first()
        if resident is None:
            raise TokenRefused(_("The account no longer exists."))
        if generation != resident.token_generation:
            raise TokenRefused(_("You were signed out. Sign in again."))
        return resident
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = get_user_model().objects.select_related("token_state").filter(pk=user_id).first()
    if user is None:
        raise TokenRefused(_("The account no longer exists."))
    if not user.is_active:
        raise TokenRefused(_("The account is no longer active."))
    try:
        current = user.token_state.generation
    except StaffTokenState.DoesNotExist:
        current = 0
    if generation != current or not constant_time_compare(
            str(token.get(CREDENTIALS_CLAIM, "")), _password_hash(user)):
        raise TokenRefused(_("You were signed out. Sign in again."))
    return user


def _revoke(principal) -> None:
    if isinstance(principal, Resident):
        resident_tokens_revoke(resident=principal)
    else:
        staff_tokens_revoke(user=principal)


def _spend(token, principal) -> bool:
    """Record the refresh token as used; False when it already was. Two requests with
    the same token race on BlacklistedToken's unique token: the second waits for the
    first to commit, then fails, so exactly one spends it."""
    outstanding, _created = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={"user": None if isinstance(principal, Resident) else principal,
                  # A used token is dead; its text is not kept all the same.
                  "token": "",
                  "created_at": datetime_from_epoch(token["iat"]),
                  "expires_at": datetime_from_epoch(token["exp"])})
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError:
        return False
    return True


def tokens_refresh(*, refresh: str) -> dict:
    """A new access and refresh token for a refresh token, which is spent.

    A spent token shown again raises its principal's generation (every token of theirs
    ends, the new pair too) and is refused. Raises TokenRefused (401)."""
    try:
        token = _RefreshToken(refresh)
    except TokenError:
        raise TokenRefused(_("The refresh token is invalid or expired. Sign in again.")
                           ) from None
    with transaction.atomic():
        principal = _principal_of(token)
        if _spend(token, principal):
            if isinstance(principal, Resident):
                return _pair(_resident_refresh(principal.pk, principal.token_generation))
            # The sign-in's end stays: rotation does not extend a working day.
            return _pair(_staff_refresh(principal, token[GENERATION_CLAIM],
                                        expires=token["exp"]))
        _revoke(principal)
    raise TokenRefused(_("This refresh token was already used. Sign in again."))


def tokens_revoke(*, principal) -> None:
    """Sign out everywhere: every token of the caller, access and refresh, ends."""
    if isinstance(principal, ResidentPrincipal):
        resident_tokens_revoke(resident=principal.resident)
    else:
        staff_tokens_revoke(user=principal)


def principal_key(user) -> str:
    """A stable key of who is calling, for idempotency records."""
    if isinstance(user, ResidentPrincipal):
        return user.pk
    return f"user:{user.pk}"


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        """One query: the resident, or the user with their token state."""
        try:
            principal = _principal_of(validated_token)
        except TokenRefused as refused:
            raise exceptions.AuthenticationFailed(refused.message, code=refused.code
                                                  ) from None
        if isinstance(principal, Resident):
            return ResidentPrincipal(principal)
        return principal


class IsResident(BasePermission):
    message = _("Sign in as a resident to use this.")

    def has_permission(self, request, view):
        return isinstance(request.user, ResidentPrincipal)


class IsStaff(BasePermission):
    message = _("Sign in as office staff to use this.")

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and not isinstance(user, ResidentPrincipal)
                    and user.is_active)


class IsCourier(IsStaff):
    message = _("Only couriers on the field team can use this.")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and bool(
            tenancy.staff_offices_with_role(request.user, Role.COURIER))
