from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    label = "complaints"
    verbose_name = _("Complaints")

    def ready(self):
        # What this app adds to the registry core (see registry.extensions).
        from complaints import (
            demo,
            demo_history,
            demo_one_trip,
            events,
            personal_export,
            roles,
            selectors,
            trends,
            views,
        )
        from complaints.models import ComplaintSettings, ResponseTemplate
        from complaints.services.surveys import survey_answer_by_sms, survey_invite
        from registry import extensions
        from registry.audit import audit
        from registry.central.services.jobs import VISIT_COMPLETED

        extensions.register_app(
            roles=roles.ROLE_PERMISSIONS, event_kinds=events.EVENT_KINDS,
            figures=selectors.dashboard_figures, staff_links=views.staff_links, demo=demo.seed)
        # The real case in one trip, at each of its stages (after every app's demo).
        extensions.register(extensions.DEMO, demo_one_trip.seed)
        extensions.register(extensions.BREACH_DATA, selectors.breach_data)
        extensions.register(extensions.HISTORY, demo_history.history)
        # The satisfaction survey (IKM) is offered once the visit completed the case.
        extensions.register(VISIT_COMPLETED, survey_invite)
        # ... and answered by SMS from a feature phone (IKM and nine digits).
        extensions.register(extensions.SMS_COMMANDS, survey_answer_by_sms)
        # The month's complaints in the monthly report.
        extensions.register(extensions.REPORT_TABLES, selectors.report_tables)
        extensions.register(extensions.TRENDS, trends.charts)
        # The app's part of a resident's own data (GET /api/v1/me/export/).
        extensions.register(extensions.PERSONAL_EXPORT, *personal_export.SECTIONS)
        # The settings staff change, in the audit of staff changes (registry.audit).
        audit(ComplaintSettings, ResponseTemplate)
