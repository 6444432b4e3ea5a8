"""The office head's dashboard (registry.admin_trends): periods in the office's calendar,
the core's chart of residents sent away at the door with exact values, who sees which
offices, bad choices, the export of its tables (recorded), and the monthly report as
HTML and PDF."""

import csv
import io
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from registry.models import ExportRecord, Role, TurnAway, TurnAwayReason
from registry.services.staff import staff_membership_grant
from registry.trends import Granularity, Period, trends_for
from tests.factories import OfficeFactory, ResidentFactory
from tests.language import choose_language

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
DASHBOARD = reverse("admin:dashboard")
REPORT = reverse("admin:monthly_report")
JULY = {"start": "2026-07-01", "end": "2026-07-31"}


def turn_away(office, at, reason=TurnAwayReason.MISSING_DOCUMENT):
    return TurnAway.objects.create(office=office, reason=reason, at=at,
                                   resident=ResidentFactory(domicile_office=office))


@pytest.fixture
def month(office_a, office_b):
    """July 2026 of two offices: A sends five residents away, B (in WITA) two."""
    turn_away(office_a, datetime(2026, 7, 1, 8, 0, tzinfo=WIB))
    turn_away(office_a, datetime(2026, 7, 1, 23, 30, tzinfo=WIB), TurnAwayReason.NO_BOOKING)
    turn_away(office_a, datetime(2026, 7, 6, 10, 0, tzinfo=WIB))
    turn_away(office_a, datetime(2026, 7, 31, 15, 0, tzinfo=WIB), TurnAwayReason.OFFICE_FULL)
    # 00:30 WIB on 1 August: outside July at the office.
    turn_away(office_a, datetime(2026, 8, 1, 0, 30, tzinfo=WIB))
    # 30 June 23:30 WIB is outside July at office A.
    turn_away(office_a, datetime(2026, 6, 30, 23, 30, tzinfo=WIB))
    office_b.timezone = "Asia/Makassar"
    office_b.save(update_fields=["timezone"])
    # 23:30 WIB on 30 June is 00:30 WITA on 1 July: July at office B.
    turn_away(office_b, datetime(2026, 6, 30, 23, 30, tzinfo=WIB))
    turn_away(office_b, datetime(2026, 7, 2, 9, 0, tzinfo=WITA))
    return office_a, office_b


def series(chart, name):
    return next(s.values for s in chart.series if s.name == name)


def turned_away(office, period):
    charts = trends_for(offices=[office], period=period)[office.id]
    return next(c for c in charts if c.key == "turned_away")


@pytest.mark.parametrize(("granularity", "missing", "no_booking", "full"), [
    (Granularity.MONTH, [2], [1], [1]),
    # Weeks from Monday: 1 July (Wed) .. 5 July, 6 .. 12, 13 .. 19, 20 .. 26, 27 .. 31.
    (Granularity.WEEK, [1, 1, 0, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]),
])
def test_turn_aways_per_bucket_and_reason_in_the_offices_calendar(
        month, granularity, missing, no_booking, full):
    office_a, _office_b = month
    chart = turned_away(office_a, Period(date(2026, 7, 1), date(2026, 7, 31), granularity))
    assert series(chart, "Dokumen persyaratan tidak dibawa") == missing
    assert series(chart, "Belum booking: diminta booking dulu") == no_booking
    assert series(chart, "Kuota hari ini habis") == full


def test_a_day_chart_counts_the_local_day_and_another_zone_its_own(month):
    office_a, office_b = month
    days = Period(date(2026, 7, 1), date(2026, 7, 2), Granularity.DAY)
    chart_a = turned_away(office_a, days)
    assert [sum(s.values[i] for s in chart_a.series) for i in range(2)] == [2, 0]
    chart_b = turned_away(office_b, days)
    assert [sum(s.values[i] for s in chart_b.series) for i in range(2)] == [1, 1]
    assert chart_a.rows()[0][0] == "1 Jul"


