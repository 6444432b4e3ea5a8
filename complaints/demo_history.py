"""Past complaints and satisfaction-survey answers (registry.demo_history): this app's
HISTORY part, run after every other app's.

Complaints come from every channel, more on busy days and on days the central link was
down, about a tenth of a percent of the visits and then some; some are linked to the
case they are about. Each gets its deadlines by the office's working calendar
(complaints.clock, the SP4N-LAPOR! defaults) and is handled as staff would: most
acknowledged within hours, answered and resolved within their deadlines, some late,
and some still open past a deadline, with the alerts the deadline sweep raised. Recent
ones are naturally still open.

About a third of the residents served at a counter answer the IKM survey for their
case, once; most score 3 or 4, the service time lower after a long wait, and a few low
answers carry a comment, some of which staff took in as a complaint.
"""

import math
from bisect import bisect_left
from collections import defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext as _

from complaints.clock import WorkingClock
from complaints.models import (
    SOCIAL_CHANNELS,
    SURVEY_ELEMENTS,
    Category,
    Complaint,
    ComplaintChannel,
    ComplaintDeadline,
    ComplaintResponse,
    ComplaintSettings,
    ComplaintStatus,
    DeadlineKind,
    LinkMethod,
    StaffAlert,
    SurveyAnswer,
)
from complaints.services.deadlines import _deadline_spec, _warn_at
from complaints.services.intake import source_key
from complaints.services.responses import templates_seed
from queues.models import Ticket
from queues.selectors import tickets_served
from registry.calendar import OfficeCalendar, office_day_bounds, office_local_text
from registry.central.models import CentralOutage
from registry.demo_history import events_write, moment, now, office_staff
from registry.models import Application, Office, Role
from registry.services.bulk_sql import instance, objects_insert, rows_insert
from registry.services.sequences import sequence_take

# Complaints per visit of a day (more when the link was down).
COMPLAINTS_PER_VISIT = 0.012
CHANNELS = [(ComplaintChannel.INSTAGRAM, 20), (ComplaintChannel.X, 10),
            (ComplaintChannel.FACEBOOK, 12), (ComplaintChannel.YOUTUBE, 2),
            (ComplaintChannel.EMAIL, 8), (ComplaintChannel.WHATSAPP, 25),
            (ComplaintChannel.LAPOR, 10), (ComplaintChannel.IN_PERSON, 8),
            (ComplaintChannel.APP, 5)]
CATEGORIES = [(Category.WAITING_TIME, 25), (Category.QUEUE_FAIRNESS, 12),
              (Category.STAFF_CONDUCT, 10), (Category.REQUIREMENTS, 15),
              (Category.CENTRAL_OUTAGE, 4), (Category.DELIVERY, 12), (Category.OTHER, 18)]
TEXTS = {
    Category.WAITING_TIME: ["Antrean lama sekali, sudah dua jam belum dipanggil.",
                            "Datang jam 8 baru dilayani jam 11. Tolong tambah petugas loket.",
                            "Loket buka telat, antrean menumpuk dari pagi."],
    Category.QUEUE_FAIRNESS: ["Ada orang datang belakangan tapi dipanggil duluan.",
                              "Nomor saya dilewati, nomor lain dipanggil lebih dulu."],
    Category.STAFF_CONDUCT: ["Petugas loket ketus dan sibuk dengan HP.",
                             "Ada petugas yang menawarkan jalur cepat dengan bayaran."],
    Category.REQUIREMENTS: ["Syarat di aplikasi beda dengan yang diminta di loket.",
                            "Disuruh pulang karena surat kehilangan sudah kedaluwarsa."],
    Category.CENTRAL_OUTAGE: ["Server pusat mati, KTP tidak bisa dicetak. Sudah cuti kerja.",
                              "Katanya jaringan gangguan, disuruh datang lagi besok."],
    Category.DELIVERY: ["KTP belum diantar padahal sudah dua minggu.",
                        "Kurir datang waktu saya kerja, KTP dibawa balik lagi."],
    Category.OTHER: ["Ruang tunggu panas dan kursi kurang.",
                     "Parkiran penuh, tidak ada tempat untuk motor."],
}
ACKNOWLEDGE_TEXT = "Terima kasih, laporan {reference} sedang kami tangani."
RESPONSE_TEXT = ("Mohon maaf atas ketidaknyamanannya. Laporan {reference} sudah kami periksa "
                 "dan tindak lanjuti bersama petugas terkait.")
