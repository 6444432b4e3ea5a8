"""Staff pages of hand-over and delivery, under /deliveries/."""

from django.contrib.auth.views import LogoutView
from django.urls import path

from registry.deliveries import views

app_name = "deliveries"

urlpatterns = [
    path("", views.courier_route, name="route"),
    path("login/", views.CourierLoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(next_page="deliveries:login"), name="logout"),
    path("<int:pk>/deliver/", views.courier_deliver, name="deliver"),
    path("<int:pk>/fail/", views.courier_fail, name="fail"),
    path("photos/<int:pk>/", views.proof_photo, name="photo"),
]
