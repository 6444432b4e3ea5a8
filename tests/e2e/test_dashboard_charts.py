"""The dashboard in a real headless Chromium, with no internet: Chart.js comes from the
project's static files, every chart is drawn (pixels on its canvas), it draws the
figures of the table underneath, and the offices stand side by side."""

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from registry.models import Role, TurnAway, TurnAwayReason
from registry.services.staff import staff_membership_grant
from tests.factories import ResidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIB = ZoneInfo("Asia/Jakarta")

# A canvas is drawn when some of its pixels are not transparent.
DRAWN = """canvas => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) return true; }
  return false;
}"""


def sign_in(page, url, username, password, next_url):
    page.goto(f"{url}/admin/login/?next={quote(next_url)}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit]")


def test_the_dashboard_draws_each_chart_from_its_table(browser_page, office_a, office_b,
                                                       make_staff):
    for day, reason in ((1, TurnAwayReason.MISSING_DOCUMENT), (8, TurnAwayReason.NO_BOOKING),
                        (9, TurnAwayReason.MISSING_DOCUMENT)):
        TurnAway.objects.create(office=office_a, reason=reason,
                                at=datetime(2026, 7, day, 9, 0, tzinfo=WIB),
                                resident=ResidentFactory(domicile_office=office_a))
    user = make_staff(office_a, Role.PROVINCIAL_SUPERVISOR, username="jabar",
                      password="jabar-pass-1")
    staff_membership_grant(user=user, office=office_b, role=Role.PROVINCIAL_SUPERVISOR)
    page, url = browser_page
    # Nothing outside the live server may be fetched: no CDN.
    outside = []
    page.route("**/*", lambda route: (outside.append(route.request.url), route.abort())
               if not route.request.url.startswith(url) else route.continue_())
    query = "start=2026-07-01&end=2026-07-14&granularity=week"
    sign_in(page, url, "jabar", "jabar-pass-1", f"/admin/dashboard/?{query}")
    assert page.inner_text("h1") == "Dasbor"
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn]').length > 0 && "
                           "document.querySelectorAll('canvas[data-drawn]').length === "
                           "document.querySelectorAll('canvas[data-chart]').length")
    assert outside == []
    canvases = page.query_selector_all("canvas[data-chart]")
    # Each chart for each of the two offices, side by side.
    assert len(canvases) % 2 == 0
    assert all(canvas.evaluate(DRAWN) for canvas in canvases)
    figure = "#chart-turned_away-3275"
    drawn = page.eval_on_selector(
        f"{figure} canvas", "c => c.chart.data.datasets.map(d => [d.label, d.data])")
    table = page.eval_on_selector_all(
        f"{figure} table tbody tr",
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(td => Number(td.textContent)))")
    # The chart's series are the table's columns: the weeks of 1, 6 and 13 July.
    assert [values for _label, values in drawn] == [list(column) for column in zip(*table,
                                                                                   strict=True)]
    assert dict(drawn)["Dokumen persyaratan tidak dibawa"] == [1, 1, 0]
    assert dict(drawn)["Belum booking: diminta booking dulu"] == [0, 1, 0]
    first = page.eval_on_selector("#chart-turned_away-3216", "f => f.getBoundingClientRect().top")
    second = page.eval_on_selector("#chart-turned_away-3275", "f => f.getBoundingClientRect().top")
    assert first == second  # side by side

    # The monthly report draws its charts too.
    page.goto(f"{url}/admin/report/?month=2026-07&office=3275")
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn]').length > 0")
    assert all(c.evaluate(DRAWN) for c in page.query_selector_all("canvas[data-chart]"))
    assert outside == []
