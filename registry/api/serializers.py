from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.api.fields import IntegerField, OfficeDateTimeField, office_local_iso
from registry.models import (
    Application,
    CorrectionField,
    CorrectionRequest,
    Notification,
    Office,
    Requirement,
    Resident,
    Service,
)
from registry.personal_export import access_entry

# Every free-text input has a bound, so a huge body is refused cleanly.
NIK_FIELD = {"max_length": 32}


class OfficeSerializer(serializers.ModelSerializer):
    contacts = serializers.SerializerMethodField()

    class Meta:
        model = Office
        fields = ["code", "name", "timezone", "address", "contacts"]

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_contacts(self, office):
        return office.contacts()


class OpeningHoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField()
    day = serializers.CharField()
    opens = serializers.TimeField(format="%H:%M")
    closes = serializers.TimeField(format="%H:%M")


class NoticeSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    expected_back = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField()


class ClosureSerializer(serializers.Serializer):
    date = serializers.DateField()
    reason = serializers.CharField()


class OfficeDetailSerializer(serializers.Serializer):
    """Built by the view from the office, its calendar and its central-link state."""

    code = serializers.CharField()
    name = serializers.CharField()
    timezone = serializers.CharField()
    address = serializers.CharField()
    contacts = serializers.DictField(child=serializers.CharField(allow_blank=True))
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    opening_hours = OpeningHoursSerializer(many=True)
    today = serializers.DateField()
    open_today = serializers.BooleanField()
    upcoming_closures = ClosureSerializer(many=True)
    link_status = serializers.ChoiceField(choices=["up", "down"])
    notice = NoticeSerializer(allow_null=True)


class RequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Requirement
        fields = ["code", "name", "valid_days", "how_to_obtain"]


class ServiceSerializer(serializers.ModelSerializer):
    lane = serializers.CharField(source="lane.letter")
    lane_name = serializers.CharField(source="lane.name")
    requirements = RequirementSerializer(many=True)
    steps = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Service
        fields = ["code", "name", "lane", "lane_name", "steps", "estimated_minutes",
                  "requirements", "home_delivery", "holder_in_person", "needs_central"]


class OtpRequestSerializer(serializers.Serializer):
    nik = serializers.CharField(**NIK_FIELD)
    phone = serializers.CharField(max_length=32)
    activation_code = serializers.CharField(
        max_length=32, required=False, allow_blank=True,
        help_text=_("The single-use code printed on the desk's slip or receipt (XXXX-XXXX; "
                    "case, spaces and dashes do not matter): binds this phone."))
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False)
    sex = serializers.ChoiceField(choices=["M", "F"], required=False)


class PhoneChangeSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)


class PhoneChangeConfirmSerializer(serializers.Serializer):
    otp = serializers.CharField(max_length=12, help_text=_("The code sent to the new phone."))
    old_phone_otp = serializers.CharField(
        max_length=12, help_text=_("The code sent to the phone bound until now."))


class TokenRequestSerializer(serializers.Serializer):
    nik = serializers.CharField(**NIK_FIELD)
    otp = serializers.CharField(max_length=12)


class RefreshRequestSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class StaffTokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The contract's error body."""

    detail = serializers.CharField()
    code = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    nik = serializers.CharField(source="masked_nik")
    domicile_office = serializers.CharField(source="domicile_office.code", default=None)
    domicile_office_name = serializers.CharField(source="domicile_office.name", default=None)
    nik_needs_review = serializers.BooleanField()
    identity_verified = serializers.BooleanField(help_text=_(
        "False until the desk has seen the resident's KTP-el (a self-registered resident "
        "brings it to the first visit)."))

    class Meta:
        model = Resident
        fields = ["nik", "name", "birth_date", "sex", "phone", "email", "address", "kelurahan",
                  "kecamatan", "domicile_office", "domicile_office_name", "language",
                  "nik_needs_review", "identity_verified"]


