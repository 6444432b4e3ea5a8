"""The resident's complaints: file one, list them with their status and response; the
satisfaction survey (IKM) after a served visit.
Views parse and answer; the rules are in complaints.services."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from complaints import selectors
from complaints.api import serializers as s
from complaints.services.intake import complaint_file
from complaints.services.surveys import survey_answer_submit
from registry.api.auth import IsResident
from registry.api.fields import office_local_iso
from registry.api.idempotency import IdempotentCreateMixin
from registry.api.serializers import ErrorSerializer
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


class SurveyPendingListView(generics.ListAPIView):
    """The signed-in resident's cases served at a counter in the last 30 days and not
    rated yet: the app offers the satisfaction survey (IKM) for each."""

    permission_classes = [IsResident]
    serializer_class = s.SurveyPendingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request
            return Application.objects.none()
        return selectors.surveys_pending_for_resident(resident=self.request.user.resident)


class SurveyAnswerCreateView(IdempotentCreateMixin, generics.CreateAPIView):
    """Rate a served visit of one of the resident's cases: the nine elements U1..U9,
    each 1 to 4, and an optional comment. Once per case. The answer is anonymous in the
    office's reports."""

    permission_classes = [IsResident]
    serializer_class = s.SurveyAnswerCreateSerializer

    @extend_schema(request=s.SurveyAnswerCreateSerializer, responses={
        201: s.SurveyAnswerCreatedSerializer,
        400: OpenApiResponse(ErrorSerializer, description=(
            "a score outside 1-4 or a missing element (a field error under `scores`), "
            "comment_too_long")),
        404: OpenApiResponse(ErrorSerializer, description=(
            "application_not_found (none, or another resident's), "
            "application_not_completed (not served at a counter yet)")),
        409: OpenApiResponse(ErrorSerializer, description="survey_answered")})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        serializer = s.SurveyAnswerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        answer = survey_answer_submit(resident=request.user.resident,
                                      application_id=data["application"],
                                      scores=dict(data["scores"]),
                                      comment=data.get("comment", ""))
        body = s.SurveyAnswerCreatedSerializer(
            {"id": answer.id, "application": answer.application_id,
             "answered_at": office_local_iso(answer.answered_at, answer.application.office)}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)
