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
            catalogue,
            demo,
            demo_history,
            events,
            personal_export,
            roles,
            selectors,
            trends,
            views,
        )
        from registry.appointments.models import AppointmentSettings, LaneSchedule
        from registry.appointments.services.retention import DOCUMENTS
        from registry.audit import audit

        extensions.register_app(
            roles=roles.ROLE_PERMISSIONS, event_kinds=events.EVENT_KINDS,
            figures=selectors.dashboard_figures, staff_links=views.staff_links, demo=demo.seed)
        extensions.register(extensions.TRENDS, trends.charts)
        extensions.register(extensions.BREACH_DATA, selectors.breach_data)
        extensions.register(extensions.HISTORY, demo_history.history)
        from registry.appointments import demo_national

        extensions.register(extensions.NATIONAL_SETUP, demo_national.setup)
        extensions.register(extensions.NATIONAL_DAY, demo_national.day)

        extensions.register(extensions.RETENTION, DOCUMENTS)
        # The app's part of a resident's own data (GET /api/v1/me/export/).
        extensions.register(extensions.PERSONAL_EXPORT, *personal_export.SECTIONS)
        # The settings staff change, in the audit of staff changes (registry.audit).
        audit(AppointmentSettings, LaneSchedule)
        # Each worker's copy of the offices' catalogues follows staff changes.
        catalogue.catalogue_follow()
