from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueuesConfig(AppConfig):
    name = "queues"
    label = "queues"
    verbose_name = _("Queues")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from queues import demo, events, roles, selectors, views
        from registry import extensions
        from registry.central.selectors import OUTAGE_HOLDUPS

        extensions.register(extensions.ROLES, roles.ROLE_PERMISSIONS)
        extensions.register(extensions.EVENT_KINDS, events.EVENT_KINDS)
        extensions.register(extensions.FIGURES, selectors.dashboard_figures)
        extensions.register(extensions.STAFF_LINKS, views.staff_links)
        extensions.register(extensions.DEMO, demo.seed)
        extensions.register(OUTAGE_HOLDUPS, ("tickets_held", selectors.tickets_of_applications))
