"""The registry core's API: offices and services (public), sign-in, the resident's own
case files and inbox. Views parse and answer; the rules are in registry.services."""

import ipaddress
from datetime import timedelta

from axes.helpers import get_client_ip_address
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import extensions, otp, selectors
from registry.api import serializers as s
from registry.api.auth import (
    IsResident,
    IsStaff,
    tokens_for_resident,
    tokens_for_staff,
    tokens_refresh,
    tokens_revoke,
)
from registry.api.idempotency import IdempotentCreateMixin
from registry.calendar import OfficeCalendar, office_today
from registry.errors import DomainError, NotFound, Throttled
from registry.models import Resident, Service, Weekday
from registry.personal_export import personal_export
from registry.services.corrections import correction_request_create
from registry.services.notifications import notifications_mark_read

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
        }
        for office_state in extensions.registered(extensions.OFFICE_STATE):
            data.update(office_state(office=office))
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


# Where no address can be read (a misconfigured proxy), requests count together: the
# throttle fails closed rather than open.
UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a value stored and counted, never bound to


def client_address(request) -> str:
    """The client's address as django-axes reads it (AXES_IPWARE_* settings), for the
    per-address throttle of the one-time codes."""
    try:
        return str(ipaddress.ip_address(get_client_ip_address(request._request)))
    except ValueError:
        return UNKNOWN_ADDRESS


def _sent_body(challenge):
    # One text whatever happened: it must not tell a bound phone from any other.
    return s.OtpSentSerializer({
        "detail": _("If this phone may sign in with this NIK, a code was sent to it. It "
                    "is valid for 5 minutes."),
        "expires_at": challenge.expires_at}).data


class OtpRequestView(APIView):
    """A sign-in code, sent only to a phone bound to the resident (or bound by a printed
    activation code, or by a self-registration); the same answer whatever the NIK and
    phone (registry.otp.otp_request)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.OtpRequestSerializer, responses={
        202: OpenApiResponse(s.OtpSentSerializer, description=(
            "The same answer whether or not the NIK is registered, the phone is bound to "
            "it or the activation code is right; a code goes out only where it may.")),
        400: OpenApiResponse(s.ErrorSerializer, description=(
            "malformed input: nik_format, nik_province, nik_date, phone_invalid, "
            "birth_date_future, or a field error")),
        429: OpenApiResponse(s.ErrorSerializer, description=(
            "otp_too_soon or otp_throttled (per NIK, per phone, per address); "
            "Retry-After says when to ask again")),
    })
    def post(self, request):
        serializer = s.OtpRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        challenge = otp.otp_request(
            nik=data["nik"], phone=data["phone"], address=client_address(request),
            activation_code=data.get("activation_code", ""), name=data.get("name", ""),
            birth_date=data.get("birth_date"), sex=data.get("sex", ""),
            language=request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("id", "en") else "id",
        )
        return Response(_sent_body(challenge), status=status.HTTP_202_ACCEPTED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=s.TokenRequestSerializer, responses={
        200: s.TokenResponseSerializer,
        400: OpenApiResponse(s.ErrorSerializer, description=(
            "otp_wrong, otp_expired (also: no code was sent for this NIK), nik_format...")),
        429: OpenApiResponse(s.ErrorSerializer, description="otp_locked: too many wrong codes"),
    })
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resident = otp.otp_verify(nik=serializer.validated_data["nik"],
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


class PhoneChangeView(APIView):
    """A signed-in resident moves the account to a new phone: a code goes to it, and
    another to the phone bound until now."""

    permission_classes = [IsResident]

    @extend_schema(request=s.PhoneChangeSerializer, responses={
        202: s.OtpSentSerializer,
        400: OpenApiResponse(s.ErrorSerializer,
                             description="phone_invalid, phone_unchanged or phone_not_bound"),
        401: OpenApiResponse(s.ErrorSerializer, description="no token, or not valid"),
        429: OpenApiResponse(s.ErrorSerializer, description=(
            "otp_too_soon or otp_throttled, as for auth/otp; with Retry-After")),
    })
    def post(self, request):
        serializer = s.PhoneChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        challenge = otp.phone_change_request(
            resident=request.user.resident, phone=serializer.validated_data["phone"],
            address=client_address(request))
        body = s.OtpSentSerializer({"detail": _("A code was sent to the new phone and "
                                                "another to your old phone. Both are "
                                                "valid for 5 minutes."),
                                    "expires_at": challenge.expires_at}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class PhoneChangeConfirmView(APIView):
    """The codes from the new phone and from the old one bind the new phone. The old
    phone's sessions end and it is told by SMS; this device gets new tokens."""

    permission_classes = [IsResident]

    @extend_schema(request=s.PhoneChangeConfirmSerializer, responses={
        200: s.TokenResponseSerializer,
        400: OpenApiResponse(s.ErrorSerializer, description="otp_wrong or otp_expired"),
        401: OpenApiResponse(s.ErrorSerializer, description="no token, or not valid"),
        429: OpenApiResponse(s.ErrorSerializer, description="otp_locked: too many wrong codes"),
    })
    def post(self, request):
        serializer = s.PhoneChangeConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resident = otp.phone_change_confirm(
            resident=request.user.resident, code=serializer.validated_data["otp"],
            old_phone_code=serializer.validated_data["old_phone_otp"])
        resident = Resident.objects.select_related("domicile_office").get(pk=resident.pk)
        return Response({**tokens_for_resident(resident),
                         "resident": s.MeSerializer(resident).data})


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
        count = notifications_mark_read(
            resident=request.user.resident, ids=serializer.validated_data.get("ids"))
        return Response({"marked": count})


