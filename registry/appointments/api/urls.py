"""API routes of appointments, included under /api/v1/ by registry.api.urls."""

from django.urls import path

from registry.appointments.api import sms, views

urlpatterns = [
    path("offices/<str:code>/slots/", views.SlotListView.as_view(), name="office-slots"),
    path("requirement-checks/", views.RequirementCheckView.as_view(),
         name="requirement-check"),
    path("bookings/", views.BookingListCreateView.as_view(), name="booking-list"),
    path("bookings/<str:code>/", views.BookingDetailView.as_view(), name="booking-detail"),
    path("bookings/<str:code>/cancel/", views.BookingCancelView.as_view(),
         name="booking-cancel"),
    path("bookings/<str:code>/reschedule/", views.BookingRescheduleView.as_view(),
         name="booking-reschedule"),
    path("bookings/<str:code>/documents/", views.BookingDocumentView.as_view(),
         name="booking-documents"),
    path("bookings/<str:code>/calendar.ics", views.BookingCalendarView.as_view(),
         name="booking-calendar"),
    path("bookings/<str:code>/qr.svg", views.BookingQrView.as_view(), name="booking-qr"),
    path("sms/inbound/", sms.SmsInboundView.as_view(), name="sms-inbound"),
]
