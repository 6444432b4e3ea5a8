"""Past records of the central link and card printing (registry.demo_history): the
link's outages (this app's HISTORY part, run before the apps above it, so the queues
find the link down when they finish a visit), and the central work of each visit the
queues' history finished as served (`visits_completed`, called by it as ticket_finish
calls application_visit_completed): the data change, the card print with its card and
blank card, the attempts, and the stock's deliveries around the prints.
"""

import uuid
from bisect import bisect_right
from collections import Counter
from datetime import date, datetime, timedelta

from registry.calendar import OfficeCalendar, office_day_bounds, office_local_text, office_zone
from registry.central.models import (
    AttemptOutcome,
    Card,
    CardStock,
    CardStockMovement,
    CentralJob,
    CentralJobAttempt,
    CentralJobKind,
    CentralJobStatus,
    CentralOutage,
    OutageDetection,
    StockMovementReason,
)
from registry.central.services.jobs import RECEIPT_ALPHABET
from registry.demo_history import at_work, events_write, moment, now, working_days
from registry.encryption import encrypt
from registry.models import Application, ApplicationStatus, Office, Role, StaffMembership
from registry.services.bulk_sql import instance, objects_insert, rows_insert

# On a working day the link fails with this chance; most outages are short.
OUTAGE_CHANCE = 0.09
OUTAGE_CAUSES = ["timeout connecting to the central server", "connection refused",
                 "HTTP 503 from the central server", "VPN tunnel down"]
STAFF_CAUSES = ["Pemeliharaan server pusat (pemberitahuan Ditjen Dukcapil)",
                "Jaringan VPN kantor terputus, menunggu penyedia layanan"]
# The central server refuses a few data changes; staff send about half of them again.
REJECTIONS = ["NIK tidak ditemukan di database kependudukan pusat",
              "Data ganda: NIK sudah memiliki perekaman aktif",
              "Dokumen pendukung tidak lengkap menurut verifikator pusat"]
REJECTED_SHARE = 0.012
# The central print queue is slow some days: a print waits one to four working days.
SLOW_PRINT_SHARE = 0.05
# Blank cards arrive from the ministry every week or so, a few hundred at a time.
DELIVERY_NOTE = "Kiriman blangko KTP-el dari Ditjen Dukcapil"


def history(*, offices: list[Office], start: date, end: date, rng, stdout=None
            ) -> dict[str, int]:
    """The HISTORY part: each office's outages on its working days."""
    rows = []
    for office in offices:
        taken = list(CentralOutage.objects.filter(
            office=office, started_at__lt=office_day_bounds(office, end)[1],
            ended_at__gte=office_day_bounds(office, start)[0]).values_list(
            "started_at", "ended_at"))
        supervisor = _staff(office, Role.SUPERVISOR)
        calendar = OfficeCalendar(office, start, end)
        days = calendar.working_days()
        # A period of a few weeks has at least one outage, as real links do.
        sure = rng.choice(days) if len(days) >= 10 else None
        for day in days:
            if rng.random() >= OUTAGE_CHANCE and day != sure:
                continue
            roll = rng.random()
            minutes = (rng.uniform(8, 60) if roll < 0.7 else rng.uniform(60, 180)
                       if roll < 0.95 else rng.uniform(180, 300))
            started = at_work(office, calendar, day, rng, 0.0, 0.85)
            ended = started + timedelta(minutes=minutes)
            if any(s < ended and (e is None or started < e) for s, e in taken):
                continue  # the demo's own outage of that day
            by_staff = rng.random() < 0.06
            expected = started + timedelta(minutes=30 if minutes < 60 else 90)
            rows.append(CentralOutage(
                office=office, started_at=started, ended_at=ended,
                detection=OutageDetection.STAFF if by_staff else
                rng.choice([OutageDetection.HEALTH_CHECK] * 3 + [OutageDetection.SEND_FAILURE]),
                end_detection=OutageDetection.STAFF if by_staff
                else OutageDetection.HEALTH_CHECK,
                cause=rng.choice(STAFF_CAUSES if by_staff else OUTAGE_CAUSES),
                expected_back=expected.replace(minute=expected.minute // 15 * 15, second=0,
                                               microsecond=0) + timedelta(minutes=15),
                declared_by=supervisor if by_staff else None,
                ended_by=supervisor if by_staff else None))
    CentralOutage.objects.bulk_create(rows)
    return {"central.CentralOutage": len(rows)}


