from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from complaints.models import Category, Complaint
from registry.api.fields import OfficeDateTimeField, office_local_iso


class ComplaintCreateSerializer(serializers.Serializer):
    office = serializers.CharField(max_length=8, help_text=_("The office's region code."))
    text = serializers.CharField(max_length=5000)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    application = serializers.IntegerField(min_value=1, max_value=2**62, required=False,
                                           allow_null=True)


class ComplaintCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    reference = serializers.CharField()


class ResponseEntrySerializer(serializers.Serializer):
    at = serializers.CharField()
    kind = serializers.CharField()
    channel = serializers.CharField()
    text = serializers.CharField()


class ComplaintSerializer(serializers.ModelSerializer):
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    application = serializers.PrimaryKeyRelatedField(read_only=True)
    # Plain strings in the schema: "status" and "channel" name other choice sets in
    # other apps' serializers, and one enum name per field keeps the schema unambiguous.
    status = serializers.CharField(help_text=_(
        "received, in_progress, waiting, responded or resolved"))
    channel = serializers.CharField(help_text=_(
        "instagram, x, facebook, youtube, email, whatsapp, lapor, in_person or app"))
    category = serializers.CharField(help_text=_(
        "queue_fairness, waiting_time, staff_conduct, requirements, central_outage, "
        "delivery or other"))
    status_label = serializers.CharField(source="get_status_display")
    category_label = serializers.CharField(source="get_category_display")
    channel_label = serializers.CharField(source="get_channel_display")
    received_at = OfficeDateTimeField()
    responded_at = serializers.SerializerMethodField()
    resolved_at = OfficeDateTimeField()
    response = serializers.SerializerMethodField()
    responses = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = ["id", "reference", "office", "office_name", "application", "channel",
                  "channel_label", "category", "category_label", "text", "status",
                  "status_label", "received_at", "response", "responded_at", "resolved_at",
                  "responses"]

    def _public(self, complaint):
        # Prefetched in time order by the selector: no query per complaint.
        return list(complaint.responses.all())

    def _latest(self, complaint):
        answers = [r for r in self._public(complaint) if r.kind != "acknowledge"]
        return answers[-1] if answers else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_response(self, complaint):
        latest = self._latest(complaint)
        return latest.text if latest else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_responded_at(self, complaint):
        latest = self._latest(complaint)
        return office_local_iso(latest.at, complaint.office) if latest else None

    @extend_schema_field(ResponseEntrySerializer(many=True))
    def get_responses(self, complaint):
        return [{"at": office_local_iso(r.at, complaint.office), "kind": r.kind,
                 "channel": r.channel, "text": r.text} for r in self._public(complaint)]


class SurveyScoresSerializer(serializers.Serializer):
    """The nine elements of PermenPANRB 14/2017, each scored 1 (not satisfied) to 4
    (very satisfied)."""

    U1 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Requirements"))
    U2 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Procedure"))
    U3 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Service time"))
    U4 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Cost"))
    U5 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Service product"))
    U6 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Staff competence"))
    U7 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Staff behaviour"))
    U8 = serializers.IntegerField(min_value=1, max_value=4,
                                  help_text=_("Complaint handling"))
    U9 = serializers.IntegerField(min_value=1, max_value=4, help_text=_("Facilities"))


class SurveyAnswerCreateSerializer(serializers.Serializer):
    application = serializers.IntegerField(min_value=1, max_value=2**62)
    scores = SurveyScoresSerializer()
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class SurveyAnswerCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application = serializers.IntegerField()
    answered_at = serializers.DateTimeField()


class SurveyPendingSerializer(serializers.Serializer):
    """A served case the resident may still rate."""

    application = serializers.IntegerField(source="id")
    number = serializers.CharField()
    office = serializers.CharField(source="office.code")
    office_name = serializers.CharField(source="office.name")
    service = serializers.CharField(source="service.code")
    service_name = serializers.CharField(source="service.name")
    served_at = serializers.SerializerMethodField()

    @extend_schema_field(serializers.DateTimeField())
    def get_served_at(self, application):
        return office_local_iso(application.served_at, application.office)
