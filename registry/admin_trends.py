"""The office head's pages in admin: the dashboard of trends (per office, or side by side
across offices), its export, and the monthly report (HTML and PDF).

Who sees what: the offices where the user's roles grant registry.view_trends (an office
administrator, a supervisor, public relations: their office; a provincial supervisor:
their province's offices; a superuser: every office). Exports also need
registry.export_data in the office and are recorded like the lists' exports.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import charts, reports, tenancy, trends
from registry.admin_base import EXPORT_PERM, tabular_response
from registry.calendar import office_today
from registry.models import ExportFormat, Office
from registry.replica import replica_reads
from registry.services.exports import export_record

TRENDS_PERM = "registry.view_trends"
# Offices drawn side by side on one page; more are compared in the monthly report.
MAX_SIDE_BY_SIDE = 10


class OfficesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class DashboardForm(forms.Form):
    office = OfficesField(label=gettext_lazy("offices"), queryset=Office.objects.none(),
                          to_field_name="code", required=False,
                          widget=forms.CheckboxSelectMultiple)
    start = forms.DateField(label=gettext_lazy("from"),
                            widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("to"),
                          widget=forms.DateInput(attrs={"type": "date"}))
    granularity = forms.ChoiceField(label=gettext_lazy("per"),
                                    choices=trends.Granularity.choices)

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.offices = offices
        self.fields["office"].queryset = Office.objects.filter(
            id__in=[o.id for o in offices]).order_by("code")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The end date is before the start date."))
            if (end - start).days + 1 > trends.MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose at most %(days)d days.") % {"days": trends.MAX_DAYS})
        chosen = list(data.get("office") or [])
        if len(chosen) > MAX_SIDE_BY_SIDE:
            raise forms.ValidationError(
                _("Choose at most %(count)d offices to compare side by side.")
                % {"count": MAX_SIDE_BY_SIDE})
        return data


def default_offices(offices: list[Office]) -> list[Office]:
    """All the user's offices side by side when they fit on the page, else the first."""
    return offices if len(offices) <= MAX_SIDE_BY_SIDE else offices[:1]


def dashboard_choice(request, offices: list[Office]):
    """The form and, when valid (or on the first visit, the defaults: the last 30 days
    per day), the chosen offices and period."""
    if not any(k in request.GET for k in ("start", "end", "granularity", "office")):
        chosen = default_offices(offices)
        period = trends.default_period(office_today(chosen[0]))
        form = DashboardForm(offices=offices, initial={
            "office": chosen, "start": period.start, "end": period.end,
            "granularity": period.granularity})
        return form, chosen, period
    form = DashboardForm(request.GET, offices=offices)
    if not form.is_valid():
        return form, [], None
    data = form.cleaned_data
    chosen = list(data["office"]) or default_offices(offices)
    return form, chosen, trends.Period(data["start"], data["end"], data["granularity"])


def chart_rows(offices: list[Office], charts_by_office: dict[int, list]) -> list[dict]:
    """The charts as rows of one chart key, each with one cell per office (side by
    side), in the order of the first office's charts."""
    rows: dict[str, dict] = {}
    for office in offices:
        for chart in charts_by_office[office.id]:
            row = rows.setdefault(chart.key, {"key": chart.key, "title": chart.title,
                                              "section": chart.section, "cells": []})
            row["cells"].append({"office": office, "chart": chart,
                                 "dom_id": f"chart-{chart.key}-{office.code}",
                                 "config": charts.chart_config(chart)})
    return list(rows.values())


def dashboard_view(request, admin_site):
    offices = tenancy.offices_with_perm(request.user, TRENDS_PERM)
    if not offices:
        raise PermissionDenied
    form, chosen, period = dashboard_choice(request, offices)
    rows = []
    if period is not None:
        with replica_reads():
            rows = chart_rows(chosen, trends.trends_for(offices=chosen, period=period))
    export_offices = {o.id for o in tenancy.offices_with_perm(request.user, EXPORT_PERM)}
    query = request.GET.urlencode()
    context = {
        **admin_site.each_context(request), "title": _("Dashboard"), "form": form,
        "rows": rows, "offices": chosen, "period": period, "chart_js": charts.CHART_JS,
        "side_by_side": len(chosen) > 1,
        "may_export": any(o.id in export_offices for o in chosen),
        "export_query": query, "export_formats": ExportFormat.choices,
        "report_month": (period.end if period else office_today(offices[0])).strftime("%Y-%m"),
    }
    return render(request, "admin/registry/dashboard.html", context)


