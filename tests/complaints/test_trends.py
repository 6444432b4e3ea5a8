"""The complaints' and the survey's trends over a hand-built July 2026: complaints by
channel, deadlines answered within them, late or open past them, the IKM per bucket and
its elements over the period, per day, week and month of each office's calendar (Kota
Bekasi in WIB, Kota Makassar in WITA), exact; the IKM grade boundaries; scoping;
bounded queries."""

import itertools
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from complaints.models import (
    Complaint,
    ComplaintChannel,
    ComplaintDeadline,
    DeadlineKind,
    SurveyAnswer,
)
from complaints.selectors import ikm, report_tables
from complaints.trends import charts
from registry import extensions
from registry.trends import Granularity, Period, trends_for
from tests.factories import ApplicationFactory, OfficeFactory
from tests.trends import queries_of

pytestmark = pytest.mark.django_db

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
JULY = (date(2026, 7, 1), date(2026, 7, 31))
# After the month: deadlines due by then are past, one due on 5 August is not yet.
NOW = datetime(2026, 8, 3, 10, 0, tzinfo=WIB)
_references = itertools.count(1)


def wib(day, hour, minute=0, month=7):
    return datetime(2026, month, day, hour, minute, tzinfo=WIB)


def wita(day, hour, minute=0, month=7):
    return datetime(2026, month, day, hour, minute, tzinfo=WITA)


def per_day(values: dict[int, int], default=0) -> list:
    return [values.get(day, default) for day in range(1, 32)]


def carried(changes: dict[int, int]) -> list:
    """A level over the 31 days of July, from the days it changed to a new value."""
    out, level = [], changes.get(0, 0)
    for day in range(1, 32):
        level = changes.get(day, level)
        out.append(level)
    return out


@pytest.fixture
def office_m(db):
    return OfficeFactory(code="7371", name="Disdukcapil Kota Makassar", timezone="Asia/Makassar")


def complaint(office, channel, received, waiting_since=None):
    return Complaint.objects.create(
        office=office, reference=f"ADU-{next(_references):05d}", channel=channel,
        received_at=received, text="Antrean lama.", waiting_since=waiting_since)


def deadline(of, kind, due, met=None, paused=False):
    return ComplaintDeadline.objects.create(office=of.office, complaint=of, kind=kind,
                                            due_at=due, warn_at=due, met_at=met, paused=paused)


def answer(office, at, scores):
    application = ApplicationFactory(office=office)
    return SurveyAnswer.objects.create(
        office=office, application=application, resident=application.resident, answered_at=at,
        **{f"u{i}": score for i, score in enumerate(scores, start=1)})


def answers_adding_up_to(office, at, answers: int, points: int):
    """`answers` answers at `at` whose 9 x `answers` scores add up to `points`."""
    base, extra = divmod(points, 9 * answers)
    for n in range(answers):
        answer(office, at, [base + (1 if n * 9 + i < extra else 0) for i in range(9)])


