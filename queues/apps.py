from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueuesConfig(AppConfig):
    name = "queues"
    label = "queues"
    verbose_name = _("Queues")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from queues import (
            counter_figures,
            demo,
            demo_history,
            events,
            personal_export,
            roles,
            selectors,
            trends,
            views,
        )
        from queues.models import Counter, CounterLane, LaneQuota, PauseReason, QueueSettings
        from registry import extensions
        from registry.audit import audit
        from registry.central.selectors import OUTAGE_HOLDUPS

        extensions.register_app(
            roles=roles.ROLE_PERMISSIONS, event_kinds=events.EVENT_KINDS,
            figures=selectors.dashboard_figures, staff_links=views.staff_links,
            staff_alerts=counter_figures.staff_alerts, demo=demo.seed)
        extensions.register(OUTAGE_HOLDUPS, ("tickets_held", selectors.tickets_of_applications))
        from queues.services.board import board_changed_office
        from registry.central.services.link import OUTAGE_CHANGED

        extensions.register(OUTAGE_CHANGED, board_changed_office)
        extensions.register(extensions.TRENDS, trends.charts)
        extensions.register(extensions.BREACH_DATA, selectors.breach_data)
        extensions.register(extensions.HISTORY, demo_history.history)
        from queues import demo_national

        extensions.register(extensions.NATIONAL_SETUP, demo_national.setup)
        extensions.register(extensions.NATIONAL_DAY, demo_national.day)
        # The app's part of a resident's own data (GET /api/v1/me/export/).
        extensions.register(extensions.PERSONAL_EXPORT, *personal_export.SECTIONS)
        # The settings staff change, in the audit of staff changes (registry.audit).
        audit(QueueSettings, PauseReason, Counter, CounterLane, LaneQuota)
