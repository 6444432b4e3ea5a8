from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Civil registry")
    default = True

    def ready(self):
        from registry import checks  # noqa: F401 - registers the system checks
        from registry.api import schema  # noqa: F401 - registers the OpenAPI extension


class EOpenAdminConfig(admin_apps.AdminConfig):
    """The one admin site of every app, titled for the staff member's office."""

    default = False
    default_site = "registry.admin_site.EOpenAdminSite"
