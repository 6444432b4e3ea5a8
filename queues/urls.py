"""Pages of the queues, under /queues/: the kiosk and the booking check-in (front desk), the counter
workstation (operators), and the public display board."""

from django.urls import path

from queues import views

app_name = "queues"

urlpatterns = [
    path("", views.index, name="index"),
    path("kiosk/", views.kiosk, name="kiosk"),
    path("kiosk/tickets/<int:pk>/", views.kiosk_ticket, name="kiosk-ticket"),
    path("kiosk/tickets/<int:pk>/activation/", views.kiosk_ticket_activation,
         name="kiosk-ticket-activation"),
    path("check-in/", views.check_in, name="check-in"),
    path("check-in/residents/<int:pk>/verify/", views.check_in_verify,
         name="check-in-verify"),
    path("counters/", views.counters, name="counters"),
    path("counters/<int:pk>/", views.counter_page, name="counter"),
    path("counters/<int:pk>/tickets/<int:ticket>/receipt/", views.counter_receipt,
         name="counter-receipt"),
    path("counters/<int:pk>/<slug:action>/", views.counter_action, name="counter-action"),
    path("board/<str:code>/", views.board_page, name="board"),
]
