"""The chronology's sources: one small collector per kind of record.

Each collector reads one app's records about the complaint's case and returns facts:
a moment, a sentence in plain Indonesian (the chronology is written in the office's
language whatever the reader's), and the records the sentence rests on. Collectors
also say which case-event kinds they state, so that the case timeline, read last,
adds only what no collector covered: a source whose collector does not exist yet is
still told, in the words of its own timeline.

Other apps' records are read through the selectors those apps expose; nothing here
writes.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import formats
from django.utils.translation import gettext as _

from complaints.models import ComplaintChannel
from queues.selectors import calls_of_day, tickets_of_application
from registry.appointments.models import BookingChannel, BookingStatus
from registry.appointments.selectors import bookings_of_application
from registry.calendar import OfficeCalendar, office_zone
from registry.central.models import AttemptOutcome as CentralAttemptOutcome
from registry.central.models import CentralJobKind, CentralJobStatus
from registry.central.selectors import (
    card_of_application,
    central_attempts_of_jobs,
    central_jobs_of_application,
    outages_overlapping,
)
from registry.deliveries.models import AttemptOutcome as DeliveryAttemptOutcome
from registry.deliveries.models import HandoverMethod, Relation
from registry.deliveries.selectors import (
    deliveries_of_application,
    delivery_attempts_of_deliveries,
    handover_of_application,
)
from registry.models import Application, ApplicationStatus, CaseEvent, Channel, Office, Sex


@dataclass(frozen=True)
class Source:
    """A record a point of the chronology rests on. `label` names the record without
    naming any person, so it can be printed in the public statement."""

    type: str
    id: int
    label: str

    def as_dict(self) -> dict:
        return {"type": self.type, "id": self.id, "label": self.label}


@dataclass
class Fact:
    at: datetime
    text: str
    sources: list[Source]
    # Among facts at the same moment, the lower comes first.
    order: int = 50


@dataclass
class CaseContext:
    """What the collectors share: the case, its office and zone, its timeline, the
    periods the resident was at the office or waited on the central server (read by
    the outage collector), and the names of other people met in the records (kept out
    of anything published)."""

    office: Office
    application: Application | None
    complaint: object
    events: list[CaseEvent] = field(default_factory=list)
    presence: list[tuple[datetime, datetime]] = field(default_factory=list)
    waiting: list[tuple[datetime, datetime]] = field(default_factory=list)
    covered_kinds: set[str] = field(default_factory=set)
    covered_event_ids: set[int] = field(default_factory=set)
    private_terms: set[str] = field(default_factory=set)

    @property
    def zone(self):
        return office_zone(self.office)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


# --- Wording -----------------------------------------------------------------------


def day_text(moment: datetime | date, ctx: CaseContext) -> str:
    """Jumat, 1 Juli 2022 (in the active language, Indonesian for the chronology)."""
    if isinstance(moment, datetime):
        moment = ctx.local(moment).date()
    return formats.date_format(moment, "l, j F Y")


def time_text(moment: datetime, ctx: CaseContext) -> str:
    """09.00 WIB: the way Indonesian offices write a time."""
    local = ctx.local(moment)
    return f"{local:%H.%M} {local.tzname() or ''}".strip()


def when_text(moment: datetime, ctx: CaseContext) -> str:
    return _("%(day)s at %(time)s") % {"day": day_text(moment, ctx),
                                       "time": time_text(moment, ctx)}


def span_text(start: datetime, end: datetime | None, ctx: CaseContext) -> str:
    """From 09.00 to 13.00 WIB on one day; with the days when it spans several."""
    if end is None:
        return _("from %(start)s, not yet over") % {"start": when_text(start, ctx)}
    if ctx.local(start).date() == ctx.local(end).date():
        return _("on %(day)s from %(start)s to %(end)s") % {
            "day": day_text(start, ctx), "start": f"{ctx.local(start):%H.%M}",
            "end": time_text(end, ctx)}
    return _("from %(start)s to %(end)s") % {"start": when_text(start, ctx),
                                             "end": when_text(end, ctx)}


def closed_days_text(first: date, last: date, ctx: CaseContext) -> str:
    """The days between `first` and `last` (inclusive) the office was closed, with why;
    empty when it was open throughout."""
    if last < first:
        return ""
    calendar = OfficeCalendar(ctx.office, first, last)
    parts = []
    day = first
    while day <= last:
        reason = calendar.closed_reason(day)
        if reason is not None:
            why = _("weekend") if reason == "weekend" else reason
            parts.append(_("%(day)s (%(why)s)") % {"day": day_text(day, ctx), "why": why})
        day += timedelta(days=1)
    if len(parts) > 1:
        return _("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]),
                                             "last": parts[-1]}
    return "".join(parts)


# --- The complaint itself ----------------------------------------------------------


def collect_complaint(ctx: CaseContext) -> list[Fact]:
    complaint = ctx.complaint
    if complaint is None:
        return []
    channel = complaint.get_channel_display()
    moment = complaint.posted_at or complaint.received_at
    if complaint.channel == ComplaintChannel.IN_PERSON:
        text = _("On %(when)s the resident complained in person at the office.")
    elif complaint.channel == ComplaintChannel.APP:
        text = _("On %(when)s the resident filed a complaint in the e-Open app.")
    else:
        text = _("On %(when)s the resident posted a complaint on %(channel)s.")
    text = text % {"when": when_text(moment, ctx), "channel": channel}
    if complaint.posted_at and complaint.received_at - complaint.posted_at > timedelta(
            minutes=1):
        text += " " + _("The office logged it on %(when)s.") % {
            "when": when_text(complaint.received_at, ctx)}
    return [Fact(moment, text, [Source("complaint", complaint.id, complaint.reference)], 90)]


# --- The case timeline (registry.CaseEvent), read last --------------------------------

# Kinds never told in a chronology: notices to the resident repeat facts already told,
# and staff notes are internal.
SKIPPED_KINDS = {"notification.sent", "application.note"}
SKIPPED_PREFIXES = ("complaint.",)


def collect_case_events(ctx: CaseContext) -> list[Fact]:
    facts = []
    for event in ctx.events:
        if event.id in ctx.covered_event_ids or event.kind in SKIPPED_KINDS:
            continue
        if event.kind.startswith(SKIPPED_PREFIXES):
            continue
        if any(event.kind == kind or (kind.endswith(".") and event.kind.startswith(kind))
               for kind in ctx.covered_kinds):
            continue
        message = str(event.message)
        text = _("On %(when)s: %(message)s") % {"when": when_text(event.at, ctx),
                                                 "message": message}
        facts.append(Fact(event.at, text, [Source("case_event", event.id,
                                                  _("case timeline #%(id)s") % {
                                                      "id": event.id})], 40))
    return facts


def collect_case_opened(ctx: CaseContext) -> list[Fact]:
    """The case file's opening, told with its service."""
    application = ctx.application
    ctx.covered_kinds.add("application.opened")
    # Status changes repeat what the other points tell; a lapse or a cancellation is
    # a fact of its own and stays.
    ctx.covered_event_ids.update(
        event.id for event in ctx.events if event.kind == "application.status"
        and event.params.get("new") not in (ApplicationStatus.LAPSED,
                                            ApplicationStatus.CANCELLED))
    via = {Channel.APP: _("through the e-Open app"),
           Channel.ASSISTED: _("with the help of staff"),
           Channel.WALK_IN: _("at the office")}.get(application.channel, application.channel)
    # The service it was opened for (a signature change may have become a lost card
    # since: the services change is a point of its own).
    opened = next((event for event in ctx.events if event.kind == "application.opened"),
                  None)
    service = (opened.params.get("service") if opened is not None else None) or \
        application.service.name
    text = _("On %(when)s case %(number)s (%(service)s) was opened %(via)s.") % {
        "when": when_text(application.created_at, ctx), "number": application.number,
        "service": service, "via": via}
    return [Fact(application.created_at, text,
                 [Source("application", application.id, application.number)], 10)]


