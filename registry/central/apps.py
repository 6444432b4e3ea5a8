from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentralConfig(AppConfig):
    name = "registry.central"
    label = "central"
    verbose_name = _("Central server and cards")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from registry import extensions
        from registry.central import demo_history, events, roles, selectors, trends

        extensions.register_app(
            roles=roles.ROLE_PERMISSIONS, event_kinds=events.EVENT_KINDS,
            office_state=selectors.office_link_state)
        extensions.register(extensions.REPORT_TABLES, selectors.report_tables)
        extensions.register(extensions.TRENDS, trends.charts)
        # The link's outages; the central work of served visits is written by the
        # queues' history, which calls demo_history.visits_completed.
        extensions.register(extensions.HISTORY, demo_history.history)
        # The app's part of a resident's own data (GET /api/v1/me/export/).
        from registry.central import personal_export

        extensions.register(extensions.PERSONAL_EXPORT, *personal_export.SECTIONS)