@pytest.fixture
def month(office_a, office_m):
    """July 2026 at Kota Bekasi (WIB) and Kota Makassar (WITA)."""
    ig, wa, lapor = ComplaintChannel.INSTAGRAM, ComplaintChannel.WHATSAPP, ComplaintChannel.LAPOR
    ack, respond = DeadlineKind.ACKNOWLEDGE, DeadlineKind.RESPOND
    resolve, update = DeadlineKind.RESOLVE, DeadlineKind.UPDATE
    # Complaints received. Bekasi: on Instagram at 00:30 on the 1st (17:30 UTC on 30
    # June); on WhatsApp at 23:30 on the 3rd; on LAPOR! and Instagram on the 6th; in
    # the app at 23:30 on the 31st; on Instagram at 23:30 on 30 June and by e-mail at
    # 00:30 on 1 August (outside). Makassar: on X at 00:30 WITA on the 10th (23:30 on
    # the 9th in WIB), through the survey on the 20th.
    june = complaint(office_a, ig, wib(30, 23, 30, month=6))
    complaint(office_a, ig, wib(1, 0, 30))
    complaint(office_a, wa, wib(3, 23, 30))
    waiting = complaint(office_a, lapor, wib(6, 10), waiting_since=wib(20, 10))
    complaint(office_a, ig, wib(6, 11))
    late = complaint(office_a, ComplaintChannel.APP, wib(31, 23, 30))
    complaint(office_a, ComplaintChannel.EMAIL, wib(1, 0, 30, month=8))
    makassar = complaint(office_m, ComplaintChannel.X, wita(10, 0, 30))
    complaint(office_m, ComplaintChannel.SURVEY, wita(20, 10))

    # Deadlines. Bekasi: first response due 30 June, met late on the 2nd (open past it
    # when July starts); response met within on the 3rd; resolution due on the 8th, met
    # late at 23:30 on the 13th; first response met on the 9th at its due time
    # (within); response due at 00:30 on the 14th, standing still since the complaint
    # waits for the complainant from the 20th; resolution due on the 22nd, standing
    # still before it fell due; an update due on the 28th never met and one due on the
    # 30th met late on 1 August; one due on 2 August and one on 5 August (not yet).
    deadline(june, ack, wib(30, 10, month=6), met=wib(2, 10))
    deadline(june, respond, wib(3, 15), met=wib(3, 14))
    deadline(june, resolve, wib(8, 15), met=wib(13, 23, 30))
    deadline(waiting, ack, wib(9, 10), met=wib(9, 10))
    deadline(waiting, respond, wib(14, 0, 30), paused=True)
    deadline(waiting, resolve, wib(22, 15), paused=True)
    deadline(late, update, wib(28, 10))
    deadline(late, resolve, wib(30, 10), met=wib(1, 9, month=8))
    deadline(late, respond, wib(2, 10, month=8))
    deadline(late, ack, wib(5, 10, month=8))
    # Makassar: first response due at 00:30 WITA on the 13th (23:30 on the 12th in
    # WIB), met late at 00:30 WITA on the 15th; response met within at 23:30 WITA on
    # the 16th.
    deadline(makassar, ack, wita(13, 0, 30), met=wita(15, 0, 30))
    deadline(makassar, respond, wita(20, 10), met=wita(16, 23, 30))

    # Survey answers. Bekasi: all 4 at 00:30 on the 1st, all 3 at 23:30 on the 3rd,
    # U1 2 and the rest 3 on the 6th; all 1 at 23:30 on 30 June and at 00:30 on 1
    # August (outside). Makassar: all 2 at 00:30 WITA on the 2nd (23:30 on the 1st in
    # WIB).
    answer(office_a, wib(1, 0, 30), [4] * 9)
    answer(office_a, wib(3, 23, 30), [3] * 9)
    answer(office_a, wib(6, 10), [2] + [3] * 8)
    answer(office_a, wib(30, 23, 30, month=6), [1] * 9)
    answer(office_a, wib(1, 0, 30, month=8), [1] * 9)
    answer(office_m, wita(2, 0, 30), [2] * 9)


def figures(offices, granularity, language="en"):
    with time_machine.travel(NOW, tick=False), translation.override(language):
        result = charts(offices=offices, period=Period(*JULY, granularity))
    return {office_id: {chart.key: chart for chart in office_charts}
            for office_id, office_charts in result.items()}


def channels(chart) -> dict:
    """The channels' series with a complaint; all ten are there."""
    with translation.override("en"):
        assert [s.name for s in chart.series] == [str(c.label) for c in ComplaintChannel]
    return {s.name: s.values for s in chart.series if any(s.values)}