# --- The central link: transmissions, outages, printing (registry.central) ----------


def collect_central(ctx: CaseContext) -> list[Fact]:
    ctx.covered_kinds.update({"central.", "card."})
    facts = []
    jobs = list(central_jobs_of_application(application=ctx.application))
    attempts = {}
    for attempt in central_attempts_of_jobs(jobs=jobs):
        attempts.setdefault(attempt.job_id, []).append(attempt)
    for job in jobs:
        label = _("central job %(kind)s #%(id)s") % {"kind": job.get_kind_display(),
                                                      "id": job.id}
        source = Source("central_job", job.id, label)
        is_print = job.kind == CentralJobKind.CARD_PRINT
        if not is_print:
            facts.append(Fact(job.created_at, _(
                "On %(when)s, after the counter, the data change was queued for the "
                "ministry's central server.") % {"when": when_text(job.created_at, ctx)},
                [source], 60))
        failed = [a for a in attempts.get(job.id, [])
                  if a.outcome == CentralAttemptOutcome.LINK_DOWN]
        if len(failed) == 1 and not is_print:
            facts.append(Fact(failed[0].started_at, _(
                "On %(when)s sending the data to the central server failed because the link "
                "was down; the data waited and was sent again automatically.") % {
                "when": when_text(failed[0].started_at, ctx)}, [source], 61))
        elif failed and not is_print:
            facts.append(Fact(failed[0].started_at, _(
                "From %(start)s to %(end)s, %(count)s sending attempts failed because the "
                "link to the central server was down; the data waited and was sent again "
                "automatically.") % {"start": when_text(failed[0].started_at, ctx),
                                     "end": when_text(failed[-1].started_at, ctx),
                                     "count": len(failed)}, [source], 61))
        end = job.done_at or None
        ctx.waiting.append((job.created_at, end or job.created_at + timedelta(days=1)))
        if job.status == CentralJobStatus.DONE and not is_print:
            facts.append(Fact(job.done_at, _(
                "On %(when)s the central server accepted the data change.") % {
                "when": when_text(job.done_at, ctx)}, [source], 62))
        if job.status == CentralJobStatus.REJECTED:
            facts.append(Fact(job.created_at, _(
                "The central server refused the %(kind)s; staff had to check the case.") % {
                "kind": job.get_kind_display().lower()}, [source], 63))
    card = card_of_application(application=ctx.application)
    if card is not None and card.printed_at is not None:
        facts.append(Fact(card.printed_at, _("On %(when)s the KTP-el was printed.") % {
            "when": when_text(card.printed_at, ctx)},
            [Source("card", card.id, _("card, receipt %(code)s") % {
                "code": card.masked_receipt_code})], 70))
    return facts


