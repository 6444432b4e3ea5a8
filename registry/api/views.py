"""The registry core's API: offices and services (public), sign-in, the resident's own
case files and inbox. Views parse and answer; the rules are in registry.services."""

from datetime import timedelta

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import selectors, services
from registry.api import serializers as s
from registry.api.auth import (
    IsResident,
    IsStaff,
    tokens_for_resident,
    tokens_for_staff,
    tokens_refresh,
    tokens_revoke,
)
from registry.calendar import OfficeCalendar, office_today
from registry.errors import DomainError, NotFound, Throttled
from registry.models import Resident, Service, Weekday

UPCOMING_CLOSURE_DAYS = 60


def office_or_404(code: str):
    office = selectors.office_get_public(code=code)
    if office is None:
        raise NotFound(_("No office has region code %(code)s.") % {"code": code[:8]},
                       "office_not_found")
    return office


class OfficeListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = s.OfficeSerializer

    def get_queryset(self):
        return selectors.offices_public()


class OfficeDetailView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=s.OfficeDetailSerializer)
    def get(self, request, code):
        office = office_or_404(code)
        today = office_today(office)
        calendar = OfficeCalendar(office, today, today + timedelta(days=UPCOMING_CLOSURE_DAYS))
        weekday_names = dict(Weekday.choices)
        data = {
            "code": office.code, "name": office.name, "timezone": office.timezone,
            "address": office.address, "contacts": office.contacts(),
            "latitude": office.latitude,
            "longitude": office.longitude,
            "opening_hours": [
                {"weekday": day, "day": str(weekday_names[day]), "opens": hours.opens,
                 "closes": hours.closes}
                for day, hours in sorted(calendar.hours.items())
            ],
            "today": today,
            "open_today": calendar.is_working_day(today),
            "upcoming_closures": [
                {"date": day, "reason": calendar.closed_reason(day)}
                for day in _days(today, calendar.end)
                if calendar.closed_reason(day) not in (None, "weekend")
            ],
            **selectors.office_link_state(office=office),
        }
        return Response(s.OfficeDetailSerializer(data).data)


def _days(start, end):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


class OfficeServiceListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = s.ServiceSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Service.objects.none()
        return selectors.services_for_office(office=office_or_404(self.kwargs["code"]))


class OtpRequestView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.OtpRequestSerializer, responses={202: s.OtpSentSerializer})
    def post(self, request):
        serializer = s.OtpRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        challenge = services.otp_request(
            nik=data["nik"], phone=data["phone"], name=data.get("name", ""),
            birth_date=data.get("birth_date"), sex=data.get("sex", ""),
            language=request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("id", "en") else "id",
        )
        body = s.OtpSentSerializer({"detail": _("A code was sent to your phone."),
                                    "expires_at": challenge.expires_at}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.TokenRequestSerializer, responses=s.TokenResponseSerializer)
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resident = services.otp_verify(nik=serializer.validated_data["nik"],
                                       code=serializer.validated_data["otp"])
        resident = Resident.objects.select_related("domicile_office").get(pk=resident.pk)
        return Response({**tokens_for_resident(resident),
                         "resident": s.MeSerializer(resident).data})


class RefreshView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=s.RefreshRequestSerializer,
        responses={
            200: OpenApiResponse(s.TokenPairSerializer, description=(
                "A new access token and a new refresh token; the one sent is spent. Staff "
                "refresh tokens keep the sign-in's end (STAFF_REFRESH_HOURS).")),
            400: OpenApiResponse(s.ErrorSerializer, description="no refresh token sent"),
            401: OpenApiResponse(s.ErrorSerializer, description=(
                "token_not_valid: invalid, expired, revoked or already used (a used one "
                "also ends every token of the account)")),
        })
    def post(self, request):
        serializer = s.RefreshRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(tokens_refresh(refresh=serializer.validated_data["refresh"]))


class LogoutView(APIView):
    """Sign out everywhere: every token of the caller ends, on every device."""

    permission_classes = [IsResident | IsStaff]

    @extend_schema(request=None, responses={
        204: OpenApiResponse(description="signed out; every token of the account ends"),
        401: OpenApiResponse(s.ErrorSerializer, description="no token, or not valid"),
    })
    def post(self, request):
        tokens_revoke(principal=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffTokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.StaffTokenRequestSerializer, responses={
        200: s.TokenPairSerializer, 400: OpenApiResponse(description="wrong credentials"),
        429: OpenApiResponse(description="locked out after repeated failures")})
    def post(self, request):
        serializer = s.StaffTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request
        user = authenticate(request=django_request, **serializer.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            raise Throttled(_("Too many failed sign-ins. Try again in 30 minutes or ask your "
                              "office administrator."), "locked_out")
        if user is None or not user.is_active:
            raise DomainError(_("Wrong username or password."), "invalid_credentials")
        return Response(tokens_for_staff(user))


class MeView(APIView):
    permission_classes = [IsResident]

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        resident = Resident.objects.select_related("domicile_office").get(
            pk=request.user.resident.pk)
        return Response(s.MeSerializer(resident).data)


class ResidentScopedMixin:
    """For views of the signed-in resident's own rows: `get_resident_queryset` gets
    the resident and returns only theirs, so another resident's row answers 404."""

    permission_classes = [IsResident]

    def get_resident_queryset(self, resident):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request
            return self.serializer_class.Meta.model.objects.none()
        return self.get_resident_queryset(self.request.user.resident)


class ApplicationListView(ResidentScopedMixin, generics.ListAPIView):
    serializer_class = s.ApplicationSerializer

    def get_resident_queryset(self, resident):
        return selectors.applications_for_resident(resident=resident)


class ApplicationDetailView(ResidentScopedMixin, generics.RetrieveAPIView):
    """A case file of the signed-in resident; another resident's answers 404."""

    serializer_class = s.ApplicationSerializer

    def get_resident_queryset(self, resident):
        return selectors.applications_for_resident(resident=resident)


class NotificationListView(ResidentScopedMixin, generics.ListAPIView):
    serializer_class = s.NotificationSerializer

    def get_resident_queryset(self, resident):
        return selectors.notifications_for_resident(resident=resident)


class NotificationMarkReadView(APIView):
    permission_classes = [IsResident]

    @extend_schema(request=s.MarkReadSerializer, responses={200: None})
    def post(self, request):
        serializer = s.MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.notifications_mark_read(
            resident=request.user.resident, ids=serializer.validated_data.get("ids"))
        return Response({"marked": count})
