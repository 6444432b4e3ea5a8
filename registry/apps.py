from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Civil registry")
    default = True

    def ready(self):
        # The core's own parts first; the apps above add theirs in their ready().
        from registry import (
            audit,
            breaches,
            checks,  # noqa: F401 - registers the system checks
            events,
            extensions,
            roles,
            selectors,
            views,
        )
        from registry.api import schema  # noqa: F401 - registers the OpenAPI extension
        from registry.services import retention

        extensions.register_app(
            roles=roles.ROLE_PERMISSIONS, event_kinds=events.EVENT_KINDS,
            figures=selectors.dashboard_figures, staff_links=views.staff_links,
            trends=selectors.trends)
        extensions.register(extensions.REPORT_TABLES, selectors.report_tables)
        extensions.register(extensions.RETENTION, *retention.CORE_RULES)
        audit.audit_core()
        extensions.register(extensions.BREACH_DATA, breaches.core_breach_data)


class EOpenAdminConfig(admin_apps.AdminConfig):
    """The one admin site of every app, titled for the staff member's office."""

    default = False
    default_site = "registry.admin_site.EOpenAdminSite"
