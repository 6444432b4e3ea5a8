"""API routes of this app, included under /api/v1/ by registry.api.urls."""

from django.urls import path

from queues.api import views

urlpatterns = [
    path("offices/<str:code>/board/", views.BoardView.as_view(), name="office-board"),
    path("tickets/", views.TicketListView.as_view(), name="ticket-list"),
]