def collect_outages(ctx: CaseContext) -> list[Fact]:
    """Outages of the office's central link that overlapped the resident's time at the
    office or the time their case waited on the central server."""
    windows = ctx.presence + ctx.waiting
    if not windows:
        return []
    start = min(w[0] for w in windows)
    end = max(w[1] for w in windows)
    outages = outages_overlapping(office=ctx.office, start=start, end=end)
    facts = []
    for outage in outages:
        over = outage.ended_at or end
        if not any(outage.started_at < w_end and over > w_start for w_start, w_end in windows):
            continue
        at_office = any(outage.started_at < w_end and over > w_start
                        for w_start, w_end in ctx.presence)
        text = _("%(span)s the link from the office to the ministry's central server "
                 "was down, so data could not be sent and cards could not be "
                 "printed.") % {"span": span_text(outage.started_at, outage.ended_at, ctx)}
        text = text[:1].upper() + text[1:]
        if at_office:
            text += " " + _("The resident was at the office during this outage.")
        text += " " + _("The work waiting on the link was sent automatically when it "
                        "returned.")
        start = f"{ctx.local(outage.started_at):%d-%m-%Y %H.%M}"
        label = _("outage of %(start)s") % {"start": start}
        facts.append(Fact(outage.started_at, text, [Source("outage", outage.id, label)], 55))
    return facts


