from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveriesConfig(AppConfig):
    name = "registry.deliveries"
    label = "deliveries"
    verbose_name = _("Card hand-over and delivery")