def _staff(office: Office, role: str):
    membership = (StaffMembership.objects.filter(office=office, role=role)
                  .select_related("user").order_by("id").first())
    return membership.user if membership else None


class _Outages:
    """The office's outages in the period, to ask whether the link was down."""

    def __init__(self, office: Office, start: datetime, end: datetime):
        self.rows = list(CentralOutage.objects.filter(
            office=office, started_at__lt=end, ended_at__gt=start, ended_at__isnull=False)
            .order_by("started_at"))
        self.starts = [o.started_at for o in self.rows]

    def at(self, instant: datetime) -> CentralOutage | None:
        index = bisect_right(self.starts, instant) - 1
        if index >= 0 and self.rows[index].ended_at > instant:
            return self.rows[index]
        return None


def visits_completed(*, office: Office, visits: list[tuple[Application, datetime, object]],
                     rng, start: date, end: date) -> dict[str, int]:
    """The central work of visits served at the counter (application, when the ticket
    was finished, the operator), as application_visit_completed and the sender would
    have done it: the case in progress, its data change and card print sent (after the
    link's return when it was down; a few refused, some prints slow), the card printed
    on a blank card, the case ready. Then the stock's deliveries and counts around the
    prints (`_stock`)."""
    limit = now() - timedelta(minutes=2)
    calendar = OfficeCalendar(office, start - timedelta(days=7), end + timedelta(days=30))
    outages = _Outages(office, office_day_bounds(office, start)[0],
                       office_day_bounds(office, end + timedelta(days=1))[1])
    receipts = set(Card.objects.filter(office=office).values_list("receipt_code", flat=True))
    jobs, attempts, cards, events = [], [], [], []
    ready: list[tuple[Application, datetime]] = []
    told: Counter = Counter()
    for application, finished, operator in visits:
        service = application.service
        events.append(_event(application, "application.status", finished, operator,
                             {"old": ApplicationStatus.OPEN,
                              "new": ApplicationStatus.IN_PROGRESS}))
        payload = {"nik": encrypt(application.resident.nik), "service": service.code,
                   "services": [service.code], "number": application.number}
        data = print_job = None
        if service.needs_central:
            data = instance(CentralJob, office=office, application=application,
                            kind=CentralJobKind.DATA_CHANGE, key=_key(rng), payload=payload,
                            created_at=finished, next_attempt_at=finished)
            jobs.append(data)
        if service.produces_card:
            print_job = instance(CentralJob, office=office, application=application,
                                 kind=CentralJobKind.CARD_PRINT, key=_key(rng),
                                 payload=payload, after=data, created_at=finished,
                                 next_attempt_at=finished,
                                 status=CentralJobStatus.BLOCKED if data
                                 else CentralJobStatus.PENDING)
            jobs.append(print_job)
            cards.append(instance(Card, office=office, application=application,
                                  print_job=print_job,
                                  receipt_code=_receipt_code(rng, receipts)))
        for job in (data, print_job):
            if job is not None:
                events.append(_event(application, "central.job_queued", finished, operator,
                                     {"kind": job.kind}))
        outage = outages.at(finished)
        if outage is not None:
            told[outage.id] += 1
        sent = finished
        for job in (data, print_job):
            if job is None:
                continue
            sent = _send(job, sent, outage=outages.at(sent), rng=rng, limit=limit,
                         calendar=calendar, attempts=attempts, events=events,
                         application=application, office=office)
            if sent is None:
                break  # refused and not sent again: the print stays blocked
            outage = None
        if print_job is not None and print_job.status == CentralJobStatus.DONE:
            cards[-1].printed_at = print_job.done_at
            ready.append((application, print_job.done_at))
            events.append(_event(application, "card.printed", print_job.done_at, None,
                                 {"ref": print_job.central_ref}))
            events.append(_event(application, "application.status", print_job.done_at, None,
                                 {"old": ApplicationStatus.IN_PROGRESS,
                                  "new": ApplicationStatus.READY}))
    # The data changes first: a print points at the one it waits for.
    objects_insert([j for j in jobs if j.kind == CentralJobKind.DATA_CHANGE])
    objects_insert([j for j in jobs if j.kind == CentralJobKind.CARD_PRINT])
    rows_insert(CentralJobAttempt, ["office", "job", "number", "started_at", "finished_at",
                                    "outcome", "error", "central_ref"],
                ((office.id, job.id, *values) for job, *values in attempts))
    objects_insert(cards)
    _statuses(visits, ready)
    for outage_id, count in told.items():
        CentralOutage.objects.filter(pk=outage_id).update(residents_told=count)
    movements = _stock(office, [j for j in jobs if j.kind == CentralJobKind.CARD_PRINT
                                and j.status == CentralJobStatus.DONE], rng, calendar, start)
    events_write(events)
    return {"central.CentralJob": len(jobs), "central.CentralJobAttempt": len(attempts),
            "central.Card": len(cards), "central.CardStockMovement": movements,
            "registry.CaseEvent": len(events)}


