"""The resident's complaints: file one, list them with their status and response.
Views parse and answer; the rules are in complaints.services."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from complaints import selectors
from complaints.api import serializers as s
from complaints.services.intake import complaint_file
from registry.api.idempotency import IdempotentCreateMixin
from registry.api.views import ResidentScopedMixin, office_or_404
from registry.errors import NotFound
from registry.models import Application


@extend_schema_view(post=extend_schema(request=s.ComplaintCreateSerializer, responses={
    201: s.ComplaintCreatedSerializer,
    404: OpenApiResponse(description="office_not_found, application_not_found")}))
class ComplaintListCreateView(IdempotentCreateMixin, ResidentScopedMixin,
                              generics.ListCreateAPIView):
    """GET: the signed-in resident's complaints with status and response.
    POST: file a complaint to an office, optionally about one of their cases."""

    serializer_class = s.ComplaintSerializer

    def get_resident_queryset(self, resident):
        return selectors.complaints_for_resident(resident=resident)

    def create(self, request, *args, **kwargs):
        serializer = s.ComplaintCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        office = office_or_404(data["office"])
        resident = request.user.resident
        application = None
        if data.get("application"):
            application = Application.objects.filter(
                pk=data["application"], resident=resident, office=office).first()
            if application is None:
                raise NotFound(_("This case was not found."), "application_not_found")
        complaint = complaint_file(resident=resident, office=office,
                                   text=data["text"],
                                   category=data.get("category", ""),
                                   application=application)
        body = s.ComplaintCreatedSerializer(
            {"id": complaint.id, "status": complaint.status,
             "reference": complaint.reference}).data
        return Response(body, status=status.HTTP_201_CREATED)


class ComplaintDetailView(ResidentScopedMixin, generics.RetrieveAPIView):
    """One of the signed-in resident's complaints; another resident's answers 404."""

    serializer_class = s.ComplaintSerializer

    def get_resident_queryset(self, resident):
        return selectors.complaints_for_resident(resident=resident)
