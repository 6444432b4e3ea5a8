"""The appointments API: bookable slots (public), the requirement pre-check, and the
resident's bookings. Views parse and answer; the rules are in the services."""

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.auth import IsResident
from registry.api.idempotency import IdempotentCreateMixin
from registry.api.parsers import JSONParser
from registry.api.views import ResidentScopedMixin, office_or_404
from registry.appointments import selectors
from registry.appointments.api import serializers as s
from registry.appointments.catalogue import office_catalogue
from registry.appointments.documents import booking_ics, booking_qr_svg
from registry.appointments.models import Booking, Slot
from registry.appointments.services.booking_documents import booking_document_upload
from registry.appointments.services.bookings import (
    booking_cancel,
    booking_create,
    booking_reschedule,
)
from registry.appointments.services.requirements import requirement_check
from registry.errors import NotFound
from registry.service_sets import as_service_set, requested_codes, service_set_get


class SlotListView(generics.ListAPIView):
    """Bookable slots of one service, with the places left."""

    permission_classes = [AllowAny]
    authentication_classes = []
    serializer_class = s.SlotSerializer

    @extend_schema(parameters=[s.SlotQuerySerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        # Every resident choosing a time reads this: the answer is cached a few seconds
        # under the office's slot version, which every booking, cancellation and
        # closure moves (slots_changed), so a place taken or freed shows at
        # once; the seconds only bound how long a slot that has just started stays
        # listed, and booking checks everything again under lock.
        seconds = settings.APPOINTMENTS_SLOTS_CACHE_SECONDS
        code = self.kwargs["code"]
        key = None
        if seconds and code.isdigit() and len(code) <= 8:
            key, version, body = selectors.slots_cached(code=code,
                                                        query=request.query_params)
            if body is not None:
                return HttpResponse(body, content_type="application/json")
        response = super().list(request, *args, **kwargs)
        body = JSONRenderer().render(response.data)
        if key:
            cache.set(key, (version, body), seconds)
        return HttpResponse(body, content_type="application/json")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Slot.objects.none()
        office = office_or_404(self.kwargs["code"])
        params = s.SlotQuerySerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        service = _office_and_service({
            "office": self.kwargs["code"], "service": params.validated_data["service"],
            "services": [c for c in params.validated_data["services"].split(",") if c]})[1]
        return (selectors.slots_bookable(office=office, service=service,
                                         date_from=params.validated_data.get("date_from"),
                                         date_to=params.validated_data.get("date_to"))
                .select_related("office", "lane"))


def _office_and_service(data):
    """The office and the visit's service, or its ServiceSet when `services` names
    more than the one service. One service comes from this process's copy of the
    office's catalogue (registry.appointments.catalogue)."""
    copy = office_catalogue(code=data["office"])
    if copy is None:
        office_or_404(data["office"])  # its NotFound
    codes = requested_codes(data["service"], data.get("services"))
    if len(codes) == 1:
        service = copy.services.get(str(codes[0])[:32])
        if service is None:
            raise NotFound(_("This service is not offered by this office."),
                           "service_not_found")
        return copy.office, service
    return copy.office, service_set_get(office=copy.office, codes=codes)


class RequirementCheckView(APIView):
    permission_classes = [IsResident]

    @extend_schema(request=s.RequirementCheckInSerializer,
                   responses={200: s.RequirementCheckSerializer,
                              404: OpenApiResponse(description="office_not_found, "
                                                               "service_not_found")})
    def post(self, request):
        serializer = s.RequirementCheckInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        office, service = _office_and_service(data)
        problems = requirement_check(office=office, service_set=as_service_set(service),
                                     visit_date=data["visit_date"],
                                     documents=data["documents"])
        return Response({"ok": not problems, "problems": problems})


@extend_schema_view(post=extend_schema(
    request=s.BookingCreateSerializer,
    responses={201: s.BookingSerializer,
               400: OpenApiResponse(description="requirements_not_met, with problems"),
               404: OpenApiResponse(description="office_not_found, service_not_found, "
                                                "slot_not_found"),
               409: OpenApiResponse(description="slot_full, active_booking_exists, "
                                                "idempotency_in_progress")}))
class BookingListCreateView(IdempotentCreateMixin, ResidentScopedMixin,
                            generics.ListCreateAPIView):
    """GET: the signed-in resident's bookings. POST: book a slot."""

    serializer_class = s.BookingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the answer's shape has no model
            return Booking.objects.none()
        return super().get_queryset()

    def get_resident_queryset(self, resident):
        return (selectors.bookings_for_resident(resident=resident)
                .prefetch_related("service__requirements", "documents__requirement",
                                    "application__extra_services__requirements"))

    def create(self, request, *args, **kwargs):
        serializer = s.BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        office, service = _office_and_service(data)
        # The slot is read by the statement that takes its place (booking_create).
        booking = booking_create(
            office=office, resident=request.user.resident, service=service,
            slot=data["slot"], documents=data["documents"])
        # The answer is made from the objects at hand (office, visit, slot, documents):
        # nothing is read back.
        body = s.BookingSerializer(booking, context={
            "request": request, "visit": as_service_set(service),
            "documents": booking.documents_written}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ResidentBookingMixin:
    permission_classes = [IsResident]

    def booking(self, request, code):
        booking = selectors.booking_for_resident(resident=request.user.resident, code=code)
        if booking is None:
            raise NotFound(_("Not found."), "not_found")
        return booking

    def answer(self, request, booking):
        booking = (selectors.bookings_for_resident(resident=request.user.resident)
                   .prefetch_related("service__requirements", "documents__requirement",
                                    "application__extra_services__requirements")
                   .get(pk=booking.pk))
        return Response(s.BookingSerializer(booking, context={"request": request}).data)


class BookingDetailView(ResidentBookingMixin, APIView):
    @extend_schema(responses=s.BookingSerializer)
    def get(self, request, code):
        return self.answer(request, self.booking(request, code))


class BookingCancelView(ResidentBookingMixin, APIView):
    @extend_schema(request=None, responses={
        200: s.BookingSerializer,
        409: OpenApiResponse(description="booking_not_cancellable, change_window_closed")})
    def post(self, request, code):
        booking = booking_cancel(booking=self.booking(request, code))
        return self.answer(request, booking)


class BookingRescheduleView(ResidentBookingMixin, APIView):
    @extend_schema(request=s.RescheduleSerializer, responses={
        200: s.BookingSerializer,
        409: OpenApiResponse(description="booking_not_reschedulable, change_window_closed, "
                                         "slot_full")})
    def post(self, request, code):
        booking = self.booking(request, code)
        serializer = s.RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        slot = Slot.objects.select_related("lane").filter(
            pk=serializer.validated_data["slot"], office_id=booking.office_id).first()
        if slot is None:
            raise NotFound(_("This slot does not exist for this service."), "slot_not_found")
        booking = booking_reschedule(booking=booking, slot=slot)
        return self.answer(request, booking)


class BookingDocumentView(ResidentBookingMixin, APIView):
    """Send a photo or PDF of one requirement ahead of the visit."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request={"multipart/form-data": s.DocumentUploadSerializer},
                   responses={200: s.BookingSerializer,
                              409: OpenApiResponse(description="booking_not_open")})
    def post(self, request, code):
        booking = self.booking(request, code)
        serializer = s.DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        booking_document_upload(booking=booking, requirement_code=data["requirement"],
                                upload=data["file"],
                                issued_on=data.get("issued_on"))
        return self.answer(request, booking)


class BookingQrView(ResidentBookingMixin, APIView):
    """The booking code's QR for check-in at the kiosk, drawn on demand (image/svg+xml)."""

    @extend_schema(responses={(200, "image/svg+xml"): OpenApiResponse(description="SVG"),
                              404: OpenApiResponse(description="not the resident's")})
    def get(self, request, code):
        booking = self.booking(request, code)
        response = HttpResponse(booking_qr_svg(booking.code), content_type="image/svg+xml")
        response["Cache-Control"] = "private, max-age=3600"
        return response


class BookingCalendarView(ResidentBookingMixin, APIView):
    """The booking as a calendar file (text/calendar)."""

    @extend_schema(responses={(200, "text/calendar"): OpenApiResponse(description="ICS")})
    def get(self, request, code):
        booking = self.booking(request, code)
        response = HttpResponse(booking_ics(booking), content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="booking-{booking.code}.ics"'
        return response

