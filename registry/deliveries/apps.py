from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveriesConfig(AppConfig):
    name = "registry.deliveries"
    label = "deliveries"
    verbose_name = _("Card hand-over and delivery")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from registry import extensions
        from registry.audit import audit
        from registry.central.services.jobs import CARD_PLANNED, CARD_PRINTED
        from registry.deliveries import (
            demo,
            demo_history,
            events,
            personal_export,
            roles,
            selectors,
            trends,
            views,
        )
        from registry.deliveries.models import CourierAbsence, DeliverySettings
        from registry.deliveries.services.handovers import (
            handover_card_printed,
            handover_delivery_by_sms,
            handover_open,
        )
        from registry.deliveries.services.retention import DELIVERY_PHOTOS

        extensions.register_app(
            roles=roles.ROLE_PERMISSIONS, event_kinds=events.EVENT_KINDS,
            figures=selectors.dashboard_figures, staff_links=views.staff_links, demo=demo.seed)
        extensions.register(CARD_PLANNED, handover_open)
        extensions.register(CARD_PRINTED, handover_card_printed)
        extensions.register(extensions.SMS_COMMANDS, handover_delivery_by_sms)
        extensions.register(extensions.TRENDS, trends.charts)
        extensions.register(extensions.BREACH_DATA, selectors.breach_data)
        extensions.register(extensions.HISTORY, demo_history.history)
        from registry.deliveries import demo_national

        extensions.register(extensions.NATIONAL_DAY, demo_national.day)

        extensions.register(extensions.RETENTION, DELIVERY_PHOTOS)
        # The app's part of a resident's own data (GET /api/v1/me/export/).
        extensions.register(extensions.PERSONAL_EXPORT, *personal_export.SECTIONS)
        # The settings staff change, in the audit of staff changes (registry.audit).
        audit(DeliverySettings, CourierAbsence)
