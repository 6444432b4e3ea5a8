"""Queues: counters (loket) with the lanes they serve in order, tickets with their
history, and each office's queue settings.

Lanes are the registry's (`registry.Lane`: office, letter, name); services point at
their lane. A ticket's code is its lane letter and a number of that lane and day
(C-001), unique per office and day. The calling policy is in `queues.policy`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import Application, Lane, Office, Resident, Role, Service
from registry.processing import PUBLIC_SERVICE, PersonalData


class QueueSettings(models.Model):
    """How an office runs its queue: the fairness cap, notifications, the end of day."""

    office = models.OneToOneField(
        Office, on_delete=models.CASCADE, related_name="queue_settings",
        verbose_name=_("office"),
    )
    ahead_cap = models.PositiveSmallIntegerField(
        _("calls ahead of turn in a row"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_("Priority tickets and on-time bookings are called ahead of walk-ins. "
                    "After this many such calls in a row in a lane, the walk-in who has "
                    "waited longest is called first if they have waited longer than the "
                    "limit below."),
    )
    fairness_wait_minutes = models.PositiveSmallIntegerField(
        _("longest fair wait (minutes)"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(480)],
    )
    notify_ahead = models.PositiveSmallIntegerField(
        _("tell residents when this many are ahead"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
    )
    end_of_day_grace_minutes = models.PositiveSmallIntegerField(
        _("minutes after closing before tickets are closed"), default=120,
        validators=[MaxValueValidator(600)],
        help_text=_("Residents still in the hall at closing time are served; tickets "
                    "still waiting this long after closing are closed as no-shows."),
    )
    estimate_history_days = models.PositiveSmallIntegerField(
        _("days of service times for estimates"), default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    idle_alert_minutes = models.PositiveSmallIntegerField(
        _("alert supervisors after a counter is idle this long (minutes)"), default=5,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("An open counter that calls nobody while people wait in its lanes, "
                    "or a pause longer than its reason allows, alerts the office's "
                    "supervisors after this many minutes."),
    )
    walk_in_until = models.TimeField(
        _("no new walk-in tickets from"), null=True, blank=True,
        help_text=_("Office time from which the kiosk gives no new walk-in ticket (empty: "
                    "until the estimated wait would pass closing time). Booked residents "
                    "are always checked in."),
    )

    class Meta:
        verbose_name = _("queue settings")
        verbose_name_plural = _("queue settings")

    def __str__(self):
        return str(self.office)


class CounterState(models.TextChoices):
    """What a counter is doing; every change is a CounterEvent."""

    CLOSED = "closed", _("Closed")
    IDLE = "idle", _("Open, idle")
    CALLING = "calling", _("Calling")
    SERVING = "serving", _("Serving")
    PAUSED = "paused", _("Paused")


# A counter in one of these states is open: it takes tickets.
OPEN_STATES = (CounterState.IDLE, CounterState.CALLING, CounterState.SERVING)


class PauseReason(models.Model):
    """A reason an operator may pause a counter for, from the office's list, with the
    minutes such a pause may last before the supervisors are alerted (while people
    wait)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("office"))
    code = models.SlugField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    allowed_minutes = models.PositiveSmallIntegerField(
        _("allowed minutes"), default=15,
        validators=[MinValueValidator(1), MaxValueValidator(240)])
    needs_note = models.BooleanField(_("needs a note"), default=False)
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("pause reason")
        verbose_name_plural = _("pause reasons")
        ordering = ["office", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "code"], name="pause_reason_code_once"),
        ]

    def __str__(self):
        return self.name