def test_each_day(month, office_a, office_m):
    result = figures([office_a, office_m], Granularity.DAY)
    a, m = result[office_a.id], result[office_m.id]
    assert list(a) == ["complaints_by_channel", "complaint_deadlines", "ikm", "ikm_elements"]
    assert channels(a["complaints_by_channel"]) == {
        "Instagram": per_day({1: 1, 6: 1}), "WhatsApp": per_day({3: 1}),
        "SP4N-LAPOR!": per_day({6: 1}), "e-Open app": per_day({31: 1})}
    assert channels(m["complaints_by_channel"]) == {
        "X (Twitter)": per_day({10: 1}), "Satisfaction survey": per_day({20: 1})}
    assert {s.name: s.values for s in a["complaint_deadlines"].series} == {
        "Answered within the deadline": per_day({3: 1, 9: 1}),
        "Answered late": per_day({2: 1, 13: 1}),
        "Open past the deadline": carried({0: 1, 2: 0, 8: 1, 13: 0, 14: 1, 20: 0, 28: 1,
                                           30: 2})}
    assert [s.values for s in m["complaint_deadlines"].series] == [
        per_day({16: 1}), per_day({15: 1}), carried({13: 1, 15: 0})]
    # All 4: 100; all 3: 75; U1 2, the rest 3: 26/9 / 4 x 100 = 72.22.
    assert [s.values for s in a["ikm"].series] == [per_day({1: 100.0, 3: 75.0, 6: 72.22},
                                                           None)]
    assert [s.values for s in m["ikm"].series] == [per_day({2: 50.0}, None)]