# --- Hand-over and delivery (registry.deliveries) ----------------------------------


def relation_text(relation: str, ctx: CaseContext) -> str:
    """The recipient as the holder's relation, never by name: istri pemohon."""
    resident = ctx.application.resident
    if relation == Relation.SELF:
        return _("the resident himself or herself")
    if relation == Relation.SPOUSE:
        if resident.sex == Sex.MALE:
            return _("the resident's wife")
        if resident.sex == Sex.FEMALE:
            return _("the resident's husband")
    label = str(dict(Relation.choices).get(relation, relation)).lower()
    return _("the resident's %(relation)s") % {"relation": label}


def collect_deliveries(ctx: CaseContext) -> list[Fact]:
    ctx.covered_kinds.update({"handover.", "delivery."})
    facts = []
    handover = handover_of_application(application=ctx.application)
    if handover is None:
        return facts
    hand_source = Source("handover", handover.id, _("hand-over #%(id)s") % {"id": handover.id})
    if handover.chosen_at is not None:
        method = {HandoverMethod.DELIVERY: _("home delivery of the card"),
                  HandoverMethod.PROXY: _("collection of the card by a proxy"),
                  HandoverMethod.PICKUP: _("collecting the card at the office")}[handover.method]
        facts.append(Fact(handover.chosen_at, _("On %(when)s the resident chose %(method)s.") % {
            "when": when_text(handover.chosen_at, ctx), "method": method}, [hand_source], 72))
        if handover.proxy_name:
            ctx.private_terms.add(handover.proxy_name)
            ctx.private_terms.add(handover.proxy_nik)
    printed = handover.card.printed_at
    deliveries = list(deliveries_of_application(application=ctx.application))
    attempts = list(delivery_attempts_of_deliveries(deliveries=deliveries))
    for attempt in attempts:
        source = Source("delivery", attempt.delivery_id,
                        _("delivery #%(id)s, attempt %(number)s") % {
                            "id": attempt.delivery_id, "number": attempt.number})
        if attempt.recipient_name and attempt.recipient_relation != Relation.SELF:
            ctx.private_terms.add(attempt.recipient_name)
        if attempt.outcome == DeliveryAttemptOutcome.DELIVERED:
            text = _("On %(when)s the KTP-el was delivered to the resident's home and "
                     "received by %(recipient)s, who gave the receipt code; a photo and the "
                     "place of the hand-over were recorded.") % {
                "when": when_text(attempt.at, ctx),
                "recipient": relation_text(attempt.recipient_relation, ctx)}
            if printed is not None:
                closed = closed_days_text(ctx.local(printed).date() + timedelta(days=1),
                                          ctx.local(attempt.at).date() - timedelta(days=1),
                                          ctx)
                if closed:
                    text += " " + _("The office was closed on %(days)s, so the card went "
                                    "out on the next working day.") % {"days": closed}
            facts.append(Fact(attempt.at, text, [source, hand_source], 80))
        else:
            facts.append(Fact(attempt.at, _(
                "On %(when)s the courier could not deliver the card: %(reason)s.") % {
                "when": when_text(attempt.at, ctx),
                "reason": attempt.get_reason_display().lower()}, [source], 79))
    if handover.completed_at is not None and not any(
            a.outcome == DeliveryAttemptOutcome.DELIVERED for a in attempts):
        if handover.collected_relation != Relation.SELF and handover.collected_by_name:
            ctx.private_terms.add(handover.collected_by_name)
            ctx.private_terms.add(handover.collected_by_nik)
        facts.append(Fact(handover.completed_at, _(
            "On %(when)s the KTP-el was handed over at the office to %(recipient)s, who "
            "gave the receipt code.") % {
            "when": when_text(handover.completed_at, ctx),
            "recipient": relation_text(handover.collected_relation, ctx)}, [hand_source], 80))
    return facts


# --- Bookings (registry.appointments) and queues (queues) ---------------------------
# The wording of their facts, from plain records; collect_bookings and collect_queue
# below read those apps' selectors into these records.


