"""API routes of complaints, included under /api/v1/ by registry.api.urls."""

from django.urls import path

from complaints.api import views

urlpatterns = [
    path("complaints/", views.ComplaintListCreateView.as_view(), name="complaint-list"),
    path("complaints/<int:pk>/", views.ComplaintDetailView.as_view(),
         name="complaint-detail"),
    path("surveys/", views.SurveyAnswerCreateView.as_view(), name="survey-create"),
    path("surveys/pending/", views.SurveyPendingListView.as_view(), name="survey-pending"),
]