class Counter(models.Model):
    """A counter (loket) of an office, serving an ordered list of lanes."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="counters", verbose_name=_("office")
    )
    number = models.PositiveSmallIntegerField(
        _("number"), validators=[MinValueValidator(1), MaxValueValidator(99)]
    )
    name = models.CharField(_("name"), max_length=40,
                            help_text=_("As the board shows it, e.g. Loket 2."))
    lanes = models.ManyToManyField(Lane, through="CounterLane", related_name="counters",
                                   verbose_name=_("lanes"))
    is_active = models.BooleanField(_("in use"), default=True)
    state = models.CharField(_("state"), max_length=8, choices=CounterState.choices,
                             default=CounterState.CLOSED)
    state_since = models.DateTimeField(_("state since"), default=timezone.now)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("operator"),
    )
    pause_reason = models.ForeignKey(PauseReason, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("pause reason"))
    pause_note = models.CharField(_("pause note"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        ordering = ["office", "number"]
        constraints = [
            models.UniqueConstraint(fields=["office", "number"], name="counter_number_per_office"),
            models.UniqueConstraint(fields=["office", "name"], name="counter_name_per_office"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CounterLane(models.Model):
    """One lane a counter serves, in the counter's order (1 first)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("office"))
    counter = models.ForeignKey(Counter, on_delete=models.CASCADE, related_name="lane_order",
                                verbose_name=_("counter"))
    lane = models.ForeignKey(Lane, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("lane"))
    position = models.PositiveSmallIntegerField(
        _("order"), default=1, validators=[MinValueValidator(1), MaxValueValidator(26)])

    class Meta:
        verbose_name = _("lane of a counter")
        verbose_name_plural = _("lanes of a counter")
        ordering = ["counter_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["counter", "lane"], name="counter_lane_once"),
            models.UniqueConstraint(fields=["counter", "position"],
                                    name="counter_lane_position_once"),
        ]

    def __str__(self):
        return f"{self.position}. {self.lane}"