@dataclass(frozen=True)
class BookingRecord:
    id: int
    code: str
    created_at: datetime
    slot_start: datetime
    assisted: bool = False
    expired_at: datetime | None = None
    checked_in_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class CallRecord:
    """A call of a ticket to a counter."""

    id: int
    ticket_code: str
    lane: str
    lane_name: str
    counter: str
    at: datetime


@dataclass(frozen=True)
class TicketRecord:
    id: int
    code: str
    lane: str
    lane_name: str
    issued_at: datetime
    calls: tuple[CallRecord, ...] = ()
    finished_at: datetime | None = None


def booking_facts(ctx: CaseContext, bookings: list[BookingRecord]) -> list[Fact]:
    """Each booking made (a re-booking after a lapsed one says so), its lapse, the
    check-in."""
    facts = []
    lapsed_before = False
    for booking in sorted(bookings, key=lambda b: (b.created_at, b.id)):
        source = Source("booking", booking.id, _("booking %(code)s") % {"code": booking.code})
        values = {"when": when_text(booking.created_at, ctx),
                  "slot": when_text(booking.slot_start, ctx), "code": booking.code}
        if lapsed_before:
            text = _("On %(when)s the resident booked again, for %(slot)s (booking %(code)s).")
        elif booking.assisted:
            text = _("On %(when)s staff booked a visit for the resident, for %(slot)s "
                     "(booking %(code)s).")
        else:
            text = _("On %(when)s the resident booked a visit in the e-Open app for %(slot)s "
                     "(booking %(code)s).")
        facts.append(Fact(booking.created_at, text % values, [source], 20))
        if booking.expired_at is not None:
            lapsed_before = True
            facts.append(Fact(booking.expired_at, _(
                "The resident did not come on %(day)s; booking %(code)s expired "
                "automatically on %(when)s and the resident was told.") % {
                "day": day_text(booking.slot_start, ctx), "code": booking.code,
                "when": when_text(booking.expired_at, ctx)}, [source], 21))
        if booking.cancelled_at is not None:
            facts.append(Fact(booking.cancelled_at, _(
                "On %(when)s booking %(code)s was cancelled.") % {
                "when": when_text(booking.cancelled_at, ctx), "code": booking.code},
                [source], 21))
        if booking.checked_in_at is not None:
            facts.append(Fact(booking.checked_in_at, _(
                "On %(when)s the resident checked in at the office with booking %(code)s.") % {
                "when": when_text(booking.checked_in_at, ctx), "code": booking.code},
                [source], 25))
    return facts


def lane_text(lane: str, lane_name: str) -> str:
    return _("lane %(lane)s (%(name)s)") % {"lane": lane, "name": lane_name}


