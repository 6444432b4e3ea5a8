"""The SMS gateway's webhook: replies of residents to offers of free times
(services.sms_replies). Authenticated by the gateway's signature of the raw body
(registry.notify.signing), not by a resident's token: the gateway speaks for the phone
the SMS came from, and the reply acts only for the resident that phone is bound to."""

from django.http.request import RawPostDataException
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.parsers import JSONParser
from registry.api.serializers import ErrorSerializer
from registry.appointments.models import SmsInboundOutcome
from registry.appointments.services.sms_replies import sms_inbound_receive
from registry.notify.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    gateway_signature_problem,
)

REFUSALS = {
    "signature_missing": _("The request is not signed by the SMS gateway."),
    "signature_invalid": _("The SMS gateway's signature does not match."),
    "signature_stale": _("The SMS gateway's signature is too old; sign the request "
                         "again."),
}


class SmsGateway:
    """request.user of a request the SMS gateway signed."""

    is_authenticated = True
    is_anonymous = False


class GatewaySignatureAuthentication(BaseAuthentication):
    """The SMS gateway's HMAC-SHA256 signature of the timestamp and the raw body with
    the shared secret (SMS_GATEWAY_INBOUND_SECRET); anything else is refused 401."""

    def authenticate(self, request):
        try:
            body = request._request.body
        except RawPostDataException:  # already read as a stream: cannot be checked
            body = None
        problem = "signature_invalid" if body is None else gateway_signature_problem(
            body=body, timestamp=request.META.get("HTTP_X_GATEWAY_TIMESTAMP"),
            signature=request.META.get("HTTP_X_GATEWAY_SIGNATURE"))
        if problem:
            raise exceptions.AuthenticationFailed(str(REFUSALS[problem]), code=problem)
        return SmsGateway(), None

    def authenticate_header(self, request):
        return f'HMAC-SHA256 header="{SIGNATURE_HEADER}"'


class GatewaySignatureScheme(OpenApiAuthenticationExtension):
    target_class = "registry.appointments.api.sms.GatewaySignatureAuthentication"
    name = "gatewaySignature"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": SIGNATURE_HEADER,
                "description": (
                    f"The SMS gateway only: `{SIGNATURE_HEADER}: sha256=<hex>`, the "
                    "HMAC-SHA256 with the shared secret of the "
                    f"`{TIMESTAMP_HEADER}` value, a dot and the raw body; a timestamp "
                    "more than 5 minutes from now is refused.")}


class SmsInboundSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=64, help_text="The gateway's id of the SMS.")
    text = serializers.CharField(max_length=480, allow_blank=True, trim_whitespace=False)

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: declared here, not as a class attribute.
        fields["from"] = serializers.CharField(
            max_length=32, help_text="The sender's phone number.")
        return fields


class SmsInboundAnswerSerializer(serializers.Serializer):
    id = serializers.CharField()
    outcome = serializers.ChoiceField(choices=SmsInboundOutcome.choices)


class SmsInboundView(APIView):
    """An SMS a resident sent to the office's number, from the SMS gateway."""

    authentication_classes = [GatewaySignatureAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        request=SmsInboundSerializer,
        parameters=[OpenApiParameter(
            TIMESTAMP_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
            description="Unix time of signing, in seconds; part of the signature.")],
        responses={
            200: OpenApiResponse(SmsInboundAnswerSerializer, description=(
                "Received (a repeat of an id: the first outcome, nothing changed). "
                "`1`/`2` books the offered time for the resident whose bound phone sent "
                "it; a phone bound to nobody gets no answer and nothing changes.")),
            401: OpenApiResponse(ErrorSerializer, description=(
                "signature_missing, signature_invalid or signature_stale: not signed "
                "by the gateway; nothing changes.")),
        })
    def post(self, request):
        serializer = SmsInboundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        inbound, _new = sms_inbound_receive(gateway_id=data["id"], sender=data["from"],
                                            text=data["text"])
        return Response({"id": inbound.gateway_id, "outcome": inbound.outcome})
