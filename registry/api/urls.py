"""/api/v1/: the registry core's routes (each app's are included by config.urls)."""

from django.urls import path

from registry.api import views

urlpatterns = [
    path("offices/", views.OfficeListView.as_view(), name="office-list"),
    path("offices/<str:code>/", views.OfficeDetailView.as_view(), name="office-detail"),
    path("offices/<str:code>/services/", views.OfficeServiceListView.as_view(),
         name="office-services"),
    path("auth/otp/", views.OtpRequestView.as_view(), name="auth-otp"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/refresh/", views.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/staff-token/", views.StaffTokenView.as_view(), name="auth-staff-token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/phone/", views.PhoneChangeView.as_view(), name="me-phone"),
    path("me/phone/confirm/", views.PhoneChangeConfirmView.as_view(), name="me-phone-confirm"),
    path("me/access-log/", views.AccessLogView.as_view(), name="me-access-log"),
    path("me/export/", views.PersonalExportView.as_view(), name="me-export"),
    path("me/correction-requests/", views.CorrectionRequestListView.as_view(),
         name="me-correction-requests"),
    path("applications/", views.ApplicationListView.as_view(), name="application-list"),
    path("applications/<int:pk>/", views.ApplicationDetailView.as_view(),
         name="application-detail"),
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationMarkReadView.as_view(),
         name="notification-read"),
]
