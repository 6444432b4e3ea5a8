"""Admin of complaints. Every change goes through complaints.services.

A complaint's page is its workspace: the complaint (its complainant hidden when it is
confidential, except from supervisors and the assignee), its deadlines, the link to
the case, the chronology (generate, edit, publish), findings with their records, the
responses, and for supervisors the follow-up of staff. The report is at
report/ on the complaints list.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Min, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import chronology as assembler
from complaints import selectors
from complaints.models import (
    Category,
    Chronology,
    ChronologyStatus,
    Complaint,
    ComplaintChannel,
    ComplaintSettings,
    FollowUpAction,
    LinkMethod,
    ResponseTemplate,
    StaffAlert,
    StaffFollowUp,
    Verdict,
)
from complaints.services.chronology import (
    chronology_edit,
    chronology_generate,
    chronology_publish,
    finding_add,
)
from complaints.services.deadlines import alerts_mark_read, complaint_resume, complaint_wait
from complaints.services.follow_ups import follow_up_done, follow_up_record
from complaints.services.handling import (
    HANDLING_ROLES,
    attachment_add,
    complaint_assign,
    complaint_classify,
    complaint_link_case,
)
from complaints.services.intake import complaint_log
from complaints.services.responses import (
    TEXT_MAX,
    complaint_acknowledge,
    complaint_resolve,
    complaint_respond,
    template_render,
)
from registry import tenancy
from registry.admin_access import AccessLogMixin
from registry.admin_base import (
    ListExportMixin,
    NoAddMixin,
    NoDeleteMixin,
    OfficeScopedAdmin,
    report_domain_error,
)
from registry.calendar import office_today
from registry.charts import CHART_JS, chart_config
from registry.errors import DomainError
from registry.models import AccessKind, Office, StaffMembership
from registry.trends import Chart, Series

REPORT_MAX_DAYS = 731
LOGGABLE_CHANNELS = [c for c in ComplaintChannel.choices if c[0] != ComplaintChannel.APP]


def _assignable(office_ids):
    from django.contrib.auth import get_user_model

    ids = StaffMembership.objects.filter(office_id__in=office_ids,
                                         role__in=HANDLING_ROLES).values("user_id")
    return get_user_model().objects.filter(id__in=ids, is_active=True).order_by("username")


class ComplaintLogForm(forms.ModelForm):
    """Intake by staff. The service runs in clean(), inside the admin's transaction, so
    a refusal shows on the form with what was typed."""

    link_by = forms.ChoiceField(label=gettext_lazy("Link to the resident by"),
                                required=False,
                                choices=[("", "-"), *[c for c in LinkMethod.choices
                                                      if c[0] != LinkMethod.APP]])
    link_value = forms.CharField(label=gettext_lazy("NIK, code or number"), max_length=40,
                                 required=False)
    link_day = forms.DateField(label=gettext_lazy("Day of the ticket"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=gettext_lazy("Ticket codes start again every day."))
    attachment = forms.FileField(label=gettext_lazy("Screenshot or document"), required=False)

    class Meta:
        model = Complaint
        fields = ["office", "channel", "link", "handle", "lapor_tracking_id", "posted_at",
                  "text", "category", "confidential", "complainant_name", "assignee"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.created = None
        self.fields["channel"].choices = LOGGABLE_CHANNELS
        office_ids = tenancy.staff_office_ids(user)
        self.fields["office"].queryset = Office.objects.filter(id__in=office_ids)
        self.fields["assignee"].queryset = _assignable(office_ids)
        self.fields["text"].max_length = TEXT_MAX

    def _post_clean(self):
        return  # the service validates and creates; the model instance is not used

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            self.created = complaint_log(
                office=data["office"], channel=data["channel"], text=data["text"],
                by=self.user, category=data["category"], link=data.get("link") or "",
                handle=data.get("handle") or "",
                lapor_tracking_id=data.get("lapor_tracking_id") or "",
                posted_at=data.get("posted_at"), confidential=data.get("confidential", False),
                complainant_name=data.get("complainant_name") or "",
                assignee=data.get("assignee"), link_by=data.get("link_by") or "",
                link_value=data.get("link_value") or "", link_day=data.get("link_day"))
            if data.get("attachment"):
                attachment_add(complaint=self.created, upload=data["attachment"],
                               by=self.user)
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code) from exc
        return data


@admin.register(Complaint)
class ComplaintAdmin(AccessLogMixin, NoDeleteMixin, ListExportMixin, OfficeScopedAdmin):
    access_kind = AccessKind.COMPLAINT

    list_display = ["reference", "received_at", "channel", "category", "status",
                    "assignee", "next_due"]
    list_filter = ["status", "channel", "category", "confidential"]
    # Not by handle or name: that would tell who filed a confidential complaint.
    search_fields = ["reference", "link", "lapor_tracking_id"]
    list_select_related = ["assignee", "office"]
    date_hierarchy = "received_at"
    form = ComplaintLogForm
    change_list_template = "admin/complaints/complaint/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            next_due_at=Min("deadlines__due_at", filter=Q(deadlines__met_at__isnull=True)))

    @admin.display(description=gettext_lazy("next deadline"), ordering="next_due_at")
    def next_due(self, obj):
        if obj.next_due_at is None:
            return "-"
        late = _(" (overdue)") if obj.next_due_at < timezone.now() else ""
        return f"{timezone.localtime(obj.next_due_at):%d-%m-%Y %H:%M}{late}"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class BoundForm(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, user=user, **inner)

        return BoundForm

    def save_model(self, request, obj, form, change):
        obj.pk = form.created.pk
        obj.__dict__.update(Complaint.objects.filter(pk=obj.pk).values()[0])

    def save_related(self, request, form, formsets, change):
        return

    def get_urls(self):
        return [
            path("report/", self.admin_site.admin_view(self.report_view),
                 name="complaints_complaint_report"),
            *super().get_urls(),
        ]

    # --- The workspace (the change page) ------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        complaint = self.get_queryset(request).select_related(
            "office", "resident", "application", "assignee").filter(pk=object_id).first()
        if complaint is None or not self.has_view_permission(request, complaint):
            raise Http404
        if request.method == "POST":
            if not self.has_change_permission(request, complaint):
                raise PermissionDenied
            self._operate(request, complaint)
            return redirect(request.path)
        return render(request, "admin/complaints/complaint/workspace.html",
                      self._workspace_context(request, complaint))

    def _workspace_context(self, request, complaint):
        user = request.user
        chronologies = list(complaint.chronologies.order_by("-version").prefetch_related(
            "edits"))
        draft = next((c for c in chronologies if c.status == ChronologyStatus.DRAFT), None)
        sources = assembler.sources_of(complaint) if complaint.application_id else {}
        templates = ResponseTemplate.objects.filter(office_id=complaint.office_id,
                                                    is_active=True).order_by("category",
                                                                             "title")
        show_follow_up = selectors.follow_up_visible(user=user, office_id=complaint.office_id)
        suggested = templates.filter(category=complaint.category).first()
        visible = selectors.complainant_visible(user=user, complaint=complaint)
        return {
            **self.admin_site.each_context(request), "opts": self.opts,
            "title": complaint.reference, "complaint": complaint,
            "original": complaint,
            "complainant_visible": visible,
            "can_change": self.has_change_permission(request, complaint),
            "deadlines": complaint.deadlines.order_by("due_at"),
            "pauses": complaint.pauses.all(),
            "responses": complaint.responses.select_related("by").order_by("at"),
            "findings": complaint.findings.order_by("position"),
            "attachments": complaint.attachments.all(),
            "chronologies": chronologies, "draft": draft,
            "published": next((c for c in chronologies
                               if c.status == ChronologyStatus.PUBLISHED), None),
            "sources": [{"key": f"{kind}:{pk}", "label": label}
                        for (kind, pk), label in sources.items()],
            "templates": [{"id": t.id, "title": t.title, "category": t.get_category_display(),
                           "text": template_render(template=t, complaint=complaint,
                                                   with_name=visible)}
                          for t in templates],
            "suggested_text": (template_render(template=suggested,
                                               complaint=complaint,
                                               with_name=visible)
                               if suggested else ""),
            "show_follow_up": show_follow_up,
            "follow_ups": (complaint.follow_ups.select_related("staff_member", "decided_by")
                           if show_follow_up else []),
            "staff": StaffMembership.objects.filter(office_id=complaint.office_id)
            .select_related("user").order_by("user__username") if show_follow_up else [],
            "channels": ComplaintChannel.choices, "categories": Category.choices,
            "verdicts": Verdict.choices, "actions": FollowUpAction.choices,
            "link_methods": [c for c in LinkMethod.choices if c[0] != LinkMethod.APP],
            "assignable": _assignable([complaint.office_id]),
            "statement_url": reverse("complaints:statement", args=[complaint.pk]),
            "statement_pdf_url": reverse("complaints:statement-pdf", args=[complaint.pk]),
        }

    def _operate(self, request, complaint):
        """One operation of the workspace, by its `op`; the service decides."""
        post, user = request.POST, request.user
        op = post.get("op", "")
        try:
            if op == "link":
                day = post.get("day") or None
                complaint_link_case(
                    complaint=complaint, method=post.get("method", ""),
                    value=post.get("value", ""), by=user,
                    day=forms.DateField().clean(day) if day else None)
            elif op == "assign":
                assignee = _assignable([complaint.office_id]).filter(
                    pk=post.get("assignee") or 0).first()
                complaint_assign(complaint=complaint, assignee=assignee, by=user)
                complaint_classify(complaint=complaint,
                                   category=post.get("category", ""),
                                   confidential=post.get("confidential") == "on",
                                   by=user)
            elif op in ("acknowledge", "respond", "resolve"):
                template = ResponseTemplate.objects.filter(
                    office_id=complaint.office_id, pk=post.get("template") or 0).first()
                service = {"acknowledge": complaint_acknowledge,
                           "respond": complaint_respond,
                           "resolve": complaint_resolve}[op]
                service(complaint=complaint, text=post.get("text", ""),
                        channel=post.get("channel", ""), by=user, template=template)
            elif op == "wait":
                complaint_wait(complaint=complaint, reason=post.get("reason", ""),
                               by=user)
            elif op == "resume":
                complaint_resume(complaint=complaint, by=user)
            elif op == "generate":
                chronology_generate(complaint=complaint, by=user)
            elif op in ("edit", "publish"):
                chronology = Chronology.objects.filter(
                    complaint=complaint, pk=post.get("chronology") or 0).first()
                if chronology is None:
                    raise Http404
                if op == "edit":
                    chronology_edit(chronology=chronology,
                                    texts=post.getlist("point"), by=user,
                                    note=post.get("note", ""))
                else:
                    chronology_publish(chronology=chronology, by=user)
            elif op == "finding":
                evidence = []
                for key in post.getlist("evidence"):
                    kind, _sep, pk = key.partition(":")
                    if not pk.isdigit():
                        raise DomainError(_("A finding can rest only on records of this "
                                            "case."), "evidence_not_in_case")
                    evidence.append((kind, int(pk)))
                finding_add(complaint=complaint, claim=post.get("claim", ""),
                            verdict=post.get("verdict", ""),
                            explanation=post.get("explanation", ""),
                            evidence=evidence, by=user)
            elif op == "follow_up":
                member = StaffMembership.objects.filter(
                    office_id=complaint.office_id, user_id=post.get("staff_member") or 0
                ).select_related("user").first()
                follow_up_record(
                    complaint=complaint, action=post.get("action", ""),
                    decision=post.get("decision", ""), by=user,
                    staff_member=member.user if member else None,
                    staff_description=post.get("staff_description", ""))
            elif op == "attach" and request.FILES.get("file"):
                attachment_add(complaint=complaint, upload=request.FILES["file"],
                               by=user)
            else:
                raise DomainError(_("Unknown action."), "op_invalid")
        except DomainError as exc:
            if exc.status == 404:
                raise Http404 from exc
            report_domain_error(request, exc)
        except forms.ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))

    # --- The report -------------------------------------------------------------------

    def report_view(self, request):
        """Complaints by channel, category, status and office; time to first response
        and to resolution; share within deadline; per month. Each staff member sees
        the offices they may see complaints of (a supervisor: their own)."""
        office_ids = {oid for oid in tenancy.staff_office_ids(request.user)
                      if request.user.has_perm("complaints.view_complaint",
                                               _OfficeRef(oid))}
        if not office_ids:
            raise PermissionDenied
        offices = Office.objects.filter(id__in=office_ids).order_by("code")
        form = ReportForm(request.GET or None, offices=offices)
        if form.is_valid():
            data = form.cleaned_data
            chosen = [data["office"].id] if data.get("office") else list(office_ids)
            date_from, date_to = data["date_from"], data["date_to"]
        else:
            today = office_today(offices.first())
            chosen, date_from, date_to = list(office_ids), today - timedelta(days=365), today
            if not request.GET:
                form = ReportForm(initial={"date_from": date_from, "date_to": date_to},
                                  offices=offices)
        figures = selectors.report(office_ids=chosen, date_from=date_from, date_to=date_to)
        # The same chart and table as the dashboard's (registry.charts).
        chart = Chart(key="complaints_per_month", section="", title=_("Complaints per month"),
                      labels=[month for month, _n in figures["by_month"]],
                      series=[Series(_("complaints"), [n for _m, n in figures["by_month"]])],
                      label_title=_("month"))
        context = {**self.admin_site.each_context(request), "opts": self.opts,
                   "title": _("Complaint report"), "form": form, "figures": figures,
                   "cell": {"chart": chart, "dom_id": "chart-complaints-per-month",
                            "config": chart_config(chart)},
                   "chart_js": CHART_JS, "date_from": date_from, "date_to": date_to}
        return render(request, "admin/complaints/complaint/report.html", context)


class _OfficeRef:
    def __init__(self, office_id):
        self.office_id = office_id


class ReportForm(forms.Form):
    office = forms.ModelChoiceField(label=gettext_lazy("office"), required=False,
                                    queryset=Office.objects.none())
    date_from = forms.DateField(label=gettext_lazy("from"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("to"),
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and not (start <= end <= start + timedelta(days=REPORT_MAX_DAYS)):
            raise forms.ValidationError(_("Choose a range of at most two years, the start "
                                          "before the end."))
        return data


@admin.register(ComplaintSettings)
class ComplaintSettingsAdmin(NoDeleteMixin, OfficeScopedAdmin):
    list_display = ["office", "acknowledge_days", "respond_days", "resolve_days",
                    "update_every_days", "warn_before_hours"]
    list_select_related = ["office"]


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(OfficeScopedAdmin):
    list_display = ["title", "category", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["title", "body"]
    list_select_related = ["office"]


@admin.register(StaffAlert)
class StaffAlertAdmin(NoAddMixin, NoDeleteMixin, OfficeScopedAdmin):
    """A staff member's own deadline alerts."""

    list_display = ["created_at", "kind", "message", "complaint_link", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["complaint", "office"]
    actions = ["mark_read"]
    readonly_fields = ["office", "complaint", "deadline", "user", "kind", "message",
                       "created_at", "read_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user=request.user)

    @admin.display(description=gettext_lazy("complaint"))
    def complaint_link(self, obj):
        from django.utils.html import format_html

        return format_html('<a href="{}">{}</a>', reverse(
            "admin:complaints_complaint_change", args=[obj.complaint_id]),
            obj.complaint.reference)

    def save_model(self, request, obj, form, change):
        return

    @admin.action(description=gettext_lazy("Mark as read"), permissions=["change"])
    def mark_read(self, request, queryset):
        count = alerts_mark_read(user=request.user,
                                 ids=list(queryset.values_list("id", flat=True)))
        messages.success(request, _("%(count)d alert(s) marked read.") % {"count": count})


@admin.register(StaffFollowUp)
class StaffFollowUpAdmin(NoAddMixin, NoDeleteMixin, OfficeScopedAdmin):
    """Follow-up of staff: supervisors only (the permission is theirs alone)."""

    list_display = ["decided_at", "complaint", "staff_member", "staff_description", "action",
                    "decided_by", "done_at"]
    list_filter = ["action"]
    list_select_related = ["complaint", "staff_member", "decided_by", "office"]
    readonly_fields = ["office", "complaint", "staff_member", "staff_description", "action",
                       "decision", "decided_by", "decided_at", "done_at"]
    actions = ["mark_done"]

    def save_model(self, request, obj, form, change):
        return

    @admin.action(description=gettext_lazy("Mark as carried out"), permissions=["change"])
    def mark_done(self, request, queryset):
        for follow_up in queryset:
            try:
                follow_up_done(follow_up=follow_up, by=request.user)
            except DomainError as exc:
                report_domain_error(request, exc)


@admin.register(Chronology)
class ChronologyAdmin(NoAddMixin, NoDeleteMixin, OfficeScopedAdmin):
    """Every version of every chronology, with what was generated beside what was
    published: read-only (they change in the complaint's workspace)."""

    list_display = ["complaint", "version", "status", "generated_at", "generated_by",
                    "edited_display", "published_at"]
    list_filter = ["status"]
    list_select_related = ["complaint", "generated_by", "office"]
    readonly_fields = ["office", "complaint", "version", "status", "generated_text",
                       "points_text", "generated_at", "generated_by", "published_at",
                       "published_by"]
    fields = readonly_fields

    @admin.display(description=gettext_lazy("edited"), boolean=True)
    def edited_display(self, obj):
        return obj.edited

    @admin.display(description=gettext_lazy("as generated"))
    def generated_text(self, obj):
        return "\n".join(f"{p['n']}. {p['text']}" for p in obj.generated)

    @admin.display(description=gettext_lazy("points"))
    def points_text(self, obj):
        return "\n".join(f"{p['n']}. {p['text']}" for p in obj.points)

    def save_model(self, request, obj, form, change):
        return



# The satisfaction survey's admin lives in its own module (the survey, not complaints).
from complaints import survey_admin  # noqa: E402, F401