def _key(rng) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _receipt_code(rng, taken: set) -> str:
    while True:
        raw = "".join(rng.choice(RECEIPT_ALPHABET) for _i in range(8))
        code = f"{raw[:4]}-{raw[4:]}"
        if code not in taken:
            taken.add(code)
            return code


def _event(application, kind, at, actor, params) -> dict:
    return {"application_id": application.id, "office_id": application.office_id,
            "kind": kind, "at": at, "actor": actor, "params": params}


def _after_working_days(calendar: OfficeCalendar, office, instant: datetime, days: int,
                        rng) -> datetime:
    day = instant.astimezone(office_zone(office)).date()
    found = 0
    while found < days and day < calendar.end:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            found += 1
    return at_work(office, calendar, day, rng, 0.05, 0.9) if found == days else instant


def _send(job: CentralJob, ready_at: datetime, *, outage, rng, limit, calendar, attempts,
          events, application, office) -> datetime | None:
    """The sends of one job from `ready_at` (when it could first go): failed while the
    link was down, then accepted; a few refused. When it was done, or None when it
    is still refused."""
    number = 0
    at = ready_at + timedelta(seconds=rng.uniform(2, 20))
    if outage is not None:
        # The first send fails; the job waits (on the timeline) for the link's return.
        number += 1
        attempts.append((job, number, at, at + timedelta(seconds=10),
                         AttemptOutcome.LINK_DOWN, outage.cause or "no answer", ""))
        events.append(_event(application, "central.job_waiting", at, None, {
            "kind": job.kind, "since": office_local_text(outage.started_at, office),
            "expected": office_local_text(outage.expected_back, office)}))
        job.noted_outage = outage
        job.last_error = ""
        at = outage.ended_at + timedelta(seconds=rng.uniform(20, 240))
    if job.kind == CentralJobKind.DATA_CHANGE and rng.random() < REJECTED_SHARE:
        number += 1
        error = rng.choice(REJECTIONS)
        attempts.append((job, number, at, at + timedelta(seconds=3), AttemptOutcome.REJECTED,
                         error, ""))
        events.append(_event(application, "central.job_rejected", at, None,
                             {"kind": job.kind, "error": error}))
        retry = _after_working_days(calendar, office, at, rng.randint(1, 3), rng)
        if rng.random() < 0.5 or retry >= limit:
            job.status, job.attempts, job.last_error = CentralJobStatus.REJECTED, number, error
            return None
        events.append(_event(application, "central.job_retried", retry, None,
                             {"kind": job.kind}))
        at = retry
    elif job.kind == CentralJobKind.CARD_PRINT and rng.random() < SLOW_PRINT_SHARE:
        slow = _after_working_days(calendar, office, at, rng.randint(1, 4), rng)
        if slow < limit:
            number += 1
            attempts.append((job, number, at, at + timedelta(seconds=30),
                             AttemptOutcome.LINK_DOWN,
                             "timeout waiting for the central print queue", ""))
            events.append(_event(application, "central.job_waiting", at, None,
                                 {"kind": job.kind}))
            at = slow
    at = min(at, limit)
    number += 1
    reference = f"PUSAT-{job.key.hex[:8].upper()}"
    done = at + timedelta(seconds=rng.uniform(1, 8))
    attempts.append((job, number, at, done, AttemptOutcome.ACCEPTED, "", reference))
    job.status, job.attempts, job.done_at = CentralJobStatus.DONE, number, done
    job.central_ref, job.next_attempt_at = reference, at
    if job.kind == CentralJobKind.DATA_CHANGE:
        events.append(_event(application, "central.job_accepted", done, None,
                             {"kind": job.kind, "ref": reference}))
    return done


