from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    label = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from complaints import demo, events, roles, selectors, views
        from registry import extensions

        extensions.register(extensions.ROLES, roles.ROLE_PERMISSIONS)
        extensions.register(extensions.EVENT_KINDS, events.EVENT_KINDS)
        extensions.register(extensions.FIGURES, selectors.dashboard_figures)
        extensions.register(extensions.STAFF_LINKS, views.staff_links)
        extensions.register(extensions.DEMO, demo.seed)
