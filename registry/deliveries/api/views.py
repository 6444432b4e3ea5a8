"""The API of hand-over and delivery: the resident's choice and deliveries, and the
field team's route. Views parse and answer; the rules are in the services."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from registry import tenancy
from registry.api.auth import IsCourier, IsResident
from registry.api.fields import office_local_iso
from registry.api.parsers import JSONParser
from registry.api.views import ResidentScopedMixin
from registry.calendar import office_today
from registry.deliveries import selectors
from registry.deliveries.api import serializers as s
from registry.deliveries.models import Delivery, DeliveryStatus
from registry.deliveries.services.couriers import (
    delivery_deliver,
    delivery_fail,
    record_route_access,
)
from registry.deliveries.services.handovers import (
    handover_choose,
    handover_for_application,
    handover_options,
)
from registry.errors import NotFound
from registry.models import Application, Office, Role


def handover_body(handover) -> dict:
    office = handover.application.office
    active = (handover.deliveries.filter(status__in=[DeliveryStatus.WAITING,
                                                     DeliveryStatus.ASSIGNED])
              .order_by("-id").first())
    if handover.completed_at:
        status = "completed"
    elif active is not None and active.status == DeliveryStatus.ASSIGNED:
        status = "out_for_delivery"
    elif handover.card.printed_at:
        status = "ready"
    else:
        status = "waiting_card"
    return {
        "application": handover.application_id, "method": handover.method, "status": status,
        "receipt_code": handover.card.receipt_code,
        "card_printed_at": office_local_iso(handover.card.printed_at, office),
        "proxy_name": handover.proxy_name, "proxy_relation": handover.proxy_relation,
        "completed_at": office_local_iso(handover.completed_at, office),
        "received_by": handover.collected_by_name,
        "received_relation": handover.collected_relation,
        "options": handover_options(handover=handover),
        "delivery": ({"status": active.status, "scheduled_for": active.scheduled_for}
                     if active else None),
    }


class HandoverView(APIView):
    """How the printed card of one of the resident's applications reaches them."""

    permission_classes = [IsResident]

    def _application(self, request, pk):
        application = (Application.objects.select_related("service", "resident", "office")
                       .filter(pk=pk, resident=request.user.resident).first())
        if application is None:
            raise NotFound(_("Not found."), "not_found")
        return application

    @extend_schema(responses={200: s.HandoverSerializer,
                              409: OpenApiResponse(description="no_card, handover_not_yet")})
    def get(self, request, pk):
        handover = handover_for_application(
            application=self._application(request, pk))
        return Response(s.HandoverSerializer(handover_body(handover)).data)

    @extend_schema(request=s.HandoverChoiceSerializer, responses={
        200: s.HandoverSerializer,
        409: OpenApiResponse(description="no_card, handover_not_yet, handover_completed, "
                                         "delivery_under_way")})
    def post(self, request, pk):
        application = self._application(request, pk)
        serializer = s.HandoverChoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        handover_choose(
            application=application, method=data["method"],
            proxy_name=data.get("proxy_name", ""), proxy_nik=data.get("proxy_nik", ""),
            proxy_relation=data.get("proxy_relation", ""), by_resident=True)
        handover = selectors.handover_with_card(application=application)
        return Response(s.HandoverSerializer(handover_body(handover)).data)


class ResidentDeliveryListView(ResidentScopedMixin, generics.ListAPIView):
    serializer_class = s.ResidentDeliverySerializer

    def get_resident_queryset(self, resident):
        return selectors.deliveries_for_resident(resident=resident)


class FieldDeliveryListView(generics.ListAPIView):
    """The courier's deliveries of a day (today at their office by default), in route
    order. The receipt code is masked: the recipient gives it."""

    permission_classes = [IsAuthenticated, IsCourier]
    serializer_class = s.FieldDeliverySerializer

    @extend_schema(parameters=[s.FieldDateSerializer])
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        page = getattr(self, "_shown", None)
        if page:
            record_route_access(request.user, page)
        return response

    def paginate_queryset(self, queryset):
        shown = super().paginate_queryset(queryset)
        self._shown = list(queryset) if shown is None else shown
        return shown

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        query = s.FieldDateSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("date")
        if day is None:
            office_ids = tenancy.staff_offices_with_role(self.request.user, Role.COURIER)
            day = office_today(Office.objects.filter(id__in=office_ids).order_by("code").first())
        return selectors.route_for_courier(user=self.request.user, day=day)


class FieldDeliverView(APIView):
    permission_classes = [IsAuthenticated, IsCourier]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": s.DeliverSerializer},
                   responses={200: s.FieldDeliverySerializer,
                              409: OpenApiResponse(description="delivery_not_assigned, "
                                                               "card_not_printed")})
    def post(self, request, pk):
        serializer = s.DeliverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delivery = delivery_deliver(
            delivery_id=pk, courier=request.user, recipient_name=data["recipient_name"],
            recipient_relation=data["recipient_relation"], receipt_code=data["receipt_code"],
            photo=data["photo"], latitude=data["latitude"], longitude=data["longitude"])
        return Response(s.FieldDeliverySerializer(_reload(delivery),
                                                  context={"request": request}).data)


class FieldFailView(APIView):
    permission_classes = [IsAuthenticated, IsCourier]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=s.FailSerializer, responses={
        200: s.FieldDeliverySerializer,
        409: OpenApiResponse(description="delivery_not_assigned")})
    def post(self, request, pk):
        serializer = s.FailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delivery = delivery_fail(
            delivery_id=pk, courier=request.user, reason=data["reason"],
            note=data.get("note", ""), latitude=data.get("latitude"),
            longitude=data.get("longitude"))
        return Response(s.FieldDeliverySerializer(_reload(delivery),
                                                  context={"request": request}).data)


def _reload(delivery):
    return (Delivery.objects.select_related("office", "application__resident",
                                            "application__service", "handover__card")
            .get(pk=delivery.pk))
