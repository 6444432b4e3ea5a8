"""The calling policy and the counter's actions: call next, call out of order with a
reason, recall, start, done with outcome, no-show, transfer, pause."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from queues import selectors
from queues.models import (
    Counter,
    CounterState,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from queues.services.calling import (
    ticket_call,
    ticket_call_next,
    ticket_finish,
    ticket_no_show,
    ticket_recall,
    ticket_start,
    ticket_transfer,
)
from queues.services.counters import counter_open, counter_pause
from queues.services.issuing import ticket_identify
from registry.central.models import CentralJob
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application
from tests.factories import ResidentFactory
from tests.queues.conftest import lanes_of, walk_in

WIB = ZoneInfo("Asia/Jakarta")
FRIDAY = datetime(2022, 7, 1, 8, 0, tzinfo=WIB)


@pytest.fixture
def clock():
    with time_machine.travel(FRIDAY, tick=False) as traveller:
        yield traveller


def at(minutes):
    return FRIDAY + timedelta(minutes=minutes)


def codes_called(counter, operator, times, clock=None, step=0):
    called = []
    for _n in range(times):
        ticket = ticket_call_next(counter=counter, by=operator)
        called.append(ticket.code if ticket else None)
        if ticket is not None:
            ticket_start(counter=counter, by=operator)
            ticket_finish(counter=counter, by=operator, outcome="not_served",
                          reason="resident_left")
        if clock is not None and step:
            clock.shift(timedelta(minutes=step))
    return called


def test_a_counter_serves_its_lanes_in_its_order(office_a, counter_factory, operator, clock):
    counter = counter_factory("BA")
    for lane in "ABAB":
        walk_in(office_a, lane)
    assert codes_called(counter, operator, 5) == ["B-001", "B-002", "A-001", "A-002", None]


def test_within_a_lane_priority_first_then_first_come(office_a, counter_factory, operator,
                                                      clock):
    counter = counter_factory("C")
    walk_in(office_a)
    clock.shift(timedelta(minutes=1))
    walk_in(office_a)
    clock.shift(timedelta(minutes=1))
    walk_in(office_a, priority="disabled")
    clock.shift(timedelta(minutes=1))
    walk_in(office_a, priority="with_baby")
    reasons = []
    for code in ["C-003", "C-004", "C-001", "C-002"]:
        ticket = ticket_call_next(counter=counter, by=operator)
        assert ticket.code == code
        reasons.append(ticket.call_reason)
        ticket_no_show(counter=counter, by=operator)
    assert reasons == ["priority", "priority", "next", "next"]


def test_nobody_waiting_calls_nothing_and_opens_the_counter(office_a, counter_factory,
                                                             operator, clock):
    counter = counter_factory("C")
    assert ticket_call_next(counter=counter, by=operator) is None
    counter.refresh_from_db()
    assert (counter.state, counter.operator) == (CounterState.IDLE, operator)


def test_the_fairness_cap_calls_the_walk_in_who_waited_longest(office_a, counter_factory,
                                                                operator, clock):
    QueueSettings.objects.update_or_create(office=office_a,
                                           defaults={"ahead_cap": 2, "fairness_wait_minutes": 30})
    counter = counter_factory("C")
    walk_in(office_a)                              # C-001 at 08:00
    walk_in(office_a)                              # C-002 at 08:00
    clock.move_to(at(5))
    for _n in range(4):
        walk_in(office_a, priority="elderly")      # C-003..C-006 at 08:05
    clock.move_to(at(35))
    called = []
    for _n in range(6):
        ticket = ticket_call_next(counter=counter, by=operator)
        called.append((ticket.code, ticket.call_reason))
        ticket_no_show(counter=counter, by=operator)
    assert called == [("C-003", "priority"), ("C-004", "priority"), ("C-001", "fairness"),
                      ("C-005", "priority"), ("C-006", "priority"), ("C-002", "next")]
    flags = list(TicketEvent.objects.filter(kind="called").order_by("id").values_list(
        "ahead_of_turn", flat=True))
    assert flags == [True, True, False, True, True, False]


def test_no_fairness_call_while_walk_ins_have_not_waited_long(office_a, counter_factory,
                                                               operator, clock):
    QueueSettings.objects.update_or_create(office=office_a,
                                           defaults={"ahead_cap": 2, "fairness_wait_minutes": 30})
    counter = counter_factory("C")
    walk_in(office_a)
    for _n in range(3):
        walk_in(office_a, priority="pregnant")
    clock.move_to(at(20))
    assert codes_called(counter, operator, 4) == ["C-002", "C-003", "C-004", "C-001"]


def test_one_counter_calls_one_ticket_at_a_time(office_a, counter_factory, operator, clock):
    counter = counter_factory("C")
    walk_in(office_a)
    walk_in(office_a)
    first = ticket_call_next(counter=counter, by=operator)
    with pytest.raises(Conflict) as busy:
        ticket_call_next(counter=counter, by=operator)
    assert (busy.value.code, busy.value.extra) == ("counter_busy", {"ticket": "C-001"})
    assert list(Ticket.objects.order_by("code").values_list("code", "status")) == [
        ("C-001", "called"), ("C-002", "waiting")]
    assert first.counter == counter


def test_recall_start_and_finish_served_moves_the_case_on(office_a, counter_factory, operator,
                                                          clock, resident_a):
    counter = counter_factory("C")
    ticket = walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    clock.shift(timedelta(minutes=1))
    ticket_recall(counter=counter, by=operator, ticket_id=ticket.pk)
    clock.shift(timedelta(minutes=1))
    ticket_start(counter=counter, by=operator, ticket_id=ticket.pk)
    with pytest.raises(DomainError) as anonymous:
        ticket_finish(counter=counter, by=operator, outcome="served")
    assert anonymous.value.code == "identify_first"
    ticket_identify(counter=counter, resident=resident_a, by=operator)
    clock.shift(timedelta(minutes=12))
    ticket_finish(counter=counter, by=operator, outcome="served", ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.call_count, ticket.closed_at) == (
        "done", "served", 2, at(14))
    application = Application.objects.get(pk=ticket.application_id)
    assert (application.status, application.channel, application.resident) == (
        "in_progress", "walk_in", resident_a)
    assert sorted(CentralJob.objects.filter(application=application)
                  .values_list("kind", flat=True)) == ["card_print", "data_change"]
    events = list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list(
        "kind", "wait_seconds", "service_seconds", "busy_seconds"))
    assert events == [("issued", None, None, None), ("called", 0, None, None),
                      ("recalled", None, None, None), ("started", None, None, None),
                      ("identified", None, None, None), ("finished", None, 720, 840)]


def test_not_served_needs_a_reason_and_other_needs_a_note(office_a, counter_factory, operator,
                                                          clock):
    counter = counter_factory("C")
    ticket = walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    with pytest.raises(Conflict) as not_started:
        ticket_finish(counter=counter, by=operator, outcome="not_served",
                      reason="missing_documents")
    assert not_started.value.code == "ticket_not_started"
    ticket_start(counter=counter, by=operator)
    with pytest.raises(DomainError) as no_reason:
        ticket_finish(counter=counter, by=operator, outcome="not_served")
    with pytest.raises(DomainError) as no_note:
        ticket_finish(counter=counter, by=operator, outcome="not_served",
                      reason="other")
    with pytest.raises(DomainError) as bad_outcome:
        ticket_finish(counter=counter, by=operator, outcome="referred")
    assert (no_reason.value.code, no_note.value.code, bad_outcome.value.code) == (
        "reason_required", "note_required", "outcome_invalid")
    assert Ticket.objects.get(pk=ticket.pk).status == "serving"
    ticket_finish(counter=counter, by=operator, outcome="not_served",
                  reason="missing_documents", note="KK tertinggal")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.outcome_reason, ticket.outcome_note) == (
        "done", "not_served", "missing_documents", "KK tertinggal")


def test_a_no_show_can_come_back_only_out_of_order(office_a, counter_factory, operator, clock):
    counter = counter_factory("C")
    missed = walk_in(office_a)
    walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    clock.shift(timedelta(minutes=3))
    ticket_no_show(counter=counter, by=operator)
    assert TicketEvent.objects.get(kind="no_show").busy_seconds == 180
    assert ticket_call_next(counter=counter, by=operator).code == "C-002"
    ticket_start(counter=counter, by=operator)
    ticket_finish(counter=counter, by=operator, outcome="not_served",
                  reason="wrong_service")
    assert ticket_call_next(counter=counter, by=operator) is None
    with pytest.raises(DomainError) as no_reason:
        ticket_call(counter=counter, ticket_id=missed.pk, reason="", by=operator)
    assert no_reason.value.code == "reason_required"
    ticket = ticket_call(counter=counter, ticket_id=missed.pk, reason="missed_call",
                         by=operator)
    assert (ticket.status, ticket.call_reason, ticket.call_count) == ("called", "missed_call", 2)


def test_out_of_order_calls_are_shown_on_the_board_with_their_reason(
        office_a, counter_factory, operator, clock):
    counter = counter_factory("C", number=2)
    walk_in(office_a)
    walk_in(office_a)
    third = walk_in(office_a)
    ticket_call(counter=counter, ticket_id=third.pk, reason="urgent", by=operator)
    event = TicketEvent.objects.get(kind="called")
    assert (event.reason, event.ahead_of_turn) == ("urgent", True)
    data = selectors.board(office=office_a)
    lane_c = next(lane for lane in data["lanes"] if lane["lane"] == "C")
    assert lane_c["now_serving"][0]["ticket"] == "C-003"
    assert lane_c["now_serving"][0]["reason"] == "urgent"
    assert lane_c["next"] == ["C-001", "C-002"]
    call = data["recent_calls"][0]
    assert (call["ticket"], call["counter"], call["lane"], call["reason"], call["out_of_order"],
            call["reason_text"], call["text"]) == (
        "C-003", "Loket 2", "C", "urgent", True, "Di luar urutan: Keperluan mendesak",
        "C-003 ke Loket 2 - Perubahan biodata")


def test_out_of_order_refusals_change_nothing(office_a, office_b, counter_factory, operator,
                                              clock):
    counter = counter_factory("C")
    lane_b = walk_in(office_a, "B")
    other_office = walk_in(office_b)
    with pytest.raises(NotFound):
        ticket_call(counter=counter, ticket_id=other_office.pk, reason="urgent",
                    by=operator)
    with pytest.raises(DomainError) as not_served:
        ticket_call(counter=counter, ticket_id=lane_b.pk, reason="urgent", by=operator)
    assert not_served.value.code == "lane_not_served"
    with pytest.raises(DomainError):
        ticket_call(counter=counter, ticket_id=lane_b.pk, reason="next", by=operator)
    assert set(Ticket.objects.values_list("status", flat=True)) == {"waiting"}
    assert TicketEvent.objects.filter(kind="called").count() == 0


def test_transfer_keeps_the_code_and_the_original_issue_time(office_a, counter_factory,
                                                             operator, clock):
    biodata = counter_factory("C", number=1)
    biometric = counter_factory("B", number=2)
    first = walk_in(office_a, "C")                    # C-001 at 08:00
    clock.move_to(at(10))
    walk_in(office_a, "B")                            # B-001 at 08:10
    ticket_call_next(counter=biodata, by=operator)
    ticket_start(counter=biodata, by=operator)
    clock.move_to(at(15))
    ticket_transfer(counter=biodata, to_lane=lanes_of(office_a)["B"], by=operator,
                    note="Perlu rekam ulang sidik jari")
    first.refresh_from_db()
    assert (first.code, first.lane.letter, first.status, first.counter, first.order_at,
            first.transferred_from.letter) == ("C-001", "B", "waiting", None, at(0), "C")
    called = ticket_call_next(counter=biometric, by=operator)
    assert (called.code, called.call_reason) == ("C-001", "transferred")
    transfer = TicketEvent.objects.get(kind="transferred")
    assert (transfer.lane.letter, transfer.to_lane.letter, transfer.outcome,
            transfer.service_seconds, transfer.busy_seconds, transfer.note) == (
        "C", "B", "referred", 300, 300, "Perlu rekam ulang sidik jari")
    call = selectors.board(office=office_a)["recent_calls"][0]
    assert (call["text"], call["reason_text"]) == ("C-001 ke Loket 2 - Cek biometrik",
                                                   "Pindahan dari lajur C")


def test_transfer_refusals(office_a, office_b, counter_factory, operator, clock):
    counter = counter_factory("C")
    walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    with pytest.raises(NotFound):
        ticket_transfer(counter=counter, to_lane=lanes_of(office_b)["B"], by=operator)
    with pytest.raises(DomainError) as same:
        ticket_transfer(counter=counter, to_lane=lanes_of(office_a)["C"], by=operator)
    assert same.value.code == "same_lane"
    assert Ticket.objects.get().status == "called"


def test_an_action_on_a_ticket_the_screen_did_not_show_is_refused(office_a, counter_factory,
                                                                  operator, clock):
    counter = counter_factory("C")
    first = walk_in(office_a)
    walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    ticket_no_show(counter=counter, by=operator, ticket_id=first.pk)
    second = ticket_call_next(counter=counter, by=operator)
    # A second click on the old page's "No-show" for C-001 must not hit C-002.
    with pytest.raises(Conflict) as stale:
        ticket_no_show(counter=counter, by=operator, ticket_id=first.pk)
    assert stale.value.code == "no_current_ticket"
    assert Ticket.objects.get(pk=second.pk).status == "called"


def test_pause_waits_for_the_ticket_and_closes_the_counter_on_the_board(
        office_a, counter_factory, operator, clock):
    counter = counter_factory("C")
    walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    with pytest.raises(Conflict):
        counter_pause(counter=counter, by=operator, reason="prayer")
    ticket_no_show(counter=counter, by=operator)
    counter_pause(counter=counter, by=operator, reason="prayer")
    counter.refresh_from_db()
    assert (counter.state, counter.pause_reason.code) == ("paused", "prayer")
    other = counter_factory("C")
    counter_open(counter=other, by=operator)
    lane_c = next(x for x in selectors.board(office=office_a)["lanes"] if x["lane"] == "C")
    assert lane_c["counters_open"] == 1
    counter_open(counter=counter, by=operator)
    assert Counter.objects.get(pk=counter.pk).state == "idle"


def test_a_counter_never_calls_another_offices_tickets(office_a, office_b, counter_factory,
                                                        operator, operator_b, clock):
    counter_b = counter_factory("C", office=office_b)
    walk_in(office_a)
    assert ticket_call_next(counter=counter_b, by=operator_b) is None
    assert Ticket.objects.get().status == TicketStatus.WAITING


def test_identify_reuses_the_residents_open_case(office_a, counter_factory, operator, clock,
                                                 application_a):
    counter = counter_factory("C")
    walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)
    ticket = ticket_identify(counter=counter, resident=application_a.resident,
                             by=operator)
    assert ticket.application == application_a
    stranger = ResidentFactory(domicile_office=office_a)
    with pytest.raises(Conflict):
        ticket_identify(counter=counter, resident=stranger, by=operator)
    assert Ticket.objects.get().resident == application_a.resident


def test_a_change_of_lanes_or_settings_applies_to_the_next_call(office_a, counter_factory,
                                                                operator, clock):
    """Call next reads the counter's lanes and the office's settings in its own
    statements (no copy kept by a worker), so what staff change in the admin applies
    to the very next call."""
    from queues.services.counters import counter_set_lanes

    counter = counter_factory("BA")
    lanes = lanes_of(office_a)
    walk_in(office_a, "A")                              # A-001 at 08:00
    walk_in(office_a, "B")                              # B-001 at 08:00
    counter_set_lanes(counter=counter, lanes=[lanes["A"], lanes["B"]])
    assert codes_called(counter, operator, 1) == ["A-001"]
    settings = QueueSettings.objects.get(office=office_a)
    settings.ahead_cap, settings.fairness_wait_minutes = 1, 30
    settings.save()
    clock.move_to(at(40))
    walk_in(office_a, "B", priority="elderly")          # B-002 at 08:40
    walk_in(office_a, "B", priority="elderly")          # B-003 at 08:40
    # Cap 1: one call ahead of turn, then the walk-in who waited 40 minutes.
    called = []
    for _n in range(3):
        ticket = ticket_call_next(counter=counter, by=operator)
        called.append((ticket.code, ticket.call_reason))
        ticket_no_show(counter=counter, by=operator)
    assert called == [("B-002", "priority"), ("B-001", "fairness"), ("B-003", "priority")]


def test_the_fairness_cap_counts_each_lane_apart(office_a, counter_factory, operator, clock):
    """Calls ahead of turn in lane C do not make lane B's next call a fairness call,
    and a lane at its cap with nobody out of turn left calls its first ticket as
    "next"."""
    QueueSettings.objects.update_or_create(office=office_a,
                                           defaults={"ahead_cap": 2, "fairness_wait_minutes": 30})
    lane_c, lane_b = counter_factory("C"), counter_factory("B")
    walk_in(office_a, "B")                             # B-001 at 08:00
    walk_in(office_a, "C")                             # C-001 at 08:00
    clock.move_to(at(5))
    walk_in(office_a, "C", priority="elderly")         # C-002
    walk_in(office_a, "C", priority="elderly")         # C-003
    walk_in(office_a, "B", priority="elderly")         # B-002
    clock.move_to(at(35))
    called = []
    for counter in (lane_c, lane_c, lane_b, lane_c, lane_b, lane_c):
        ticket = ticket_call_next(counter=counter, by=operator)
        called.append(ticket and (ticket.code, ticket.call_reason))
        if ticket is not None:
            ticket_no_show(counter=counter, by=operator)
    assert called == [("C-002", "priority"), ("C-003", "priority"), ("B-002", "priority"),
                      ("C-001", "next"), ("B-001", "next"), None]


def test_a_counter_left_calling_by_the_sweep_calls_again(office_a, counter_factory, operator,
                                                         clock):
    """The counter's row still says "calling" but its ticket was closed (the end-of-day
    sweep does not touch the counter): the idle check looks again and lets it call."""
    counter = counter_factory("C")
    walk_in(office_a)
    walk_in(office_a)
    first = ticket_call_next(counter=counter, by=operator)
    Ticket.objects.filter(pk=first.pk).update(status=TicketStatus.NO_SHOW, closed_at=at(1))
    assert Counter.objects.get(pk=counter.pk).state == CounterState.CALLING
    assert ticket_call_next(counter=counter, by=operator).code == "C-002"


def test_call_next_reads_and_writes_in_few_statements(office_a, counter_factory, operator,
                                                      clock):
    """Lock the counter (with settings and its current ticket), claim and mark the
    ticket, its history, the counter's state and history, the idle alert; the
    nearly-your-turn query only when a resident with an account waits."""
    counter = counter_factory("C")
    for _n in range(3):
        walk_in(office_a)
    ticket_call_next(counter=counter, by=operator)      # opens the counter
    ticket_no_show(counter=counter, by=operator)
    with CaptureQueriesContext(connection) as captured:
        ticket = ticket_call_next(counter=counter, by=operator)
    assert ticket.code == "C-002"
    statements = [q["sql"] for q in captured.captured_queries
                  if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]
    assert [sql.split()[0] for sql in statements] == [
        "SELECT", "WITH", "INSERT", "UPDATE", "INSERT", "UPDATE"], statements