def _statuses(visits, ready) -> None:
    """The cases' status: in progress from the visit, ready once the card is printed."""
    in_progress = [a.id for a, _finished, _operator in visits]
    for n in range(0, len(in_progress), 900):
        Application.objects.filter(pk__in=in_progress[n:n + 900]).update(
            status=ApplicationStatus.IN_PROGRESS)
    done = [a.id for a, _printed in ready]
    for n in range(0, len(done), 900):
        Application.objects.filter(pk__in=done[n:n + 900]).update(
            status=ApplicationStatus.READY)
    for application, _finished, _operator in visits:
        application.status = ApplicationStatus.IN_PROGRESS
    for application, _printed in ready:
        application.status = ApplicationStatus.READY


def _stock(office: Office, prints: list[CentralJob], rng, calendar: OfficeCalendar,
           start: date) -> int:
    """The blank-card movements of the period: one card out per print, and deliveries
    in when the stock ran low, so that the balances run on from the stock's movements
    before the period into those after it (or into the stock on hand when none came
    after). Worked out backwards from the end: a delivery is placed where the stock
    would otherwise have been more than a delivery's worth higher."""
    first_instant = office_day_bounds(office, start)[0]
    stock = CardStock.objects.filter(office=office).first()
    after = (CardStockMovement.objects.filter(office=office, at__gte=first_instant)
             .order_by("at", "id").first())
    before = (CardStockMovement.objects.filter(office=office, at__lt=first_instant)
              .order_by("-at", "-id").first())
    if after is not None:
        balance = after.balance - after.change
    elif stock is not None:
        balance = stock.on_hand
    else:
        balance = rng.randint(80, 400)
        stock = CardStock.objects.create(office=office, on_hand=balance, alert_below=50)
    if stock is None:
        stock = CardStock.objects.create(office=office, on_hand=balance, alert_below=50)
    prints = sorted(prints, key=lambda j: j.done_at)
    days = max(len(working_days(office, start, calendar.end - timedelta(days=30))), 1)
    per_day = max(len(prints) / days, 5)
    admin = _staff(office, Role.OFFICE_ADMIN)
    by = admin.id if admin is not None else None
    rows: list[tuple] = []
    # Backwards: `balance` is the stock just after each movement, walking back in time.
    threshold = round(per_day * rng.uniform(4, 8))
    for index in range(len(prints) - 1, -1, -1):
        job = prints[index]
        rows.append((job.done_at, -1, balance, StockMovementReason.PRINTED,
                     job.application.number, job.id, None))
        balance += 1
        earlier = prints[index - 1].done_at if index else first_instant
        if balance >= threshold and index:
            left = rng.randint(3, 60)
            arrived = _delivery_time(office, calendar, earlier, job.done_at, rng)
            rows.append((arrived, balance - left, balance, StockMovementReason.RECEIVED,
                         DELIVERY_NOTE, None, by))
            balance = left
            threshold = round(per_day * rng.uniform(4, 8))
    opening = first_instant + timedelta(hours=7, minutes=30)
    if before is not None and before.balance != balance:
        rows.append((opening, balance - before.balance, balance, StockMovementReason.CORRECTION,
                     "Stock opname awal periode", None, by))
    elif before is None and balance > 0:
        rows.append((opening, balance, balance, StockMovementReason.RECEIVED, DELIVERY_NOTE,
                     None, by))
    rows.reverse()
    return rows_insert(CardStockMovement, ["at", "change", "balance", "reason", "note", "job",
                                           "by", "office"],
                       ((*row, office.id) for row in rows))


def _delivery_time(office, calendar, earlier: datetime, later: datetime, rng) -> datetime:
    """A morning arrival between two prints when there is one, else just before the
    later print."""
    day = later.astimezone(office_zone(office)).date()
    if calendar.is_working_day(day):
        morning = moment(office, day, 8 * 60 + rng.uniform(0, 90))
        if earlier < morning < later:
            return morning
    return later - (later - earlier) * rng.uniform(0.1, 0.9)
