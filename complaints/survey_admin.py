"""Admin of the satisfaction survey (IKM): the office's answers, never with who gave
them (no resident, no case number: the survey is anonymous), the action that takes a
low score's comment in as a complaint (complaints.services.surveys), and the IKM
report per period at ikm/ on the answers list, for the office or per lane, service or
counter. Imported by complaints.admin."""


from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import selectors
from complaints.admin import ReportForm
from complaints.models import SURVEY_ELEMENTS, SurveyAnswer
from complaints.services.surveys import survey_answer_escalate
from registry import tenancy
from registry.admin_base import (
    ListExportMixin,
    NoAddMixin,
    NoChangeMixin,
    NoDeleteMixin,
    OfficeScopedAdmin,
)
from registry.calendar import office_today
from registry.errors import DomainError

SCORE_FIELDS = [e.lower() for e in SURVEY_ELEMENTS]


class IkmReportForm(ReportForm):
    """The complaint report's office and range (at most two years), per office, lane,
    service or counter."""

    by = forms.ChoiceField(label=gettext_lazy("per"), required=False, choices=[
        ("", gettext_lazy("office")), ("lane", gettext_lazy("lane")),
        ("service", gettext_lazy("service")), ("counter", gettext_lazy("counter"))])


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(NoAddMixin, NoChangeMixin, NoDeleteMixin, ListExportMixin,
                        OfficeScopedAdmin):
    # Never the resident nor the case: either would name who answered (nor in exports:
    # no export_resident_path).
    list_display = ["answered_at", "lane", "service", "counter", *SCORE_FIELDS,
                    "comment", "complaint"]
    list_select_related = ["office", "lane", "service", "counter", "complaint"]
    list_filter = ["answered_at", "lane"]
    fields = ["office", "answered_at", "lane", "service", "counter", *SCORE_FIELDS,
              "comment", "complaint"]
    date_hierarchy = "answered_at"
    actions = ["take_in_as_complaint"]

    def get_urls(self):
        return [path("ikm/", self.admin_site.admin_view(self.ikm_view),
                     name="complaints_surveyanswer_ikm"), *super().get_urls()]

    def has_take_in_permission(self, request):
        return request.user.has_perm("complaints.add_complaint")

    @admin.action(description=gettext_lazy("Take the comment in as a complaint"),
                  permissions=["take_in"])
    def take_in_as_complaint(self, request, queryset):
        for answer in queryset.select_related("office"):
            try:
                complaint = survey_answer_escalate(office=answer.office, answer_id=answer.id,
                                                   by=request.user)
            except DomainError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(request, _("Complaint %(reference)s opened.")
                                 % {"reference": complaint.reference})

    def ikm_view(self, request):
        """The IKM of an office over a period, for the office or per lane, service or
        counter: answers, the nine element averages, the IKM and its grade."""
        offices = tenancy.offices_with_perm(request.user, "complaints.view_surveyanswer")
        if not offices:
            raise PermissionDenied
        choices = tenancy.staff_offices(request.user).filter(
            id__in=[o.id for o in offices]).order_by("code")
        form = IkmReportForm(request.GET or None, offices=choices)
        office, by = offices[0], None
        today = office_today(office)
        date_from, date_to = today.replace(day=1), today
        if form.is_valid():
            data = form.cleaned_data
            office = data.get("office") or office
            date_from, date_to, by = data["date_from"], data["date_to"], data["by"] or None
        elif not request.GET:
            form = IkmReportForm(initial={"office": office, "date_from": date_from,
                                          "date_to": date_to}, offices=choices)
        rows = selectors.ikm(office=office, date_from=date_from, date_to=date_to, by=by)
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": _("Community satisfaction index (IKM)"), "form": form,
                   "office": office, "rows": rows, "elements": SURVEY_ELEMENTS,
                   "date_from": date_from, "date_to": date_to, "by": by}
        return render(request, "admin/complaints/surveyanswer/ikm.html", context)
