"""Staff pages of the registry core."""

from django.urls import path

from registry import views

app_name = "registry"

urlpatterns = [
    path("", views.staff_home, name="staff-home"),
    path("desk/turn-away/", views.turn_away, name="turn-away"),
]
