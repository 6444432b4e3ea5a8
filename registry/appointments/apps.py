from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "registry.appointments"
    label = "appointments"
    verbose_name = _("Appointments")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from registry import extensions
        from registry.appointments import (
            demo,
            demo_history,
            events,
            roles,
            selectors,
            trends,
            views,
        )

        extensions.register_app(
            roles=roles.ROLE_PERMISSIONS, event_kinds=events.EVENT_KINDS,
            figures=selectors.dashboard_figures, staff_links=views.staff_links, demo=demo.seed)
        extensions.register(extensions.TRENDS, trends.charts)
        extensions.register(extensions.BREACH_DATA, selectors.breach_data)
        extensions.register(extensions.HISTORY, demo_history.history)
