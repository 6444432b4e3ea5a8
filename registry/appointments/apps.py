from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "registry.appointments"
    label = "appointments"
    verbose_name = _("Appointments")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from registry import extensions
        from registry.appointments import demo, events, roles, selectors, views

        extensions.register(extensions.ROLES, roles.ROLE_PERMISSIONS)
        extensions.register(extensions.EVENT_KINDS, events.EVENT_KINDS)
        extensions.register(extensions.FIGURES, selectors.dashboard_figures)
        extensions.register(extensions.STAFF_LINKS, views.staff_links)
        extensions.register(extensions.DEMO, demo.seed)
