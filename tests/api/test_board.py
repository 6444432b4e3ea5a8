"""GET /api/v1/offices/{code}/board/: the display board's data, public, over real HTTP."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from queues.models import TicketEvent, TicketEventKind
from queues.services.calling import (
    ticket_call_next,
    ticket_no_show,
    ticket_recall,
    ticket_start,
)
from queues.services.counters import counter_create
from registry.central.models import CentralOutage
from registry.models import Role
from tests.queues.conftest import lanes_of, walk_in

# Walk-in tickets are issued in office hours (tests/conftest.py: office_hours).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("office_hours")]


@pytest.fixture
def kota_morning(office_a, office_b, make_staff):
    """Kota Bekasi: Loket 2 serves B then A, Loket 5 serves C; B-001 called at Loket 2,
    C-001 (elderly) being served at Loket 5, B-002, C-002 and A-001 waiting. Kabupaten
    Bekasi has its own C-001 waiting."""
    operator = make_staff(office_a, Role.COUNTER_OPERATOR)
    lanes = lanes_of(office_a)
    loket2 = counter_create(office=office_a, number=2, lanes=[lanes["B"], lanes["A"]])
    loket5 = counter_create(office=office_a, number=5, lanes=[lanes["C"]])
    walk_in(office_a, "B")
    walk_in(office_a, "C", priority="elderly")
    walk_in(office_a, "B")
    walk_in(office_a, "C")
    walk_in(office_a, "A")
    walk_in(office_b, "C")
    ticket_call_next(counter=loket2, by=operator)
    ticket_call_next(counter=loket5, by=operator)
    ticket_start(counter=loket5, by=operator)
    return {"operator": operator, "loket2": loket2, "loket5": loket5}


def test_the_board_says_who_is_called_where_and_why(http, kota_morning):
    response = http.get("/api/v1/offices/3275/board/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert (body["office"], body["link_status"], body["notice"]) == (
        {"code": "3275", "name": "Disdukcapil Kota Bekasi"}, "up", None)
    lanes = {lane["lane"]: lane for lane in body["lanes"]}
    assert [lane["lane"] for lane in body["lanes"]] == ["A", "B", "C"]
    assert [(x["ticket"], x["counter"], x["status"], x["reason"], x["reason_text"])
            for x in lanes["B"]["now_serving"]] == [
        ("B-001", "Loket 2", "called", "next", "Nomor berikutnya")]
    assert [(x["ticket"], x["counter"], x["status"], x["reason_text"])
            for x in lanes["C"]["now_serving"]] == [
        ("C-001", "Loket 5", "serving", "Prioritas: Lansia")]
    assert [(lane["name"], lane["next"], lane["waiting"], lane["counters_open"])
            for lane in body["lanes"]] == [
        ("Layanan KK dan umum", ["A-001"], 1, 1), ("Cek biometrik", ["B-002"], 1, 1),
        ("Perubahan biodata", ["C-002"], 1, 1)]
    assert all(isinstance(lane["estimated_wait_minutes"], int) for lane in body["lanes"])
    assert [(c["text"], c["lane"], c["reason_text"]) for c in body["recent_calls"]] == [
        ("C-001 ke Loket 5 - Perubahan biodata", "C", "Prioritas: Lansia"),
        ("B-001 ke Loket 2 - Cek biometrik", "B", "Nomor berikutnya"),
    ]
    assert body["recent_calls"][0]["called_at"].endswith("+07:00")
    calls = TicketEvent.objects.filter(office__code="3275", kind=TicketEventKind.CALLED)
    assert [(c["id"], c["counter_number"], c["speech"], c["speech_clips"])
            for c in body["recent_calls"]] == [
        (calls.get(ticket__code="C-001").id, 5,
         "Nomor antrean C nol nol satu, silakan ke loket lima",
         ["chime", "ticket_number", "letter_c", "nol", "nol", "satu", "go_to_counter",
          "lima"]),
        (calls.get(ticket__code="B-001").id, 2,
         "Nomor antrean B nol nol satu, silakan ke loket dua",
         ["chime", "ticket_number", "letter_b", "nol", "nol", "satu", "go_to_counter",
          "dua"]),
    ]


def test_a_recall_is_a_call_of_its_own_to_announce_again(http, kota_morning, office_a):
    first = http.get("/api/v1/offices/3275/board/").json()["recent_calls"]
    ticket_recall(counter=kota_morning["loket2"], by=kota_morning["operator"])
    calls = http.get("/api/v1/offices/3275/board/").json()["recent_calls"]
    recall = TicketEvent.objects.get(office=office_a, kind=TicketEventKind.RECALLED)
    assert [(c["id"], c["ticket"], c["reason"], c["speech"]) for c in calls] == [
        (recall.id, "B-001", "recall", "Nomor antrean B nol nol satu, silakan ke loket dua"),
        *[(c["id"], c["ticket"], c["reason"], c["speech"]) for c in first]]
    assert recall.id not in {c["id"] for c in first}


def test_each_office_sees_its_own_board(http, kota_morning):
    body = http.get("/api/v1/offices/3216/board/").json()
    assert body["office"]["code"] == "3216"
    assert [(lane["lane"], lane["now_serving"], lane["next"]) for lane in body["lanes"]] == [
        ("A", [], []), ("B", [], []), ("C", [], ["C-001"])]
    assert body["recent_calls"] == []


def test_a_call_shows_at_once_despite_the_cache(http, kota_morning):
    assert http.get("/api/v1/offices/3275/board/").json()["lanes"][0]["now_serving"] == []
    ticket_no_show(counter=kota_morning["loket2"], by=kota_morning["operator"])
    ticket_call_next(counter=kota_morning["loket2"], by=kota_morning["operator"])
    body = http.get("/api/v1/offices/3275/board/").json()
    assert body["recent_calls"][0]["text"] == "B-002 ke Loket 2 - Cek biometrik"


def test_the_board_in_english_on_request(http, kota_morning):
    body = http.get("/api/v1/offices/3275/board/", headers={"Accept-Language": "en"}).json()
    assert body["recent_calls"][1]["text"] == "B-001 to Loket 2 - Cek biometrik"
    assert body["recent_calls"][0]["reason_text"] == "Priority: Elderly"
    # The hall hears Indonesian whatever language the screen shows.
    assert body["recent_calls"][0]["speech"] == (
        "Nomor antrean C nol nol satu, silakan ke loket lima")


def test_the_board_shows_the_central_link_notice(http, kota_morning):
    CentralOutage.objects.create(office_id=kota_morning["loket2"].office_id,
                                 started_at=timezone.now(), detection="staff",
                                 message="Jaringan ke pusat terputus, perkiraan pulih 13.00.")
    cache.clear()
    body = http.get("/api/v1/offices/3275/board/").json()
    assert body["link_status"] == "down"
    assert body["notice"]["message"] == "Jaringan ke pusat terputus, perkiraan pulih 13.00."


def test_unknown_office_is_404_in_the_contract_shape(http, office_a):
    response = http.get("/api/v1/offices/9999/board/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Tidak ada kantor dengan kode wilayah 9999.",
                               "code": "office_not_found"}


def test_a_code_of_any_characters_is_404_not_a_cache_error(http, office_a):
    """The code is no cache key before it names an office: control characters and
    spaces, which cache backends refuse, once answered 500 (the schema fuzzer found it)."""
    for code in ("%0C%C3%84", "32%2075", "3" * 300):
        response = http.get(f"/api/v1/offices/{code}/board/", headers={"Accept-Language": "en"})
        assert (response.status_code, response.json()["code"]) == (404, "office_not_found")


def test_the_board_costs_a_bounded_number_of_queries(client, kota_morning, settings,
                                                     django_assert_max_num_queries):
    # Spread over two lanes: one counter's lane takes no number whose wait would pass
    # closing (queues.services.walk_in_limits), about twenty from 09:00.
    for n in range(20):
        walk_in(kota_morning["loket2"].office, "BC"[n % 2])
    cache.clear()
    # Cold: the office's history (service times, show rate, hours, and the recent days'
    # walk-ins and counter pauses) is read too, and in office hours the last hour's
    # arrivals.
    with django_assert_max_num_queries(17):
        response = client.get("/api/v1/offices/3275/board/")
    assert response.status_code == 200
    with django_assert_max_num_queries(0):
        assert client.get("/api/v1/offices/3275/board/").status_code == 200
    # Each change drops the board's answer; the history stays cached for a minute.
    settings.QUEUES_BOARD_CACHE_SECONDS = 0
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/offices/3275/board/").status_code == 200


def test_a_change_in_one_office_drops_only_that_offices_board(http, kota_morning, office_b,
                                                              make_staff, settings):
    """Each office's board is cached under keys of its own, in each language; a call
    at Kota Bekasi drops Kota Bekasi's answers and leaves Kabupaten Bekasi's cached
    (with 514 offices polling, one office's change must not recompute all the boards)."""
    from queues.services.board import BOARD_CACHE_KEY

    settings.QUEUES_BOARD_CACHE_SECONDS = 600  # nothing expires during the test
    cache.clear()
    for code in ("3275", "3216"):
        for language in ("id", "en"):
            assert http.get(f"/api/v1/offices/{code}/board/",
                            headers={"Accept-Language": language}).status_code == 200
    keys = {code: [BOARD_CACHE_KEY.format(code=code, language=language)
                   for language, _name in settings.LANGUAGES] for code in ("3275", "3216")}
    assert all(cache.get(key) is not None for key in keys["3275"] + keys["3216"])
    ticket_no_show(counter=kota_morning["loket2"], by=kota_morning["operator"])
    assert [cache.get(key) for key in keys["3275"]] == [None, None]
    assert all(cache.get(key) is not None for key in keys["3216"])
    # And a change at Kabupaten Bekasi drops only its own.
    http.get("/api/v1/offices/3275/board/")
    operator_b = make_staff(office_b, Role.COUNTER_OPERATOR, username="operator.b")
    loket1 = counter_create(office=office_b, number=1, lanes=[lanes_of(office_b)["C"]])
    assert ticket_call_next(counter=loket1, by=operator_b).code == "C-001"
    assert [cache.get(key) for key in keys["3216"]] == [None, None]
    assert cache.get(keys["3275"][0]) is not None


def test_offices_boards_expire_at_different_moments_within_half_again():
    """Filled together when the screens come on, 514 offices' boards must not all be
    recomputed in the same second when they expire."""
    from queues.api.views import board_cache_seconds

    lives = [board_cache_seconds(str(3000 + n), 10) for n in range(514)]
    assert all(10 <= life < 15 for life in lives)
    assert len(set(lives)) > 300  # of 514, in steps of 5 ms
    assert board_cache_seconds("3275", 10) == board_cache_seconds("3275", 10)


def test_an_outage_declared_changed_and_ended_drops_the_offices_board(http, office_a, office_b,
                                                                     settings):
    """The board shows the central link's notice: each change of it is on the next poll,
    however long the board is cached, and the other office's board stays cached."""
    from queues.services.board import BOARD_CACHE_KEY
    from registry.central.services.link import (
        central_outage_declare,
        central_outage_end,
        central_outage_update,
    )

    settings.QUEUES_BOARD_CACHE_SECONDS = 600
    cache.clear()

    def notice():
        return http.get("/api/v1/offices/3275/board/").json()["notice"]

    assert notice() is None
    assert http.get("/api/v1/offices/3216/board/").status_code == 200
    other = BOARD_CACHE_KEY.format(code="3216", language="id")
    outage = central_outage_declare(office=office_a, cause="Kabel putus",
                                    message="Pencetakan tertunda.")
    assert "Pencetakan tertunda." in str(notice())
    central_outage_update(outage=outage, message="Pulih pukul 13.00.", expected_back=None)
    assert "Pulih pukul 13.00." in str(notice())
    central_outage_end(outage=outage)
    assert notice() is None
    assert cache.get(other) is not None
