"""Shapes of the appointments API. Input serializers check types and sizes only; the
rules (windows, capacity, requirements) are in registry.appointments.services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from registry.api.fields import DateRangeQuerySerializer, OfficeDateTimeField, office_local_iso
from registry.appointments.models import (
    BookingChannel,
    BookingStatus,
    DocumentReview,
)
from registry.appointments.services.bookings import booking_change_deadline
from registry.appointments.services.requirements import requirement_dict
from registry.service_sets import service_set_of


class DeclaredDocumentSerializer(serializers.Serializer):
    requirement = serializers.CharField(max_length=32)
    issued_on = serializers.DateField(required=False, allow_null=True)
    lost = serializers.BooleanField(
        required=False, default=False,
        help_text=_("The resident has lost this document (e.g. the old KTP-el)."))


def _services_field():
    return serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list,
        max_length=4,
        help_text=_("Several services done in one visit (one booking, one ticket, one "
                    "card); `service` is the first."))


class RequirementCheckInSerializer(serializers.Serializer):
    office = serializers.CharField(max_length=8, help_text=_("Region code of the office."))
    service = serializers.CharField(max_length=32)
    services = _services_field()
    visit_date = serializers.DateField()
    documents = DeclaredDocumentSerializer(many=True, required=False, default=list,
                                           max_length=50)


class NeededRequirementSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    valid_days = serializers.IntegerField(allow_null=True)
    how_to_obtain = serializers.CharField()


class InsteadSerializer(serializers.Serializer):
    service = serializers.CharField(help_text=_("The service that replaces the lost document."))
    services = serializers.ListField(child=serializers.CharField(),
                                     help_text=_("The services to book in one visit."))
    requirements = NeededRequirementSerializer(many=True)


class ProblemSerializer(serializers.Serializer):
    requirement = serializers.CharField()
    code = serializers.ChoiceField(choices=["missing", "expired", "expires_before_visit",
                                            "lost"])
    message = serializers.CharField()
    instead = InsteadSerializer(required=False)


class RequirementCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = ProblemSerializer(many=True)


class SlotQuerySerializer(DateRangeQuerySerializer):
    service = serializers.CharField(max_length=32)
    services = serializers.CharField(
        max_length=200, required=False, default="",
        help_text=_("Further services of the same visit, comma-separated: the slots are "
                    "those of the visit's lane."))


class SlotSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    date = serializers.DateField(read_only=True)
    start = OfficeDateTimeField(source="starts_at", office_path="office")
    end = OfficeDateTimeField(source="ends_at", office_path="office")
    lane = serializers.CharField(source="lane.letter", read_only=True)
    remaining = serializers.IntegerField(read_only=True)


class BookingCreateSerializer(serializers.Serializer):
    office = serializers.CharField(max_length=8)
    service = serializers.CharField(max_length=32)
    services = _services_field()
    slot = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    documents = DeclaredDocumentSerializer(many=True, required=False, default=list,
                                           max_length=50)


class RescheduleSerializer(serializers.Serializer):
    slot = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class DocumentUploadSerializer(serializers.Serializer):
    requirement = serializers.CharField(max_length=32)
    file = serializers.FileField(max_length=200, allow_empty_file=False)
    issued_on = serializers.DateField(required=False, allow_null=True)


class BookingDocumentSerializer(serializers.Serializer):
    requirement = serializers.CharField(source="requirement.code", read_only=True)
    name = serializers.CharField(source="requirement.name", read_only=True)
    valid_days = serializers.IntegerField(source="requirement.valid_days", read_only=True,
                                          allow_null=True)
    issued_on = serializers.DateField(read_only=True, allow_null=True)
    sent = serializers.SerializerMethodField()
    review = serializers.ChoiceField(choices=DocumentReview.choices, read_only=True)
    reject_reason = serializers.CharField(read_only=True)

    def get_sent(self, document) -> bool:
        return bool(document.file)


class BookingSerializer(serializers.Serializer):
    # A plain Serializer, every field declared: a ModelSerializer reads the model's
    # fields anew for each answer, a cost every booking's answer paid.
    code = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=BookingStatus.choices, read_only=True)
    office = serializers.CharField(source="office.code", read_only=True)
    service = serializers.CharField(source="service.code", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    services = serializers.SerializerMethodField()
    estimated_minutes = serializers.SerializerMethodField()
    slot = SlotSerializer(read_only=True)
    application = serializers.IntegerField(source="application_id", read_only=True)
    channel = serializers.ChoiceField(choices=BookingChannel.choices, read_only=True)
    created_at = OfficeDateTimeField(read_only=True)
    checked_in_at = OfficeDateTimeField(read_only=True, allow_null=True)
    cancel_reason = serializers.CharField(read_only=True)
    can_change_until = serializers.SerializerMethodField()
    qr_url = serializers.SerializerMethodField()
    calendar = serializers.SerializerMethodField()
    requirements = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()

    def _visit(self, booking):
        """The visit's services: the creating view hands over the set it booked (the
        catalogue's objects), the others read the booking's case."""
        visit = self.context.get("visit")
        if visit is not None and visit.primary.id == booking.service_id:
            return visit
        return service_set_of(booking.application, primary=booking.service)

    def get_services(self, booking) -> list[str]:
        """Every service of the visit, the first one first."""
        return self._visit(booking).codes

    def get_estimated_minutes(self, booking) -> int:
        """How long the visit's services take at the counter: the office's figure for
        the combination, else the sum of the services' minutes."""
        return self._visit(booking).estimated_minutes

    def get_can_change_until(self, booking) -> str | None:
        if booking.status != "booked":
            return None
        return office_local_iso(booking_change_deadline(booking), booking.office)

    def get_qr_url(self, booking) -> str:
        """The booking code's QR for the kiosk's scanner, an SVG image drawn on demand
        (GET with the resident's token)."""
        return self._absolute("booking-qr", booking)

    def _absolute(self, name: str, booking) -> str:
        from django.urls import reverse

        request = self.context.get("request")
        url = reverse(name, kwargs={"code": booking.code})
        return request.build_absolute_uri(url) if request else url

    def get_calendar(self, booking) -> str:
        return self._absolute("booking-calendar", booking)

    def get_requirements(self, booking) -> list[dict]:
        return [requirement_dict(r) for r in self._visit(booking).requirements()]

    def get_documents(self, booking) -> list[dict]:
        # The creating view hands over the rows it wrote, the others read them.
        documents = self.context.get("documents")
        if documents is None:
            documents = booking.documents.all()
        return BookingDocumentSerializer(documents, many=True).data