RESOLVE_TEXT = "Laporan {reference} kami tutup. Terima kasih atas masukannya."
LOW_COMMENTS = {"U1": "Persyaratan tidak jelas, bolak-balik melengkapi berkas.",
                "U2": "Alurnya membingungkan, tidak ada petunjuk.",
                "U3": "Menunggu terlalu lama.",
                "U5": "Data di KTP masih salah setelah dicetak.",
                "U6": "Petugas kurang paham layanannya.",
                "U7": "Petugas kurang ramah.",
                "U8": "Pengaduan saya sebelumnya tidak dijawab.",
                "U9": "Ruang tunggu sempit dan panas."}
GOOD_COMMENTS = ["Pelayanan cepat, terima kasih.", "Petugasnya ramah dan membantu.",
                 "Sudah lebih tertib dengan antrean online."]
# The elements' usual scores around the office's own level (cost is free: high).
ELEMENT_SHIFT = {"U1": -0.15, "U2": 0.0, "U3": -0.1, "U4": 0.55, "U5": 0.1, "U6": 0.1,
                 "U7": 0.05, "U8": -0.2, "U9": -0.15}
ANSWER_SHARE = 0.35


def history(*, offices: list[Office], start: date, end: date, rng, stdout=None
            ) -> dict[str, int]:
    """The HISTORY part: each office's complaints and survey answers."""
    written: dict[str, int] = defaultdict(int)
    for office in offices:
        site = _Office(office, start, end, rng)
        for key, count in site.complaints().items():
            written[key] += count
        for key, count in site.survey().items():
            written[key] += count
    return dict(written)


