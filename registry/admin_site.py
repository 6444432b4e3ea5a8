"""The one admin site of every app, in Indonesian by default, titled for the office."""

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import tenancy
from registry.admin_processing import may_see_processing
from registry.calendar import office_today
from registry.dashboard import figures_for, staff_alerts_for

# The index shows figures for at most this many offices; a superuser of a large
# deployment uses the reports instead.
INDEX_OFFICES = 6


class EOpenAdminSite(admin.AdminSite):
    site_title = gettext_lazy("e-Open back office")
    index_title = gettext_lazy("Today")
    index_template = "admin/eopen_index.html"

    def each_context(self, request):
        context = super().each_context(request)
        user = request.user
        offices = []
        if getattr(user, "is_authenticated", False):
            offices = list(tenancy.staff_offices(user).order_by("code")[: INDEX_OFFICES + 1])
        context["staff_offices"] = offices[:INDEX_OFFICES]
        if len(offices) == 1:
            context["site_header"] = _("e-Open - %(office)s") % {"office": offices[0].name}
        else:
            context["site_header"] = _("e-Open back office")
        return context

    def get_urls(self):
        from django.urls import path

        from registry import admin_processing, admin_trends

        def page(view):
            return self.admin_view(lambda request, **kwargs: view(request, self, **kwargs))

        return [
            path("dashboard/", page(admin_trends.dashboard_view), name="dashboard"),
            path("dashboard/export/<str:file_format>/",
                 page(admin_trends.dashboard_export_view), name="dashboard_export"),
            path("report/", page(admin_trends.report_view), name="monthly_report"),
            path("processing/", page(admin_processing.processing_view), name="processing"),
            path("processing/export/<str:file_format>/",
                 page(admin_processing.processing_export_view), name="processing_export"),
            *super().get_urls(),
        ]

    def index(self, request, extra_context=None):
        offices = list(tenancy.staff_offices(request.user).order_by("code")[:INDEX_OFFICES])
        panels = []
        for office in offices:
            today = office_today(office)
            panels.append({"office": office, "today": today,
                           "figures": figures_for(office=office, day=today),
                           "alerts": staff_alerts_for(
                               office=office, roles=tenancy.staff_roles(request.user, office))})
        may_see_trends = bool(tenancy.offices_with_perm(request.user, "registry.view_trends"))
        extra_context = {**(extra_context or {}), "office_panels": panels,
                         "may_see_trends": may_see_trends,
                         "may_see_processing": may_see_processing(request.user)}
        return super().index(request, extra_context)