class AccessLogView(generics.ListAPIView):
    """Who looked at my data: each view of the resident's personal data by staff, and
    each time a staff member saw their full NIK, newest first: the office, the role,
    what was seen and why; never the staff member's name."""

    permission_classes = [IsResident]
    serializer_class = s.AccessEntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request
            return Resident.objects.none()
        return selectors.access_log_for_resident(resident=self.request.user.resident)


class PersonalExportView(APIView):
    """All my data as one JSON document."""

    permission_classes = [IsResident]

    @extend_schema(responses={200: OpenApiResponse(s.PersonalExportSerializer, description=(
        "The resident's data, section by section: profile (the full NIK included), "
        "applications with their timelines, notifications, correction_requests, "
        "access_log, and the sections of the installed apps: bookings, documents (file "
        "metadata only: name, type, size, when sent), cards, tickets, handovers, "
        "deliveries, complaints with their responses, survey_answers. Each section is "
        "a list of objects (profile: one object)."))}, parameters=[OpenApiParameter(
        "Content-Disposition", location=OpenApiParameter.HEADER, response=[200],
        description='attachment; filename="e-open-data.json"')])
    def get(self, request):
        document = personal_export(resident=request.user.resident)
        return Response(document, headers={
            "Content-Disposition": 'attachment; filename="e-open-data.json"'})


@extend_schema_view(
    get=extend_schema(responses=s.CorrectionRequestSerializer(many=True)),
    post=extend_schema(request=s.CorrectionCreateSerializer, responses={
        201: s.CorrectionRequestSerializer,
        400: OpenApiResponse(s.ErrorSerializer, description=(
            "a field error, value_required, value_too_long, email_invalid, "
            "birth_date_invalid, sex_invalid, value_unchanged, note_too_long, no_office "
            "(no office holds the resident's data yet) or too_many_open_requests "
            "(at most 5 open at once)")),
    }),
)
class CorrectionRequestListView(IdempotentCreateMixin, ResidentScopedMixin,
                                generics.ListCreateAPIView):
    """My requests to correct my data, newest first; a new one goes to the front desk
    of my domicile office (else of my latest case file), which answers it."""

    serializer_class = s.CorrectionRequestSerializer

    def get_resident_queryset(self, resident):
        return selectors.correction_requests_for_resident(resident=resident)

    def create(self, request, *args, **kwargs):
        serializer = s.CorrectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = correction_request_create(
            resident=request.user.resident, field=data["field"],
            value=data.get("value", data.get("requested_value", "")),
            note=data.get("note", ""))
        created = selectors.correction_requests_for_resident(
            resident=request.user.resident).get(pk=created.pk)
        return Response(s.CorrectionRequestSerializer(created).data,
                        status=status.HTTP_201_CREATED)