def test_the_queries_do_not_grow_with_offices_or_days(month):
    office_a, office_b = month
    third = OfficeFactory(code="3273", name="Disdukcapil Kota Bandung")

    def queries(offices, period):
        with CaptureQueriesContext(connection) as captured:
            trends_for(offices=offices, period=period)
        return len(captured)

    week = Period(date(2026, 7, 1), date(2026, 7, 7))
    year = Period(date(2025, 8, 1), date(2026, 7, 31), Granularity.MONTH)
    one = queries([office_a], week)
    # Office B is in another time zone: one more grouped query per zone, not per office.
    office_b.timezone = "Asia/Jakarta"
    office_b.save(update_fields=["timezone"])
    assert queries([office_a, office_b, third], week) == one
    assert queries([office_a, office_b, third], year) == one


# --- The page ------------------------------------------------------------------------


@pytest.fixture
def head(client, make_staff, office_a):
    client.force_login(make_staff(office_a, Role.OFFICE_ADMIN))
    return client


@pytest.fixture
def province(client, make_staff, office_a, office_b):
    user = make_staff(office_a, Role.PROVINCIAL_SUPERVISOR, username="jabar")
    staff_membership_grant(user=user, office=office_b, role=Role.PROVINCIAL_SUPERVISOR)
    client.force_login(user)
    return client


def test_the_first_visit_shows_the_last_30_days_of_the_heads_office(head, month):
    with time_machine.travel(datetime(2026, 7, 31, 16, 0, tzinfo=WIB), tick=False):
        response = head.get(DASHBOARD)
    assert response.status_code == 200
    period = response.context["period"]
    assert (period.start, period.end, period.granularity) == (
        date(2026, 7, 2), date(2026, 7, 31), Granularity.DAY)
    assert [o.code for o in response.context["offices"]] == ["3275"]
    assert response.context["rows"][0]["cells"][0]["dom_id"] == "chart-turned_away-3275"
    html = response.content.decode()
    assert "chart-4.6.2.umd.min.js" in html
    assert 'data-chart="chart-turned_away-3275-config"' in html


def test_a_head_never_sees_another_offices_figures(head, month):
    response = head.get(DASHBOARD, {**JULY, "granularity": "month", "office": "3216"})
    assert response.status_code == 200
    assert response.context["period"] is None
    assert response.context["rows"] == []
    assert "3216" in str(response.context["form"].errors["office"])


def test_a_provincial_supervisor_compares_offices_side_by_side(province, month):
    response = province.get(DASHBOARD, {**JULY, "granularity": "month"})
    row = next(r for r in response.context["rows"] if r["key"] == "turned_away")
    totals = {cell["office"].code: sum(s.values[0] for s in cell["chart"].series)
              for cell in row["cells"]}
    assert totals == {"3275": 4, "3216": 2}