class TicketSource(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in (kiosk)")
    BOOKING = "booking", _("Booking check-in")


class Priority(models.TextChoices):
    ELDERLY = "elderly", _("Elderly")
    DISABLED = "disabled", _("Disability")
    PREGNANT = "pregnant", _("Pregnant")
    WITH_BABY = "with_baby", _("With a baby")


class Band(models.IntegerChoices):
    """The calling order within a lane (see queues.policy)."""

    PRIORITY = 0, _("Priority")
    BOOKING_ON_TIME = 1, _("Booking, on time")
    IN_TURN = 2, _("In turn")


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVING = "serving", _("Being served")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("No-show")


ACTIVE_STATUSES = (TicketStatus.CALLED, TicketStatus.SERVING)


class Outcome(models.TextChoices):
    SERVED = "served", _("Served")
    PARTLY_SERVED = "partly_served", _("Partly served")
    NOT_SERVED = "not_served", _("Could not be served")
    # A transfer to another lane ends the visit to this lane (history only).
    REFERRED = "referred", _("Referred to another lane")
    # The end-of-day sweep found the ticket still being served.
    UNRECORDED = "unrecorded", _("Outcome not recorded")


FINISH_OUTCOMES = (Outcome.SERVED, Outcome.PARTLY_SERVED, Outcome.NOT_SERVED)


class NotServedReason(models.TextChoices):
    MISSING_DOCUMENTS = "missing_documents", _("Documents missing")
    EXPIRED_DOCUMENTS = "expired_documents", _("Documents expired")
    WRONG_SERVICE = "wrong_service", _("Another service is needed")
    CENTRAL_LINK_DOWN = "central_link_down", _("Central server unreachable")
    EQUIPMENT = "equipment", _("Equipment out of order")
    RESIDENT_LEFT = "resident_left", _("The resident left")
    OTHER = "other", _("Other (see note)")


class CallReason(models.TextChoices):
    """Why a ticket was called: shown on the board with every call."""

    NEXT = "next", _("Next in line")
    PRIORITY = "priority", _("Priority")
    BOOKING = "booking", _("Booking, on time")
    FAIRNESS = "fairness", _("Waited longest")
    TRANSFERRED = "transferred", _("Transferred from another lane")
    RECALL = "recall", _("Called again")
    # Out of order: an operator called this ticket with one of these reasons.
    MISSED_CALL = "missed_call", _("Missed the call, back now")
    RETURNING = "returning", _("Returning with a document")
    FAMILY = "family", _("Same family as the ticket being served")
    URGENT = "urgent", _("Urgent need")
    SUPERVISOR = "supervisor", _("Supervisor's instruction")


OUT_OF_ORDER_REASONS = (CallReason.MISSED_CALL, CallReason.RETURNING, CallReason.FAMILY,
                        CallReason.URGENT, CallReason.SUPERVISOR)


class Ticket(models.Model):
    """A resident's place in a lane's queue for one day.

    `order_at` is the time the ticket is ordered by within its band: the issue time
    (kept when transferred to another lane), or the slot's start for a booking checked
    in by the end of its slot (queues.policy).
    """

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    day = models.DateField(_("day"))
    code = models.CharField(_("ticket"), max_length=5)
    number = models.PositiveSmallIntegerField(_("number"))
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("lane"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("service"))
    source = models.CharField(_("source"), max_length=8, choices=TicketSource.choices)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices,
                                blank=True)
    band = models.PositiveSmallIntegerField(_("band"), choices=Band.choices,
                                            default=Band.IN_TURN)
    order_at = models.DateTimeField(_("in order of"))
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="tickets", verbose_name=_("resident"))
    application = models.ForeignKey(Application, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="tickets",
                                    verbose_name=_("application"))
    # The booking checked in with this ticket (one ticket per booking).
    booking = models.OneToOneField("appointments.Booking", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="ticket",
                                   verbose_name=_("booking"))
    status = models.CharField(_("status"), max_length=8, choices=TicketStatus.choices,
                              default=TicketStatus.WAITING)
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="tickets", verbose_name=_("counter"))
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("operator"))
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    # When the ticket entered its current lane's queue (issue, or a transfer).
    queued_at = models.DateTimeField(_("queued in this lane"), default=timezone.now)
    first_called_at = models.DateTimeField(_("first called in this lane"), null=True,
                                           blank=True)
    called_at = models.DateTimeField(_("last called"), null=True, blank=True)
    call_reason = models.CharField(_("call reason"), max_length=16, blank=True,
                                   choices=CallReason.choices)
    call_count = models.PositiveSmallIntegerField(_("calls in this lane"), default=0)
    started_at = models.DateTimeField(_("service started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices,
                               blank=True)
    outcome_reason = models.CharField(_("why not served"), max_length=20, blank=True,
                                      choices=NotServedReason.choices)
    outcome_note = models.CharField(_("note"), max_length=300, blank=True)
    transferred_from = models.ForeignKey(Lane, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="+",
                                         verbose_name=_("transferred from"))
    ahead_told = models.BooleanField(_("told it is nearly their turn"), default=False)
    # The end-of-day sweep closes the ticket from this time on (queues.services).
    sweep_due_at = models.DateTimeField(_("closed by the end-of-day sweep from"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # A kiosk form's one-time key: a double tap returns the same ticket.
    issue_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    personal_data = PersonalData(
        data=[_("queue tickets of a resident's visits")],
        purpose=_("Serving residents at the counters in order"),
        legal_basis=PUBLIC_SERVICE,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-day", "order_at", "id"]
        permissions = [
            ("issue_ticket", _("Can issue tickets and check in bookings")),
            ("operate_counter", _("Can work at a counter")),
            ("view_queue_statistics", _("Can view queue statistics")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["office", "day", "code"],
                                    name="ticket_code_per_office_day"),
            models.UniqueConstraint(fields=["office", "issue_key"],
                                    condition=Q(issue_key__isnull=False),
                                    name="ticket_issue_key_once"),
            # A counter calls or serves one ticket at a time.
            models.UniqueConstraint(fields=["counter"],
                                    condition=Q(status__in=["called", "serving"]),
                                    name="ticket_one_active_per_counter"),
            models.CheckConstraint(
                condition=~Q(status__in=["called", "serving"]) | Q(counter__isnull=False),
                name="ticket_active_has_counter"),
            models.CheckConstraint(condition=Q(number__gte=1) & Q(number__lte=999),
                                   name="ticket_number_three_digits"),
        ]
        indexes = [
            models.Index(fields=["office", "day", "status"], name="ticket_office_day_status"),
            models.Index(fields=["lane", "status", "band", "order_at"], name="ticket_lane_order"),
            models.Index(fields=["sweep_due_at"], condition=Q(closed_at__isnull=True),
                         name="ticket_sweep_due"),
            models.Index(fields=["resident", "day"], name="ticket_resident_day"),
        ]

    def __str__(self):
        return f"{self.code} {self.day:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class TicketEventKind(models.TextChoices):
    ISSUED = "issued", _("Issued")
    CHECKED_IN = "checked_in", _("Checked in with a booking")
    CALLED = "called", _("Called")
    RECALLED = "recalled", _("Called again")
    STARTED = "started", _("Service started")
    FINISHED = "finished", _("Finished")
    TRANSFERRED = "transferred", _("Transferred")
    NO_SHOW = "no_show", _("No-show")
    IDENTIFIED = "identified", _("Resident identified")
    CLOSED = "closed", _("Closed at the end of the day")


CALL_KINDS = (TicketEventKind.CALLED, TicketEventKind.RECALLED)


class TicketEvent(models.Model):
    """One step of a ticket's history. Durations are recorded where they end, so the
    statistics and the waiting estimates read them without recomputing."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events",
                               verbose_name=_("ticket"))
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("what"), max_length=12, choices=TicketEventKind.choices)
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("lane"))
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("counter"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by staff"))
    reason = models.CharField(_("reason"), max_length=20, blank=True)
    # A call that passed over a walk-in waiting in the same lane (fairness cap).
    ahead_of_turn = models.BooleanField(_("ahead of turn"), default=False)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices,
                               blank=True)
    to_lane = models.ForeignKey(Lane, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("to lane"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    # First call of a lane visit: time waited since entering the lane's queue.
    wait_seconds = models.PositiveIntegerField(_("waited (s)"), null=True, blank=True)
    # End of a lane visit (finished, transferred): from start to end of service.
    service_seconds = models.PositiveIntegerField(_("service (s)"), null=True, blank=True)
    # End of a lane visit (also no-show): the counter's time from first call to end.
    busy_seconds = models.PositiveIntegerField(_("counter busy (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket history")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["office", "day", "kind"], name="ticket_event_day_kind"),
            models.Index(fields=["lane", "kind", "at"], name="ticket_event_lane_kind"),
        ]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.kind}"


class CounterEvent(models.Model):
    """A counter changed state (append-only, like TicketEvent): from `at` on it was in
    `state`, with `operator` at it; `actor` made the change (None: the end-of-day
    sweep). The figures per counter and operator are read from these."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="events",
                                verbose_name=_("counter"))
    day = models.DateField(_("day"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=8, choices=CounterState.choices)
    previous = models.CharField(_("previous state"), max_length=8,
                                choices=CounterState.choices, blank=True)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("operator"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by staff"))
    pause_reason = models.ForeignKey(PauseReason, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("pause reason"))
    note = models.CharField(_("note"), max_length=120, blank=True)
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("ticket"))

    class Meta:
        verbose_name = _("counter event")
        verbose_name_plural = _("counter history")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["office", "day"], name="counter_event_office_day"),
            models.Index(fields=["counter", "at"], name="counter_event_counter_at"),
        ]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.counter_id} {self.state}"


class CounterAlertKind(models.TextChoices):
    IDLE = "idle", _("Idle while people wait")
    PAUSED_LONG = "paused_long", _("Paused longer than allowed while people wait")


class CounterAlertEnd(models.TextChoices):
    CALLED = "called", _("The counter called a ticket")
    CLOSED = "closed", _("The counter was closed")
    NOBODY_WAITING = "nobody_waiting", _("Nobody is waiting any more")
    END_OF_DAY = "end_of_day", _("End of the day")


class CounterAlert(models.Model):
    """One episode of a counter idle (or paused past its reason's minutes) while people
    waited in its lanes, raised to the office's supervisors once, closed automatically
    (`ended_by`). At most one open episode per counter."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="alerts",
                                verbose_name=_("counter"))
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=12, choices=CounterAlertKind.choices)
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("operator"))
    pause_reason = models.ForeignKey(PauseReason, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("pause reason"))
    # When the counter began to leave people waiting (idle since, or the pause's
    # allowed minutes ran out, and someone was waiting).
    since = models.DateTimeField(_("since"))
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    waiting = models.PositiveSmallIntegerField(_("people waiting when raised"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    ended_by = models.CharField(_("ended by"), max_length=16, choices=CounterAlertEnd.choices,
                                blank=True)

    class Meta:
        verbose_name = _("idle counter alert")
        verbose_name_plural = _("idle counter alerts")
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["counter"], condition=Q(closed_at__isnull=True),
                                    name="counter_alert_one_open"),
        ]
        indexes = [
            models.Index(fields=["office", "day"], name="counter_alert_office_day"),
        ]

    def __str__(self):
        return f"{self.counter} {self.raised_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class LaneQuota(models.Model):
    """An optional cap on the walk-in tickets of a lane per day (bookings not
    counted, never refused)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("office"))
    lane = models.OneToOneField(Lane, on_delete=models.CASCADE, related_name="quota",
                                verbose_name=_("lane"))
    daily_walk_ins = models.PositiveSmallIntegerField(
        _("walk-in tickets per day"), validators=[MinValueValidator(1),
                                                  MaxValueValidator(999)])

    class Meta:
        verbose_name = _("daily walk-in quota")
        verbose_name_plural = _("daily walk-in quotas")
        ordering = ["office", "lane__letter"]

    def __str__(self):
        return f"{self.lane}: {self.daily_walk_ins}"