def test_each_week(month, office_a, office_m):
    # Weeks from Monday: 1-5 July (clipped), 6-12, 13-19, 20-26, 27-31 (clipped).
    result = figures([office_a, office_m], Granularity.WEEK)
    a, m = result[office_a.id], result[office_m.id]
    assert channels(a["complaints_by_channel"]) == {
        "Instagram": [1, 1, 0, 0, 0], "WhatsApp": [1, 0, 0, 0, 0],
        "SP4N-LAPOR!": [0, 1, 0, 0, 0], "e-Open app": [0, 0, 0, 0, 1]}
    assert channels(m["complaints_by_channel"]) == {
        "X (Twitter)": [0, 1, 0, 0, 0], "Satisfaction survey": [0, 0, 0, 1, 0]}
    assert [s.values for s in a["complaint_deadlines"].series] == [
        [1, 1, 0, 0, 0], [1, 0, 1, 0, 0], [0, 1, 1, 0, 2]]
    assert [s.values for s in m["complaint_deadlines"].series] == [
        [0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    # The first week's two answers average 3.5 on every element: 87.50.
    assert [s.values for s in a["ikm"].series] == [[87.5, 72.22, None, None, None]]
    assert [s.values for s in m["ikm"].series] == [[50.0, None, None, None, None]]


def test_the_month(month, office_a, office_m):
    result = figures([office_a, office_m], Granularity.MONTH)
    a, m = result[office_a.id], result[office_m.id]
    assert channels(a["complaints_by_channel"]) == {
        "Instagram": [2], "WhatsApp": [1], "SP4N-LAPOR!": [1], "e-Open app": [1]}
    assert [s.values for s in a["complaint_deadlines"].series] == [[2], [2], [2]]
    assert [s.values for s in m["complaint_deadlines"].series] == [[1], [1], [0]]
    # Three answers: U1 4+3+2 = 9 (3.00), U2..U9 4+3+3 = 10 (3.33); the mean of the
    # averages (3 + 8 x 10/3) / 9 = 89/27, x 25 = 82.41: B.
    assert [s.values for s in a["ikm"].series] == [[82.41]]
    assert ikm(office=office_a, date_from=JULY[0], date_to=JULY[1])[0]["ikm"] == Decimal("82.41")
    elements = a["ikm_elements"]
    assert elements.labels == ["U1 Requirements", "U2 Procedure", "U3 Service time",
                               "U4 Cost", "U5 Service product", "U6 Staff competence",
                               "U7 Staff behaviour", "U8 Complaint handling",
                               "U9 Facilities"]
    assert [s.values for s in elements.series] == [[3.0] + [3.33] * 8]
    assert elements.note == "IKM 82.41, grade B (Good); answers: 3."
    assert [s.values for s in m["ikm_elements"].series] == [[2.0] * 9]
    assert m["ikm_elements"].note == "IKM 50.00, grade D (Poor); answers: 1."


@pytest.mark.parametrize("granularity", list(Granularity))
def test_the_elements_are_over_the_whole_period(month, office_a, granularity):
    chart = figures([office_a], granularity)[office_a.id]["ikm_elements"]
    assert [s.values for s in chart.series] == [[3.0] + [3.33] * 8]


def test_the_notes_speak_the_office_language(month, office_a):
    result = figures([office_a], Granularity.MONTH, "id")[office_a.id]
    assert result["ikm_elements"].note.startswith("IKM 82,41")
    assert result["ikm"].note == ("Mutu pelayanan: A 88,31-100, B 76,61-88,30, "
                                  "C 65,00-76,60, D 25,00-64,99.")


@pytest.mark.parametrize(("answers", "points", "ikm", "grade"), [
    (1, 36, 100.0, "A"), (24, 763, 88.31, "A"), (19, 604, 88.30, "B"),
    (19, 524, 76.61, "B"), (26, 717, 76.60, "C"), (5, 117, 65.00, "C"),
    (38, 889, 64.99, "D"), (1, 9, 25.00, "D")])
def test_each_grade_boundary(office_m, answers, points, ikm, grade):
    """25 x points / (9 x answers), rounded half up to two decimals, is the IKM."""
    answers_adding_up_to(office_m, wita(31, 23, 30), answers, points)
    result = figures([office_m], Granularity.MONTH)[office_m.id]
    assert result["ikm"].series[0].values == [ikm]
    assert result["ikm_elements"].note.startswith(f"IKM {ikm:.2f}, grade {grade} (")


def test_no_answers(office_a):
    result = figures([office_a], Granularity.WEEK)[office_a.id]
    assert result["ikm"].series[0].values == [None] * 5
    assert result["ikm_elements"].series[0].values == [None] * 9
    assert result["ikm_elements"].note == "No answers in this period."


def test_another_offices_records_never_appear(month, office_a, office_b):
    other = complaint(office_b, ComplaintChannel.INSTAGRAM, wib(2, 10))
    deadline(other, DeadlineKind.ACKNOWLEDGE, wib(3, 10))
    deadline(other, DeadlineKind.RESPOND, wib(3, 10), met=wib(4, 10))
    answer(office_b, wib(2, 10), [1] * 9)
    alone = figures([office_a], Granularity.DAY)[office_a.id]
    together = figures([office_a, office_b], Granularity.DAY)[office_a.id]
    assert [[s.values for s in c.series] for c in alone.values()] == [
        [s.values for s in c.series] for c in together.values()]
    assert alone["ikm_elements"].note == together["ikm_elements"].note
    assert [[s.values for s in c.series] for c in figures([office_b], Granularity.MONTH)[
        office_b.id].values()] == [
        [[1] if s == "instagram" else [0] for s in ComplaintChannel.values],
        [[0], [1], [1]], [[25.0]], [[1.0] * 9]]


def queries(offices, days):
    return queries_of(charts, offices, JULY[0], days, now=NOW)


def test_queries_do_not_grow_with_offices_zones_or_days(month, office_a, office_b, office_m):
    office_j = OfficeFactory(code="9471", timezone="Asia/Jayapura")
    # Complaints, deadlines met, falling due, ending overdue, survey answers.
    assert queries([office_a], 7) == 5
    assert queries([office_a, office_b], 7) == 5
    assert queries([office_a, office_m, office_j], 7) == 5
    assert queries([office_a, office_b, office_m, office_j], 60) == 5


def test_registered_for_the_dashboard(office_a):
    assert charts in extensions.registered(extensions.TRENDS)
    assert {chart.key for chart in trends_for(offices=[office_a], period=Period(*JULY))[
        office_a.id]} >= {chart.key for chart in charts(offices=[office_a],
                                                        period=Period(*JULY))[office_a.id]}


def test_the_monthly_reports_complaint_list_judges_deadlines_as_the_chart(month, office_a):
    july = Period(date(2026, 7, 1), date(2026, 7, 31))
    with time_machine.travel(wib(10, 9, month=8), tick=False):
        [table] = report_tables(offices=[office_a], period=july)[office_a.id]
    # The five complaints received in July at the office (not June's, not August's):
    # the LAPOR! one met its first response in time and its paused deadlines are not
    # late; the app's has an update never met and a resolution met late.
    assert [(row[2], row[6]) for row in table.rows] == [
        ("Instagram", "-"), ("WhatsApp", "-"), ("SP4N-LAPOR!", "tepat waktu"),
        ("Instagram", "-"), ("Aplikasi e-Open", "terlambat")]
    assert table.rows[0][1] == "01-07-2026 00:30 WIB"