class TokenResponseSerializer(TokenPairSerializer):
    resident = MeSerializer()


class OtpSentSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    message = serializers.CharField()


class ApplicationSerializer(serializers.ModelSerializer):
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    service = serializers.CharField(source="service.code")
    service_name = serializers.CharField(source="service.name")
    status_label = serializers.CharField(source="get_status_display")
    created_at = OfficeDateTimeField()
    timeline = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = ["id", "number", "office", "office_name", "service", "service_name", "status",
                  "status_label", "channel", "rebook_until", "created_at", "timeline"]

    @extend_schema_field(TimelineEntrySerializer(many=True))
    def get_timeline(self, application):
        # `events` is prefetched in time order by the selector; no query per case.
        return [
            {"at": office_local_iso(event.at, application.office), "kind": event.kind,
             "message": event.message}
            for event in application.events.all()
        ]


class NotificationSerializer(serializers.ModelSerializer):
    at = OfficeDateTimeField(source="created_at")
    read = serializers.SerializerMethodField()
    application = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "at", "kind", "title", "body", "link", "read", "application"]

    @extend_schema_field(serializers.BooleanField())
    def get_read(self, notification):
        return notification.read_at is not None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IntegerField(min_value=1), required=False, max_length=500,
        help_text=_("Mark these read; all when left out."),
    )


class AccessEntrySerializer(serializers.Serializer):
    """One look at the resident's data (registry.personal_export.access_entry): the
    office, the role, what and why; never the staff member."""

    at = serializers.DateTimeField()
    office = serializers.CharField(allow_null=True, help_text=_(
        "The office's region code; null for a page that covered several offices."))
    office_name = serializers.CharField(allow_null=True)
    role = serializers.CharField(help_text=_(
        "The viewer's role there: front_desk, counter_operator, supervisor, office_admin, "
        "public_relations, provincial_supervisor, courier, or superuser for the system's "
        "administrators."))
    role_label = serializers.CharField()
    kind = serializers.CharField(help_text=_(
        "resident, resident_list, application, document, delivery_photo, complaint, "
        "export, counter, or full_nik (the full NIK was shown)."))
    what = serializers.CharField(help_text=_("What was seen, in words."))
    record = serializers.CharField(allow_blank=True, help_text=_(
        "Which record: a case number, a complaint reference, a list's name."))
    reason = serializers.CharField(allow_blank=True)

    def to_representation(self, instance):
        return access_entry(instance)


class CorrectionCreateSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=CorrectionField.choices)
    value = serializers.CharField(max_length=255, required=False, help_text=_(
        "The correct value (a birth date as YYYY-MM-DD, sex as M or F)."))
    requested_value = serializers.CharField(max_length=255, required=False, help_text=_(
        "Another name of `value`."))
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    def validate(self, attrs):
        if "value" not in attrs and "requested_value" not in attrs:
            raise serializers.ValidationError(
                {"value": [_("Write the correct value.")]}, code="required")
        return attrs


class CorrectionRequestSerializer(serializers.ModelSerializer):
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    field_label = serializers.CharField(source="get_field_display")
    value = serializers.CharField(source="requested_value")
    status_label = serializers.CharField(source="get_status_display")
    created_at = OfficeDateTimeField()
    handled_at = OfficeDateTimeField(allow_null=True)

    class Meta:
        model = CorrectionRequest
        fields = ["id", "office", "office_name", "field", "field_label", "value", "note",
                  "status", "status_label", "reply", "created_at", "handled_at"]


class PersonalExportSerializer(serializers.Serializer):
    """Only for the schema: the document's sections (registry.personal_export)."""

    generated_at = serializers.DateTimeField()
    profile = serializers.DictField()
    applications = serializers.ListField(child=serializers.DictField())
    notifications = serializers.ListField(child=serializers.DictField())
    correction_requests = serializers.ListField(child=serializers.DictField())
    access_log = serializers.ListField(child=serializers.DictField())
