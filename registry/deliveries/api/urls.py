"""API routes of hand-over and delivery, included under /api/v1/ by registry.api.urls."""

from django.urls import path

from registry.deliveries.api import views

urlpatterns = [
    path("applications/<int:pk>/handover/", views.HandoverView.as_view(),
         name="application-handover"),
    path("deliveries/", views.ResidentDeliveryListView.as_view(), name="delivery-list"),
    path("field/deliveries/", views.FieldDeliveryListView.as_view(),
         name="field-delivery-list"),
    path("field/deliveries/<int:pk>/deliver/", views.FieldDeliverView.as_view(),
         name="field-delivery-deliver"),
    path("field/deliveries/<int:pk>/fail/", views.FieldFailView.as_view(),
         name="field-delivery-fail"),
]
