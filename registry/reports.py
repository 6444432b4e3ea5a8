"""The monthly report: one office's month, a page per section (its charts, each with its
table by week and the month's own figure), and the month's lists the apps add (outages
and closures, complaints and their resolution); for several offices, one report that
compares them (each figure for the month, office by office). As HTML (admin) and PDF.

The figures are registry.trends charts; the lists come from the apps'
registry.extensions.REPORT_TABLES sources `(*, offices, period) -> {office_id: [Table]}`.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from registry import extensions, trends
from registry.charts import chart_drawing
from registry.models import Office
from registry.trends import Chart, Granularity, Period, Series, Table


def report_tables(*, offices: list[Office], period: Period) -> dict[int, list[Table]]:
    tables: dict[int, list[Table]] = {office.id: [] for office in offices}
    for source in extensions.registered(extensions.REPORT_TABLES):
        for office_id, office_tables in source(offices=offices, period=period).items():
            tables[office_id].extend(office_tables)
    return tables


def _with_month_row(weekly: Chart, monthly: Chart | None, period: Period) -> Chart:
    """The weekly chart with the month's own figures as its table's last row (a median
    or a share of the month is not the sum of its weeks: the selectors compute it)."""
    if monthly is None or weekly.labels != Period(period.start, period.end,
                                                  Granularity.WEEK).labels():
        return weekly
    label = date_format(period.start, "F Y")
    return Chart(key=weekly.key, section=weekly.section, title=weekly.title,
                 labels=weekly.labels, series=weekly.series, kind=weekly.kind,
                 unit=weekly.unit, note=weekly.note, label_title=weekly.label_title,
                 total_row=[label, *[s.values[0] if s.values else None
                                     for s in monthly.series]])


def _sections(charts: list[tuple[Office | None, Chart]], tables: list[tuple[Office, Table]]):
    sections: dict[str, dict] = {}
    for office, chart in charts:
        sections.setdefault(str(chart.section), {"title": str(chart.section), "charts": [],
                                                 "tables": []})
        sections[str(chart.section)]["charts"].append({"office": office, "chart": chart})
    for office, table in tables:
        sections.setdefault(str(table.section), {"title": str(table.section), "charts": [],
                                                 "tables": []})
        sections[str(table.section)]["tables"].append({"office": office, "table": table})
    return list(sections.values())


def comparison(offices: list[Office], monthly: dict[int, list[Chart]],
               month: Period) -> list[tuple[Office | None, Chart]]:
    """Each figure of the month, office by office: for a chart over the period (one
    bucket: the month), a chart whose labels are the offices; a chart over categories
    (lanes, reasons) stays per office."""
    out: list[tuple[Office | None, Chart]] = []
    first = monthly[offices[0].id] if offices else []
    for index, chart in enumerate(first):
        if chart.labels == month.labels():
            series = [Series(s.name, [monthly[o.id][index].series[i].values[0]
                                      for o in offices])
                      for i, s in enumerate(chart.series)]
            out.append((None, Chart(key=chart.key, section=chart.section, title=chart.title,
                                    labels=[o.name for o in offices], series=series,
                                    kind=trends.Kind.STACKED if chart.kind == trends.Kind.STACKED
                                    else trends.Kind.BARS, unit=chart.unit,
                                    note=chart.note, label_title=str(_("office")))))
        else:
            out.extend((office, monthly[office.id][index]) for office in offices)
    return out


def monthly_report(*, offices: list[Office], period: Period) -> dict:
    """The report of `offices` for the month `period` (its days)."""
    month = Period(period.start, period.end, Granularity.MONTH)
    monthly = trends.trends_for(offices=offices, period=month)
    tables = report_tables(offices=offices, period=period)
    table_items = [(office, table) for office in offices for table in tables[office.id]]
    if len(offices) == 1:
        office = offices[0]
        weekly = trends.trends_for(offices=offices, period=Period(period.start, period.end,
                                                                  Granularity.WEEK))
        by_key = {chart.key: chart for chart in monthly[office.id]}
        charts = [(None, _with_month_row(chart, by_key.get(chart.key), period))
                  for chart in weekly[office.id]]
        title = _("%(office)s: monthly report, %(month)s") % {
            "office": office.name, "month": date_format(period.start, "F Y")}
    else:
        charts = comparison(offices, monthly, month)
        title = _("Offices compared: monthly report, %(month)s") % {
            "month": date_format(period.start, "F Y")}
    return {"title": title, "offices": offices, "period": period,
            "sections": _sections(charts, table_items),
            "printed": date_format(timezone.localtime(), "j F Y H:i")}


def report_pdf(report: dict) -> bytes:
    """The report as an A4 PDF: a title, then one page per section."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        TableStyle,
    )
    from reportlab.platypus import Table as PdfTable

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    cell_style = TableStyle([
        ("FONTSIZE", (0, 0), (-1, -1), 7), ("LEADING", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP")])

    def table_flowable(header, rows):
        data = [[Paragraph(escape(str(c)), small) for c in header]]
        data += [[Paragraph(escape("" if c is None else str(c)), small) for c in row]
                 for row in rows]
        return PdfTable(data, repeatRows=1, style=cell_style, hAlign="LEFT")

    story = [Paragraph(escape(report["title"]), styles["Title"])]
    for number, section in enumerate(report["sections"]):
        if number:
            story.append(PageBreak())
            story.append(Paragraph(escape(report["title"]), small))
        story.append(Paragraph(escape(section["title"]), styles["Heading2"]))
        for item in section["charts"]:
            chart = item["chart"]
            heading = chart.title if item["office"] is None else \
                f"{chart.title}: {item['office'].name}"
            rows = chart.rows() + ([chart.total_row] if chart.total_row else [])
            block = [Paragraph(escape(str(heading)), styles["Heading4"]),
                     chart_drawing(chart, width=480, height=150),
                     table_flowable(chart.header(), rows)]
            if chart.note:
                block.append(Paragraph(escape(str(chart.note)), small))
            story.append(KeepTogether([*block, Spacer(1, 0.3 * cm)]))
        for item in section["tables"]:
            table = item["table"]
            heading = table.title if len(report["offices"]) == 1 else \
                f"{table.title}: {item['office'].name}"
            story.append(Paragraph(escape(str(heading)), styles["Heading4"]))
            if table.rows:
                story.append(table_flowable(table.header, table.rows))
            else:
                story.append(Paragraph(escape(str(table.empty)), small))
            story.append(Spacer(1, 0.3 * cm))
    story.append(Spacer(1, 0.5 * cm))
    story.append(Paragraph(escape(_("Printed %(at)s") % {"at": report["printed"]}), small))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, title=report["title"],
                                 leftMargin=1.5 * cm, rightMargin=1.5 * cm,
                                 topMargin=1.5 * cm, bottomMargin=1.5 * cm)
    document.build(story)
    return buffer.getvalue()
