"""Bearer tokens (JWT) for residents and staff.

Residents sign in with a one-time code and are not Django users: their tokens carry a
`resident_id` claim and authenticate as a ResidentPrincipal. Staff (the field team)
sign in with username and password and authenticate as their Django user.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import RefreshToken

from registry import tenancy
from registry.models import Resident, Role

RESIDENT_CLAIM = "resident_id"


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


def tokens_for_resident(resident: Resident) -> dict:
    refresh = RefreshToken()
    refresh[RESIDENT_CLAIM] = resident.pk
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def tokens_for_staff(user) -> dict:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def principal_key(user) -> str:
    """A stable key of who is calling, for idempotency records."""
    if isinstance(user, ResidentPrincipal):
        return user.pk
    return f"user:{user.pk}"


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        if RESIDENT_CLAIM in validated_token:
            resident = Resident.objects.filter(pk=validated_token[RESIDENT_CLAIM]).first()
            if resident is None:
                raise exceptions.AuthenticationFailed(_("The account no longer exists."),
                                                      code="user_not_found")
            return ResidentPrincipal(resident)
        return super().get_user(validated_token)


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
