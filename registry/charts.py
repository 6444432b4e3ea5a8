"""Drawing a registry.trends Chart: as a Chart.js configuration for the admin pages (the
library ships with the project's static files, no internet needed), and as a ReportLab
drawing for the PDF report. The same colours and kinds in both."""

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from registry.trends import Chart, Kind

# Distinguishable, colour-blind-safe (Okabe-Ito), in series order.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7",
           "#F0E442", "#000000", "#999999"]

CHART_JS = "registry/vendor/chart-4.6.2.umd.min.js"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def chart_config(chart: Chart) -> dict:
    """The Chart.js configuration of `chart` (registry/static/registry/trends.js draws
    each one). Missing values (None) leave a gap."""
    line = chart.kind == Kind.LINES
    stacked = chart.kind == Kind.STACKED
    datasets = []
    for index, series in enumerate(chart.series):
        datasets.append({
            "label": str(series.name), "data": list(series.values),
            "backgroundColor": colour(index), "borderColor": colour(index),
            "borderWidth": 2 if line else 0, "pointRadius": 2 if line else 0,
            "spanGaps": False, "fill": False, "hidden": not series.plotted,
        })
    axis_title = {"display": bool(chart.unit), "text": str(chart.unit)}
    return {
        "type": "line" if line else "bar",
        "data": {"labels": [str(label) for label in chart.labels], "datasets": datasets},
        "options": {
            "animation": False, "responsive": True, "maintainAspectRatio": False,
            "plugins": {"legend": {"display": len(datasets) > 1, "position": "bottom"},
                        "title": {"display": False}},
            "scales": {"x": {"stacked": stacked},
                       "y": {"stacked": stacked, "beginAtZero": True, "title": axis_title}},
        },
    }


def _number(value) -> float:
    return 0 if value is None else float(value)


def chart_drawing(chart: Chart, *, width: float = 480, height: float = 190) -> Drawing:
    """A ReportLab drawing of `chart` for the PDF report: bars, stacked bars or lines
    with a legend below when there is more than one series."""
    legend_height = 16 if len([s for s in chart.series if s.plotted]) > 1 else 0
    drawing = Drawing(width, height)
    labels = [str(label) for label in chart.labels]
    many = len(labels) > 12
    bottom = 28 + legend_height + (14 if many else 0)
    if chart.kind == Kind.LINES:
        plot = HorizontalLineChart()
        plot.joinedLines = 1
    else:
        plot = VerticalBarChart()
        plot.barSpacing = 0.5
        if chart.kind == Kind.STACKED:
            plot.categoryAxis.style = "stacked"
    plot.x, plot.y = 38, bottom
    plot.width, plot.height = width - 50, height - bottom - 8
    shown = [series for series in chart.series if series.plotted] or chart.series[:1]
    data = [[_number(v) for v in series.values] for series in shown] or [[0]]
    plot.data = data
    plot.categoryAxis.categoryNames = labels or [""]
    plot.categoryAxis.labels.fontSize = 6
    plot.categoryAxis.labels.boxAnchor = "ne" if many else "n"
    plot.categoryAxis.labels.angle = 45 if many else 0
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.valueMin = 0
    highest = max([max(row) for row in data if row] or [0])
    if chart.kind == Kind.STACKED:
        highest = max([sum(column) for column in zip(*data, strict=False)] or [0])
    if highest <= 0:
        plot.valueAxis.valueMax = 1
    for index in range(len(data)):
        if chart.kind == Kind.LINES:
            plot.lines[index].strokeColor = colors.HexColor(colour(index))
            plot.lines[index].strokeWidth = 1.5
        else:
            plot.bars[index].fillColor = colors.HexColor(colour(index))
            plot.bars[index].strokeColor = None
    drawing.add(plot)
    if legend_height:
        legend = Legend()
        legend.x, legend.y = 38, 8
        legend.alignment = "right"
        legend.fontSize = 7
        legend.columnMaximum = 1
        legend.deltax = 90
        legend.colorNamePairs = [(colors.HexColor(colour(i)), str(s.name))
                                 for i, s in enumerate(shown)]
        drawing.add(legend)
    if chart.unit:
        drawing.add(String(2, height - 8, str(chart.unit), fontSize=7))
    return drawing
