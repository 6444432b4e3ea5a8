from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveriesConfig(AppConfig):
    name = "registry.deliveries"
    label = "deliveries"
    verbose_name = _("Card hand-over and delivery")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from registry import extensions
        from registry.central.services.jobs import CARD_PLANNED, CARD_PRINTED
        from registry.deliveries import demo, events, roles, selectors, views
        from registry.deliveries.services.handovers import handover_card_printed, handover_open

        extensions.register(extensions.ROLES, roles.ROLE_PERMISSIONS)
        extensions.register(extensions.EVENT_KINDS, events.EVENT_KINDS)
        extensions.register(extensions.FIGURES, selectors.dashboard_figures)
        extensions.register(extensions.STAFF_LINKS, views.staff_links)
        extensions.register(extensions.DEMO, demo.seed)
        extensions.register(CARD_PLANNED, handover_open)
        extensions.register(CARD_PRINTED, handover_card_printed)
