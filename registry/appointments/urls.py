"""Staff pages of appointments, under /appointments/: assisted booking, the printable
slip, and the documents sent ahead awaiting review."""

from django.urls import path

from registry.appointments import phone_desk, views

app_name = "appointments"

urlpatterns = [
    path("assisted/", views.assisted_booking, name="assisted"),
    path("bookings/<str:code>/slip/", views.booking_slip, name="slip"),
    path("bookings/<str:code>/slip/activation/", views.booking_slip_activation,
         name="slip-activation"),
    path("phone/", phone_desk.phone_desk, name="phone-desk"),
    path("documents/", views.documents_to_review, name="documents"),
    path("documents/<int:pk>/review/", views.document_review, name="document-review"),
    path("documents/<int:pk>/file/", views.document_file, name="document-file"),
]
