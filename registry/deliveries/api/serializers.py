from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from registry.api.fields import BoundedDateField, OfficeDateTimeField
from registry.deliveries import selectors
from registry.deliveries.models import (
    PROXY_RELATIONS,
    Delivery,
    FailReason,
    HandoverMethod,
    Relation,
)
from registry.privacy import mask_phone
from registry.service_sets import service_set_of


class HandoverChoiceSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=HandoverMethod.choices)
    proxy_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    proxy_nik = serializers.CharField(max_length=32, required=False, allow_blank=True)
    proxy_relation = serializers.ChoiceField(choices=PROXY_RELATIONS, required=False,
                                             allow_blank=True)


class HandoverOptionSerializer(serializers.Serializer):
    method = serializers.CharField()
    available = serializers.BooleanField()
    code = serializers.CharField(help_text=_("Why it is not offered (empty when offered)."))
    reason = serializers.CharField()


class HandoverDeliverySerializer(serializers.Serializer):
    status = serializers.CharField()
    scheduled_for = serializers.DateField(allow_null=True)


class HandoverSerializer(serializers.Serializer):
    """Built by the view from the hand-over, its card, options and active delivery."""

    application = serializers.IntegerField()
    method = serializers.CharField()
    # Plain strings in the schema: "status" names other choice sets in other apps.
    status = serializers.CharField(help_text=_(
        "waiting_card, ready, out_for_delivery or completed"))
    receipt_code = serializers.CharField()
    card_printed_at = serializers.CharField(allow_null=True)
    proxy_name = serializers.CharField()
    proxy_relation = serializers.CharField()
    completed_at = serializers.CharField(allow_null=True)
    received_by = serializers.CharField()
    received_relation = serializers.CharField()
    options = HandoverOptionSerializer(many=True)
    delivery = HandoverDeliverySerializer(allow_null=True)


DELIVERY_STATUS_HELP = _("waiting, assigned (out for delivery), delivered, returned (to "
                         "pick-up at the office) or cancelled")


class ResidentDeliverySerializer(serializers.ModelSerializer):
    application = serializers.PrimaryKeyRelatedField(read_only=True)
    status = serializers.CharField(help_text=DELIVERY_STATUS_HELP)
    office = serializers.CharField(source="office.code")
    delivered_at = OfficeDateTimeField()

    class Meta:
        model = Delivery
        fields = ["id", "application", "office", "status", "scheduled_for", "delivered_at",
                  "recipient_name", "recipient_relation", "address", "failed_attempts"]


class FieldDeliverySerializer(serializers.ModelSerializer):
    # Needs the request in its context: its user is the courier.
    resident_name = serializers.CharField(source="application.resident.name")
    resident_phone = serializers.SerializerMethodField(help_text=_(
        "In full only on a delivery assigned to you for today, until it is closed; "
        "otherwise masked (+62812*****001). Empty when the resident has no phone."))
    application_number = serializers.CharField(source="application.number")
    receipt_code = serializers.CharField(source="handover.card.masked_receipt_code")
    holder_in_person = serializers.SerializerMethodField()
    office = serializers.CharField(source="office.code")
    status = serializers.CharField(help_text=DELIVERY_STATUS_HELP)

    class Meta:
        model = Delivery
        fields = ["id", "route_position", "office", "address", "kecamatan", "kelurahan",
                  "latitude", "longitude", "resident_name", "resident_phone",
                  "application_number", "receipt_code", "holder_in_person", "status",
                  "scheduled_for", "failed_attempts"]

    def get_holder_in_person(self, delivery) -> bool:
        return service_set_of(delivery.application).holder_in_person

    def get_resident_phone(self, delivery) -> str:
        phone = delivery.application.resident.phone
        if selectors.delivery_phone_visible(delivery=delivery,
                                            courier=self.context["request"].user):
            return phone
        return mask_phone(phone)


class DeliverSerializer(serializers.Serializer):
    recipient_name = serializers.CharField(max_length=120)
    recipient_relation = serializers.ChoiceField(choices=Relation.choices)
    receipt_code = serializers.CharField(max_length=20)
    photo = serializers.FileField(max_length=200, allow_empty_file=False)
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)


class FailSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=FailReason.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)


class FieldDateSerializer(serializers.Serializer):
    date = BoundedDateField(required=False, help_text=_(
        "The route's day; today at your office when left out."))