def queue_facts(ctx: CaseContext, ticket: TicketRecord, other_calls: list[CallRecord],
                *, other_people: tuple[str, ...] = ()) -> list[Fact]:
    """The resident's ticket and its calls, and the tickets of other lanes called while
    the resident waited: each lane has its own queue, so a number of another lane
    called first did not jump the resident's queue. The other tickets' holders are
    never named (their names are kept for the redaction)."""
    ctx.private_terms.update(other_people)
    ticket_source = Source("ticket", ticket.id, _("ticket %(code)s") % {"code": ticket.code})
    own_lane = lane_text(ticket.lane, ticket.lane_name)
    facts = [Fact(ticket.issued_at, _(
        "On %(when)s the resident took queue ticket %(code)s in %(lane)s.") % {
        "when": when_text(ticket.issued_at, ctx), "code": ticket.code, "lane": own_lane},
        [ticket_source], 30)]
    first_call = min((c.at for c in ticket.calls), default=None)
    waited_until = first_call or ticket.finished_at
    for call in sorted(other_calls, key=lambda c: (c.at, c.id)):
        if call.lane == ticket.lane or call.at < ticket.issued_at:
            continue
        if waited_until is not None and call.at > waited_until:
            continue
        facts.append(Fact(call.at, _(
            "On %(when)s number %(code)s of %(lane)s was called to counter %(counter)s. "
            "That is another lane with its own queue, not the resident's %(own)s, where "
            "%(own_code)s was waiting.") % {
            "when": when_text(call.at, ctx), "code": call.ticket_code,
            "lane": lane_text(call.lane, call.lane_name), "counter": call.counter,
            "own": own_lane, "own_code": ticket.code},
            [Source("call", call.id, _("call of %(code)s, %(lane)s, counter %(counter)s") % {
                "code": call.ticket_code, "lane": call.lane, "counter": call.counter})], 31))
    for number, call in enumerate(sorted(ticket.calls, key=lambda c: (c.at, c.id)), start=1):
        text = (_("On %(when)s the resident's number %(code)s was called to counter "
                  "%(counter)s.") if number == 1 else
                _("On %(when)s number %(code)s was called again, to counter %(counter)s."))
        facts.append(Fact(call.at, text % {"when": when_text(call.at, ctx),
                                           "code": ticket.code, "counter": call.counter},
                          [Source("call", call.id,
                                  _("call of %(code)s, %(lane)s, counter %(counter)s") % {
                                      "code": ticket.code, "lane": ticket.lane,
                                      "counter": call.counter})], 32))
    end = ticket.finished_at or (waited_until or ticket.issued_at) + timedelta(hours=2)
    ctx.presence.append((ticket.issued_at, end))
    return facts


def collect_bookings(ctx: CaseContext) -> list[Fact]:
    """The case's bookings (registry.appointments) read into BookingRecords; their case
    events are then told by these points, not again from the timeline."""
    rows = list(bookings_of_application(application=ctx.application))
    if not rows:
        return []
    ctx.covered_kinds.update({"booking.created", "booking.expired", "booking.checked_in",
                              "booking.cancelled"})
    records = [BookingRecord(
        id=row.id, code=row.code, created_at=row.created_at, slot_start=row.slot.starts_at,
        assisted=row.channel == BookingChannel.ASSISTED, expired_at=row.expired_at,
        checked_in_at=row.checked_in_at,
        cancelled_at=row.cancelled_at if row.status == BookingStatus.CANCELLED else None)
        for row in rows]
    return booking_facts(ctx, records)


def collect_queue(ctx: CaseContext) -> list[Fact]:
    """The case's tickets (queues) with their calls, and the calls of other lanes the
    same day, read into TicketRecords and CallRecords. The other tickets' holders are
    never named."""
    tickets = list(tickets_of_application(application=ctx.application))
    if not tickets:
        return []
    ctx.covered_kinds.update({"queue.", "booking.checked_in", "booking.done"})

    def call_record(event) -> CallRecord:
        return CallRecord(id=event.id, ticket_code=event.ticket.code, lane=event.lane.letter,
                          lane_name=event.lane.name,
                          counter=str(event.counter.number) if event.counter_id else "",
                          at=event.at)

    facts = []
    for ticket in tickets:
        day_calls = list(calls_of_day(office=ctx.office, day=ticket.day))
        own = tuple(call_record(e) for e in day_calls if e.ticket_id == ticket.id)
        others = [e for e in day_calls if e.ticket_id != ticket.id]
        record = TicketRecord(id=ticket.id, code=ticket.code, lane=ticket.lane.letter,
                              lane_name=ticket.lane.name, issued_at=ticket.issued_at,
                              calls=own, finished_at=ticket.finished_at)
        people = tuple({e.ticket.resident.name for e in others if e.ticket.resident_id})
        facts.extend(queue_facts(ctx, record, [call_record(e) for e in others],
                                 other_people=people))
    return facts


CASE_COLLECTORS = [
    collect_case_opened,
    collect_bookings,
    collect_queue,
    collect_central,
    collect_deliveries,
]
# Run after the case collectors: they read what those found (presence, waiting).
LATE_COLLECTORS = [
    collect_outages,
    collect_complaint,
    collect_case_events,
]