@pytest.mark.parametrize(("params", "message"), [
    ({"start": "2026-07-31", "end": "2026-07-01", "granularity": "day"},
     "Tanggal akhir sebelum tanggal awal."),
    ({"start": "2025-01-01", "end": "2026-07-01", "granularity": "day"},
     "Pilih paling banyak 366 hari."),
    ({"start": "kemarin", "end": "2026-07-01", "granularity": "day"},
     "Masukkan tanggal yang valid."),
    ({**JULY, "granularity": "hour"},
     "Masukkan pilihan yang valid. hour bukan salah satu dari pilihan yang tersedia."),
])
def test_a_bad_choice_is_explained_in_indonesian(head, month, params, message):
    response = head.get(DASHBOARD, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["rows"] == []


def test_staff_without_the_dashboard_are_refused(client, make_staff, office_a):
    client.force_login(make_staff(office_a, Role.COUNTER_OPERATOR))
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(REPORT).status_code == 403
    assert client.get(reverse("admin:dashboard_export", args=["csv"])).status_code == 403


# --- Export --------------------------------------------------------------------------


def test_the_export_gives_each_charts_table_and_is_recorded(province, month):
    choose_language(province, "en")
    url = reverse("admin:dashboard_export", args=["csv"])
    response = province.get(url, {**JULY, "granularity": "month"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    start = rows.index(["Residents sent away at the door"])
    assert rows[start + 1][:3] == ["office", "period", "No booking: told to book first"]
    # The offices by region code.
    assert rows[start + 2][:4] == ["Disdukcapil Kabupaten Bekasi", "Jul 2026", "0", "2"]
    assert rows[start + 3][:4] == ["Disdukcapil Kota Bekasi", "Jul 2026", "1", "2"]
    # Recorded per office with the rows it had in the file (a row per chart and label).
    names = {"Disdukcapil Kabupaten Bekasi": "3216", "Disdukcapil Kota Bekasi": "3275"}
    in_file = Counter(names[row[0]] for row in rows if row and row[0] in names)
    records = ExportRecord.objects.filter(list_name="registry.dashboard").order_by("office")
    assert [(r.office.code, r.file_format, r.row_count) for r in records] == [
        ("3216", "csv", in_file["3216"]), ("3275", "csv", in_file["3275"])]
    assert in_file["3275"] > 1


def test_the_xlsx_export_has_a_sheet_per_chart_with_numbers(province, month):
    choose_language(province, "en")
    response = province.get(reverse("admin:dashboard_export", args=["xlsx"]),
                            {**JULY, "granularity": "month", "office": "3275"})
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = book["Residents sent away at the door"[:28]]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("Disdukcapil Kota Bekasi", "Jul 2026", 1, 2)
    assert ExportRecord.objects.get().office.code == "3275"


def test_public_relations_may_see_but_another_office_is_not_exported(
        client, make_staff, office_a, month):
    client.force_login(make_staff(office_a, Role.PUBLIC_RELATIONS))
    response = client.get(reverse("admin:dashboard_export", args=["csv"]),
                          {**JULY, "granularity": "month", "office": "3216"})
    assert "3216" in str(response.context["form"].errors["office"])
    assert response.status_code == 400
    assert not ExportRecord.objects.exists()


# --- The monthly report --------------------------------------------------------------


def test_the_monthly_report_has_the_month_by_week_and_the_month_row(head, month):
    choose_language(head, "en")
    response = head.get(REPORT, {"month": "2026-07"})
    assert response.status_code == 200
    report = response.context["report"]
    assert report["title"] == "Disdukcapil Kota Bekasi: monthly report, July 2026"
    trips = next(s for s in report["sections"] if s["title"] == "One trip")
    chart = trips["charts"][0]["chart"]
    assert chart.labels == ["1 Jul", "6 Jul", "13 Jul", "20 Jul", "27 Jul"]
    # The month's own row: 1 without a booking, 2 missing documents, 1 office full.
    assert chart.total_row[:3] == ["July 2026", 1, 2]
    closures = next(s for s in report["sections"] if s["title"] == "Outages and closures")
    assert [t["table"].title for t in closures["tables"]] == [
        "Closures", "Central-link outages"]


def test_the_monthly_report_prints_as_pdf_one_page_per_section(head, month):
    choose_language(head, "en")
    response = head.get(REPORT, {"month": "2026-07", "format": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="report-3275-2026-07.pdf"'
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    assert "Disdukcapil Kota Bekasi: monthly report, July 2026" in pages[0]
    assert "Residents sent away at the door" in "".join(pages)
    starts = [i for i, text in enumerate(pages) if "Outages and closures" in text]
    assert starts
    assert "No outage of the central link." in pages[starts[0]]


def test_the_provincial_report_compares_the_offices(province, month):
    choose_language(province, "en")
    response = province.get(REPORT, {"month": "2026-07"})
    report = response.context["report"]
    assert report["title"] == "Offices compared: monthly report, July 2026"
    trips = next(s for s in report["sections"] if s["title"] == "One trip")
    chart = trips["charts"][0]["chart"]
    assert chart.labels == ["Disdukcapil Kabupaten Bekasi", "Disdukcapil Kota Bekasi"]
    assert series(chart, "A required document is missing") == [2, 2]


def test_a_bad_month_is_explained(head, month):
    response = head.get(REPORT, {"month": "Juli"})
    assert response.status_code == 400
    assert "Masukkan tanggal yang valid." in response.content.decode()


def test_a_head_gets_no_report_of_another_office(head, month):
    response = head.get(REPORT, {"month": "2026-07", "office": "3216"})
    assert response.status_code == 400
    assert response.context["report"] is None
    pdf = head.get(REPORT, {"month": "2026-07", "office": "3216", "format": "pdf"})
    assert pdf.status_code == 400
    assert pdf["Content-Type"].startswith("text/html")