class _Office:
    def __init__(self, office: Office, start: date, end: date, rng):
        self.office, self.start, self.end, self.rng = office, start, end, rng
        self.settings = ComplaintSettings.objects.get_or_create(office=office)[0]
        templates_seed(office=office)
        self.clock = WorkingClock(office)
        self.limit = now()
        self.humas = office_staff(office, Role.PUBLIC_RELATIONS)
        self.supervisors = office_staff(office, Role.SUPERVISOR)
        self.handlers = self.humas or self.supervisors
        self.first = office_day_bounds(office, start)[0]
        self.last = office_day_bounds(office, end)[1]
        # (created at, case id, resident id, name, phone) of the period's cases.
        self.cases = list(Application.objects.filter(
            office=office, created_at__gte=self.first, created_at__lt=self.last)
            .order_by("created_at").values_list("created_at", "id", "resident_id",
                                                "resident__name", "resident__phone"))
        self.case_times = [case[0] for case in self.cases]
        self.complaint_rows: list[Complaint] = []
        self.events: list[dict] = []
        self.counts: dict[str, int] = defaultdict(int)

    # --- complaints -----------------------------------------------------------------

    def complaints(self) -> dict[str, int]:
        rng = self.rng
        if not self.handlers:
            return {}
        visits = dict(Ticket.objects.filter(office=self.office, day__range=(self.start, self.end))
                      .values("day").annotate(n=Count("id")).values_list("day", "n"))
        outage_days = {s.astimezone(self.first.tzinfo).date() for s in CentralOutage.objects
                       .filter(office=self.office, started_at__gte=self.first,
                               started_at__lt=self.last).values_list("started_at", flat=True)}
        calendar = OfficeCalendar(self.office, self.start, self.end)
        day = self.start
        while day <= self.end:
            expected = COMPLAINTS_PER_VISIT * visits.get(day, 0) + (
                0.15 if calendar.is_working_day(day) else 0.05)
            if day in outage_days:
                expected *= 2
            for _n in range(_poisson(rng, expected)):
                category = (Category.CENTRAL_OUTAGE if day in outage_days and rng.random() < 0.5
                            else _choice(rng, CATEGORIES))
                self._complaint(day, category)
            day += timedelta(days=1)
        return self._write_complaints()

    def _complaint(self, day: date, category: str, *, survey=None) -> Complaint | None:
        rng = self.rng
        channel = ComplaintChannel.SURVEY if survey else _choice(rng, CHANNELS)
        social = channel in SOCIAL_CHANNELS
        at_desk = channel in (ComplaintChannel.IN_PERSON, ComplaintChannel.LAPOR,
                              ComplaintChannel.EMAIL, ComplaintChannel.SURVEY)
        received = (survey.answered_at + timedelta(hours=rng.uniform(2, 30)) if survey
                    else moment(self.office, day, rng.uniform(8 * 60, 15 * 60) if at_desk
                                else rng.uniform(6 * 60, 23 * 60)))
        if received > self.limit:
            return None
        case = survey.case if survey else self._case(received)
        _at, application_id, resident_id, name, phone = case or (None,) * 5
        handle = link = tracking = ""
        if social:
            handle = f"@warga{rng.randint(100, 99999)}"
            link = {ComplaintChannel.INSTAGRAM: f"https://www.instagram.com/p/C{_token(rng, 10)}/",
                    ComplaintChannel.X: f"https://x.com/{handle[1:]}/status/"
                                        f"{rng.randint(10**18, 10**19 - 1)}",
                    ComplaintChannel.FACEBOOK: "https://www.facebook.com/permalink.php?"
                                               f"story_fbid={rng.randint(10**9, 10**10)}"
                                               f"&id={rng.randint(10**6, 10**7)}",
                    ComplaintChannel.YOUTUBE: "https://www.youtube.com/watch?v="
                                              f"{_token(rng, 11)}"}[channel]
        elif channel == ComplaintChannel.WHATSAPP:
            handle = phone or f"+628{rng.randint(10**9, 10**10 - 1)}"
        elif channel == ComplaintChannel.EMAIL:
            handle = f"warga{rng.randint(100, 99999)}@gmail.com"
        elif channel == ComplaintChannel.LAPOR:
            tracking = str(rng.randint(4_000_000, 4_999_999))
        if channel == ComplaintChannel.APP and resident_id is None:
            channel = ComplaintChannel.WHATSAPP
            handle = f"+628{rng.randint(10**9, 10**10 - 1)}"
        confidential = bool(survey) or (channel == ComplaintChannel.LAPOR
                                        and category == Category.STAFF_CONDUCT)
        method = ("" if application_id is None else LinkMethod.APP
                  if channel == ComplaintChannel.APP else
                  rng.choice([LinkMethod.NIK, LinkMethod.TICKET, LinkMethod.BOOKING,
                              LinkMethod.RECEIPT, LinkMethod.APPLICATION]))
        by_staff = channel not in (ComplaintChannel.APP,)
        complaint = instance(
            Complaint, office=self.office, channel=channel, link=link, handle=handle,
            lapor_tracking_id=tracking,
            source_key=source_key(channel=channel, link=link, lapor_tracking_id=tracking),
            posted_at=received - timedelta(hours=rng.uniform(0, 8)) if social else None,
            received_at=received, created_at=received,
            text=survey.comment if survey else rng.choice(TEXTS[category]),
            category=category, confidential=confidential, resident_id=resident_id,
            complainant_name=(name if resident_id else
                              "Pelapor LAPOR!" if channel == ComplaintChannel.LAPOR else
                              rng.choice(["", "Warga", "Bapak Hadi", "Ibu Sari"])),
            application_id=application_id, link_method=method,
            assignee=(rng.choice(self.supervisors or self.handlers) if confidential
                      else rng.choice(self.handlers) if rng.random() < 0.9 else None),
            logged_by=rng.choice(self.handlers) if by_staff else None)
        self.complaint_rows.append(complaint)
        return complaint

    def _case(self, received: datetime) -> tuple | None:
        """A case of the office opened in the weeks before, for four complaints in
        ten."""
        if self.rng.random() >= 0.4:
            return None
        index = bisect_left(self.case_times, received)
        if index == 0:
            return None
        return self.cases[self.rng.randrange(max(0, index - 600), index)]

    def _write_complaints(self) -> dict[str, int]:
        rows = sorted(self.complaint_rows, key=lambda c: c.received_at)
        by_year = defaultdict(list)
        for complaint in rows:
            by_year[complaint.received_at.astimezone(self.first.tzinfo).year].append(complaint)
        for year, found in by_year.items():
            first = sequence_take(office=self.office, scope=f"complaint:{year}", count=len(found))
            for n, complaint in enumerate(found):
                complaint.reference = f"ADU-{self.office.code}-{year}-{first + n:05d}"
        deadlines, responses, alerts = [], [], []
        for complaint in rows:
            self._handle(complaint, deadlines, responses, alerts)
        objects_insert(rows)
        objects_insert(deadlines)
        rows_insert(ComplaintResponse, ["office", "complaint", "kind", "text", "channel", "at",
                                        "by", "redactions"],
                    ((self.office.id, c.id, kind, text, channel, at, by.id, 0)
                     for c, kind, text, channel, at, by in responses))
        rows_insert(StaffAlert, ["office", "complaint", "deadline", "user", "kind", "message",
                                 "created_at", "read_at"],
                    ((self.office.id, d.complaint.id, d.id, user.id, kind, message, at, read)
                     for d, user, kind, message, at, read in alerts))
        events_write([dict(e, application_id=e["complaint"].application_id)
                      for e in self.events if e["complaint"].application_id is not None])
        return {"complaints.Complaint": len(rows), "complaints.ComplaintDeadline": len(deadlines),
                "complaints.ComplaintResponse": len(responses),
                "complaints.StaffAlert": len(alerts), "registry.CaseEvent": len(self.events)}

    def _handle(self, complaint: Complaint, deadlines, responses, alerts) -> None:
        """When staff acknowledged, answered and resolved it, and the deadlines with
        what the sweep did about them."""
        rng, clock, received = self.rng, self.clock, complaint.received_at
        handler = complaint.assignee or rng.choice(self.handlers)
        acknowledged = responded = resolved = None
        if rng.random() < 0.93:
            acknowledged = clock.add(received, minutes=round(rng.lognormvariate(math.log(150),
                                                                                 0.9)))
            if rng.random() < 0.1:
                acknowledged = clock.add(received, days=rng.randint(3, 6))
            if rng.random() < 0.88:
                responded = clock.add(acknowledged, days=rng.randint(0, 3),
                                      minutes=rng.randint(30, 300))
                if rng.random() < 0.15:  # late: after the response deadline
                    responded = max(clock.add(received, days=rng.randint(5, 9)),
                                    clock.add(acknowledged, minutes=30))
                if rng.random() < 0.75:
                    resolved = clock.add(responded, days=rng.randint(0, 6),
                                         minutes=rng.randint(10, 200))
        steps = [(acknowledged, "acknowledge", ACKNOWLEDGE_TEXT),
                 (responded, "response", RESPONSE_TEXT), (resolved, "resolution", RESOLVE_TEXT)]
        done = {}
        for at, kind, text in steps:
            if at is None or at > self.limit:
                break
            done[kind] = at
            responses.append((complaint, kind, text.format(reference=complaint.reference),
                              complaint.channel if complaint.channel != ComplaintChannel.SURVEY
                              else ComplaintChannel.APP, at, handler))
        acknowledged, responded, resolved = (done.get("acknowledge"), done.get("response"),
                                             done.get("resolution"))
        complaint.acknowledged_at, complaint.responded_at = acknowledged, responded
        complaint.resolved_at = resolved
        complaint.status = (ComplaintStatus.RESOLVED if resolved else ComplaintStatus.RESPONDED
                            if responded else ComplaintStatus.IN_PROGRESS if acknowledged
                            else ComplaintStatus.RECEIVED)
        if acknowledged:
            complaint.first_response_minutes = clock.minutes_between(received, acknowledged)
        if resolved:
            complaint.resolution_minutes = clock.minutes_between(received, resolved)
        plan = [(DeadlineKind.ACKNOWLEDGE, received, resolved or responded or acknowledged),
                (DeadlineKind.RESPOND, received, resolved or responded),
                (DeadlineKind.RESOLVE, received, resolved)]
        if responded:
            plan.append((DeadlineKind.UPDATE, responded, resolved))
        for kind, since, met in plan:
            days, hours = _deadline_spec(self.settings, kind)
            due = clock.add(since, days=days, hours=hours)
            warn = _warn_at(clock, since, due, self.settings.warn_before_hours)
            deadline = instance(ComplaintDeadline, office=self.office, complaint=complaint,
                                kind=kind, due_at=due, warn_at=warn, met_at=met)
            deadlines.append(deadline)
            self._alerts(deadline, handler, alerts)
        for at, kind in ((received, "complaint.received"), (responded, "complaint.responded"),
                         (resolved, "complaint.resolved")):
            if at is not None and not complaint.confidential:
                self.events.append({"complaint": complaint, "office_id": self.office.id,
                                    "kind": kind, "at": at, "actor": handler if at != received
                                    else complaint.logged_by,
                                    "by_resident": complaint.channel == ComplaintChannel.APP
                                    and at == received,
                                    "params": {"reference": complaint.reference}})

    def _alerts(self, deadline: ComplaintDeadline, handler, alerts) -> None:
        """What the deadline sweep (every five minutes) did: the assignee warned before
        the deadline, the supervisors alerted once it passed unmet (the messages as
        complaints.services.deadlines writes them, in the office's language)."""
        rng, met = self.rng, deadline.met_at
        values = {"reference": deadline.complaint.reference,
                  "due": office_local_text(deadline.due_at, self.office)}
        with translation.override(settings.LANGUAGE_CODE):
            values["deadline"] = str(deadline.get_kind_display()).lower()
            warning = str(_("%(reference)s: %(deadline)s is due at %(due)s.") % values)
            overdue = str(_("%(reference)s: %(deadline)s was due at %(due)s and is overdue.")
                          % values)
        if deadline.warn_at <= self.limit and (met is None or met > deadline.warn_at):
            deadline.warned_at = deadline.warn_at + timedelta(minutes=rng.uniform(0, 5))
            alerts.append((deadline, handler, "warning", warning[:400], deadline.warned_at,
                           _read(rng, deadline.warned_at, self.limit)))
        if deadline.due_at <= self.limit and (met is None or met > deadline.due_at):
            deadline.escalated_at = deadline.due_at + timedelta(minutes=rng.uniform(0, 5))
            alerts.extend((deadline, supervisor, "overdue", overdue[:400],
                           deadline.escalated_at, _read(rng, deadline.escalated_at, self.limit))
                          for supervisor in self.supervisors)

    # --- the satisfaction survey ------------------------------------------------------

    def survey(self) -> dict[str, int]:
        """One answer for about a third of the cases served at a counter."""
        rng = self.rng
        answered = set(SurveyAnswer.objects.filter(office=self.office, answered_at__gte=self.first)
                       .values_list("application_id", flat=True))
        served = {}
        for row in (tickets_served().filter(
                office=self.office, day__range=(self.start, self.end),
                application__created_at__gte=self.first).order_by("finished_at")
                .values_list("application_id", "application__created_at",
                             "application__resident_id", "application__resident__name",
                             "application__resident__phone", "lane_id", "service_id",
                             "counter_id", "finished_at", "first_called_at", "queued_at")):
            served[row[0]] = row  # the last served ticket of the case
        level = 3.45 if self.office.code in ("3275", "3216") else rng.uniform(3.2, 3.6)
        answers, self.escalated = [], []
        for application_id, ticket in served.items():
            if application_id in answered or rng.random() >= ANSWER_SHARE:
                continue
            *_case, lane_id, service_id, counter_id, finished, called, queued = ticket
            at = finished + timedelta(minutes=rng.lognormvariate(math.log(90), 1.2))
            if at > self.limit:
                continue
            waited = (called - queued).total_seconds() / 60
            # How pleased this resident is overall, then each element around it (the
            # service time lower after a long wait).
            pleased = rng.gauss(level, 0.3)
            scores = {}
            for element in SURVEY_ELEMENTS:
                mean = pleased + ELEMENT_SHIFT[element]
                if element == "U3":
                    mean -= 0.7 if waited > 45 else 0.35 if waited > 25 else 0
                scores[element] = min(4, max(1, round(rng.gauss(mean, 0.25))))
            low = [e for e, score in scores.items() if score <= 2]
            comment = ""
            if low and rng.random() < 0.6:
                comment = LOW_COMMENTS.get(min(low, key=lambda e: scores[e]), "")
            elif rng.random() < 0.08:
                comment = rng.choice(GOOD_COMMENTS)
            answer = instance(
                SurveyAnswer, office=self.office, application_id=application_id,
                resident_id=ticket[2],
                lane_id=lane_id, service_id=service_id, counter_id=counter_id,
                comment=comment, answered_at=at,
                **{e.lower(): score for e, score in scores.items()})
            answers.append(answer)
            if low and comment and rng.random() < 0.2:
                answer.case = ticket[1], application_id, ticket[2], ticket[3], ticket[4]
                self.escalated.append(answer)
        written = {"complaints.SurveyAnswer": len(answers)}
        if self.escalated and self.handlers:
            self.complaint_rows, self.events = [], []
            for answer in self.escalated:
                answer.complaint = self._complaint(
                    None, Category.WAITING_TIME if "Menunggu" in answer.comment
                    else Category.OTHER, survey=answer)
            written.update(self._write_complaints())
        objects_insert(answers)
        return written


def _choice(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _poisson(rng, expected: float) -> int:
    limit, count, product = math.exp(-expected), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _token(rng, length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(rng.choice(alphabet) for _i in range(length))


def _read(rng, at: datetime, limit: datetime) -> datetime | None:
    """Staff read most alerts within the day; the latest may still be unread."""
    read = at + timedelta(hours=rng.uniform(0.2, 20))
    return read if read <= limit and rng.random() < 0.9 else None
