"""Personal-data breaches in admin, for superusers only: open an incident, see which
residents its query selects (how many, and a sample), send them the notice, and watch
the 3 x 24-hour deadline (UU 27/2022 art. 46).

A breach concerns residents of any office and its notices go to all of them, so even
an office's administrator neither sees nor opens one: every view answers 403 to anyone
but a superuser.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.admin_base import OfficeScopedAdmin, report_domain_error
from registry.breaches import breach_affected_residents, breach_deadline_text, breach_is_overdue
from registry.errors import DomainError
from registry.models import BreachDataKind, BreachIncident, BreachNotice
from registry.services.breaches import breach_notices_send, breach_residents_pending

# Residents listed on the selection page: enough to check the query picks the right
# people, not a list of everyone.
SAMPLE_SIZE = 20


class BreachIncidentForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(label=gettext_lazy("kinds of data affected"),
                                      choices=BreachDataKind.choices,
                                      widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = BreachIncident
        fields = ["title", "description", "discovered_at", "kinds", "office",
                  "period_start", "period_end", "notice_text", "authority_notified_at"]


def superuser_only(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


@admin.register(BreachIncident)
class BreachIncidentAdmin(OfficeScopedAdmin):
    form = BreachIncidentForm
    list_display = ["title", "discovered_at", "office", "status", "deadline_column",
                    "notices_sent", "authority_notified_at"]
    list_filter = ["status"]
    readonly_fields = ["deadline", "deadline_state", "status", "residents_notified_at",
                       "notices_sent", "opened_by", "opened_at"]
    fieldsets = [
        (None, {"fields": ["title", "description", "discovered_at", "deadline",
                           "deadline_state", "status", "authority_notified_at"]}),
        (gettext_lazy("Affected residents"), {
            "fields": ["kinds", "office", "period_start", "period_end"],
            "description": gettext_lazy(
                "Selects the residents domiciled in the office or with a case file there "
                "(every office when empty) whose data of a chosen kind was written in the "
                "period.")}),
        (gettext_lazy("Notice"), {"fields": ["notice_text", "notices_sent",
                                             "residents_notified_at"]}),
        (None, {"fields": ["opened_by", "opened_at"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["title", "description", "discovered_at",
                           "authority_notified_at"]}),
        fieldsets[1],
        (gettext_lazy("Notice"), {"fields": ["notice_text"]}),
    ]
    change_form_template = "admin/registry/breachincident/change_form.html"

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def has_module_permission(self, request):
        return superuser_only(request)

    def has_view_permission(self, request, obj=None):
        return superuser_only(request)

    def has_add_permission(self, request):
        return superuser_only(request)

    def has_change_permission(self, request, obj=None):
        return superuser_only(request)

    def has_delete_permission(self, request, obj=None):
        # The record of a breach and of who was told is kept.
        return False

    def get_queryset(self, request):
        # An incident of every office has no office: not the office scope's filter, but
        # superusers' alone.
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if not superuser_only(request):
            return queryset.none()
        return queryset.select_related("office").annotate(
            notice_count=Count("notices"))

    @admin.display(description=gettext_lazy("notices sent"))
    def notices_sent(self, obj):
        count = getattr(obj, "notice_count", None)
        return count if count is not None else obj.notices.count()

    @admin.display(description=gettext_lazy("deadline"))
    def deadline_column(self, obj):
        return breach_deadline_text(obj)

    @admin.display(description=gettext_lazy("time to the deadline"))
    def deadline_state(self, obj):
        return breach_deadline_text(obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.opened_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path("<int:pk>/residents/", self.admin_site.admin_view(self.residents_view),
                 name="registry_breachincident_residents"),
            path("<int:pk>/send/", self.admin_site.admin_view(self.send_view),
                 name="registry_breachincident_send"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):
        if obj is not None:
            context["residents_url"] = reverse("admin:registry_breachincident_residents",
                                               args=[obj.pk])
            context["overdue"] = breach_is_overdue(obj)
            context["deadline_text"] = breach_deadline_text(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def residents_view(self, request, pk):
        if not superuser_only(request):
            raise PermissionDenied
        incident = get_object_or_404(BreachIncident, pk=pk)
        affected = breach_affected_residents(incident=incident)
        pending = breach_residents_pending(incident=incident)
        return render(request, "admin/registry/breachincident/residents.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": _("Residents affected by %(title)s") % {"title": incident.title},
            "incident": incident, "affected_count": affected.count(),
            "pending_count": pending.count(),
            "told_count": BreachNotice.objects.filter(incident=incident).count(),
            "sample": list(affected.select_related("domicile_office")
                           .order_by("name", "id")[:SAMPLE_SIZE]),
            "deadline_text": breach_deadline_text(incident),
            "kinds": [BreachDataKind(kind).label for kind in incident.kinds],
        })

    def send_view(self, request, pk):
        if not superuser_only(request):
            raise PermissionDenied
        incident = get_object_or_404(BreachIncident, pk=pk)
        if request.method != "POST":
            return redirect("admin:registry_breachincident_residents", pk=incident.pk)
        try:
            result = breach_notices_send(incident=incident)
        except DomainError as exc:
            report_domain_error(request, exc)
        else:
            if result["pending"]:
                messages.success(request, _(
                    "The notice went to %(sent)d residents; %(pending)d more are being sent "
                    "in the background.") % result)
            else:
                messages.success(request, _("The notice went to %(sent)d residents.")
                                 % result)
        return redirect("admin:registry_breachincident_residents", pk=incident.pk)