def dashboard_export_view(request, admin_site, file_format):
    """The dashboard's tables as CSV (one block per chart and office) or XLSX (one sheet
    per chart), for the chosen offices where the user may also export."""
    if file_format not in ExportFormat.values:
        raise Http404
    offices = tenancy.offices_with_perm(request.user, TRENDS_PERM)
    export_ids = {o.id for o in tenancy.offices_with_perm(request.user, EXPORT_PERM)}
    offices = [o for o in offices if o.id in export_ids]
    if not offices:
        raise PermissionDenied
    form, chosen, period = dashboard_choice(request, offices)
    if period is None:
        return render(request, "admin/registry/dashboard.html", {
            **admin_site.each_context(request), "title": _("Dashboard"), "form": form,
            "rows": [], "offices": [], "period": None, "chart_js": charts.CHART_JS},
            status=400)
    with replica_reads():
        sheets, per_office = trend_sheets(chosen,
                                          trends.trends_for(offices=chosen, period=period))
    export_record(user=request.user, list_name="registry.dashboard",
                  query=request.GET.urlencode(), file_format=file_format,
                  office_ids={o.id for o in chosen}, rows_by_office=per_office, disclosed=set())
    filename = f"dashboard-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{file_format}"
    return tabular_response(sheets, file_format=file_format, filename=filename,
                            titled=True)


def trend_sheets(offices, charts_by_office) -> tuple[list[tuple[str, list, list]], Counter]:
    """Each chart's table as a sheet (title, header, rows), with an office column first
    when there are several offices; and the rows per office."""
    sheets: dict[str, tuple[str, list, list]] = {}
    per_office: Counter = Counter()
    for office in offices:
        for chart in charts_by_office[office.id]:
            rows = sheets.setdefault(
                chart.key, (str(chart.title), [_("office"), *chart.header()], []))[2]
            for row in chart.rows():
                rows.append([office.name, *row])
                per_office[office.id] += 1
    return list(sheets.values()), per_office


# --- The monthly report --------------------------------------------------------------


class ReportForm(forms.Form):
    office = OfficesField(label=gettext_lazy("offices"), queryset=Office.objects.none(),
                          to_field_name="code", required=False,
                          widget=forms.CheckboxSelectMultiple)
    month = forms.DateField(label=gettext_lazy("month"), input_formats=["%Y-%m"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
    format = forms.ChoiceField(label=gettext_lazy("as"), required=False,
                               choices=[("html", "HTML"), ("pdf", "PDF")])

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = Office.objects.filter(
            id__in=[o.id for o in offices]).order_by("code")


def month_period(month: date) -> trends.Period:
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return trends.Period(first, last, trends.Granularity.DAY)


def report_view(request, admin_site):
    """One office's month, section by section; for several offices (a provincial
    supervisor's), one report comparing them. ?format=pdf gives the PDF."""
    offices = tenancy.offices_with_perm(request.user, TRENDS_PERM)
    if not offices:
        raise PermissionDenied
    if "month" not in request.GET:
        today = office_today(offices[0])
        last_month = today.replace(day=1) - timedelta(days=1)
        form = ReportForm(offices=offices, initial={
            "office": default_offices(offices), "month": last_month.replace(day=1)})
        return render(request, "admin/registry/report.html", {
            **admin_site.each_context(request), "title": _("Monthly report"), "form": form,
            "report": None})
    form = ReportForm(request.GET, offices=offices)
    if not form.is_valid():
        return render(request, "admin/registry/report.html", {
            **admin_site.each_context(request), "title": _("Monthly report"), "form": form,
            "report": None}, status=400)
    chosen = list(form.cleaned_data["office"]) or default_offices(offices)
    period = month_period(form.cleaned_data["month"])
    with replica_reads():
        report = reports.monthly_report(offices=chosen, period=period)
    if form.cleaned_data.get("format") == "pdf":
        name = chosen[0].code if len(chosen) == 1 else "offices"
        response = HttpResponse(reports.report_pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="report-{name}-{period.start:%Y-%m}.pdf"')
        return response
    number = 0
    for section in report["sections"]:
        for item in section["charts"]:
            number += 1
            item["config"] = charts.chart_config(item["chart"])
            item["dom_id"] = f"report-chart-{number}"
    return render(request, "admin/registry/report.html", {
        **admin_site.each_context(request),
        "title": _("Monthly report %(month)s") % {"month": date_format(period.start, "F Y")},
        "form": form, "report": report, "chart_js": charts.CHART_JS,
        "pdf_query": pdf_query(request)})


def pdf_query(request) -> str:
    params = request.GET.copy()
    params["format"] = "pdf"
    return params.urlencode()
