"""The central-server link, transmissions and card printing.

Data changes and card print requests go through the ministry's central server over
each office's own link. The link's outages are recorded; the work waiting on it is a
CentralJob row (an outbox) that a Celery task sends and the sweep retries. The tables
keep the names they were made with when these models were part of the registry core.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import Application, Office, Role
from registry.processing import ADMINDUK, PersonalData


class CentralLink(models.Model):
    """What the health check last saw of an office's link to the central server."""

    office = models.OneToOneField(
        Office, on_delete=models.CASCADE, related_name="central_link", verbose_name=_("office")
    )
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    last_ok_at = models.DateTimeField(_("last answered"), null=True, blank=True)
    # The first failure of the current run of failures: an outage starts there.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        db_table = "registry_centrallink"  # made in registry's migrations
        verbose_name = _("central link")
        verbose_name_plural = _("central links")

    def __str__(self):
        return f"{self.office.code}"


class OutageDetection(models.TextChoices):
    HEALTH_CHECK = "health_check", _("Health check")
    SEND_FAILURE = "send_failure", _("Failed transmission")
    STAFF = "staff", _("Declared by staff")


class CentralOutage(models.Model):
    """A period in which an office could not reach the central server."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="central_outages",
        verbose_name=_("office"),
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    detection = models.CharField(_("detected by"), max_length=16,
                                 choices=OutageDetection.choices)
    # What went wrong, in technical terms (an error, or what staff were told).
    cause = models.CharField(_("cause"), max_length=300, blank=True)
    # What residents read; empty for the standard message.
    message = models.TextField(_("message to residents"), blank=True)
    expected_back = models.DateTimeField(_("expected back"), null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("declared by"),
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("ended by"),
    )
    end_detection = models.CharField(_("end detected by"), max_length=16, blank=True,
                                     choices=OutageDetection.choices)
    residents_told = models.PositiveIntegerField(_("residents told"), default=0)

    class Meta:
        db_table = "registry_centraloutage"  # made in registry's migrations
        verbose_name = _("central-link outage")
        verbose_name_plural = _("central-link outages")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["office"], condition=Q(ended_at__isnull=True),
                                    name="central_outage_one_open_per_office"),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="central_outage_ends_after_start"),
        ]

    def __str__(self):
        if self.started_at is None:
            return f"{self.office_id}"
        return f"{self.office_id} {self.started_at:%Y-%m-%d %H:%M}"


class CentralJobKind(models.TextChoices):
    DATA_CHANGE = "data_change", _("Data change")
    CARD_PRINT = "card_print", _("Card print")


class CentralJobStatus(models.TextChoices):
    BLOCKED = "blocked", _("Waiting for the previous step")
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    WAITING_STOCK = "waiting_stock", _("Waiting for blank cards")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected by the central server")


CENTRAL_JOB_OPEN_STATUSES = (
    CentralJobStatus.BLOCKED, CentralJobStatus.PENDING, CentralJobStatus.SENDING,
    CentralJobStatus.WAITING_STOCK,
)


class CentralJob(models.Model):
    """One piece of work for the central server on an application.

    `key` is the job's id at the central server, which deduplicates by it: a job sent
    again after a crash is done once. Jobs are created in the transaction of the change
    that needs them; the send task is only a nudge, the sweep retries what is due.
    """

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="central_jobs",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CentralJobKind.choices)
    key = models.UUIDField(_("job id"), unique=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=CentralJobStatus.choices,
                              default=CentralJobStatus.PENDING)
    # A card is printed only after the data change it shows was accepted.
    after = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="followers",
        verbose_name=_("after"),
    )
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # While SENDING: past this time the sender is presumed dead and the job is due again.
    lease_until = models.DateTimeField(_("sending until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    central_ref = models.CharField(_("central reference"), max_length=120, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    # The outage whose wait is already on the timeline, so it is written once.
    noted_outage = models.ForeignKey(
        CentralOutage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )

    personal_data = PersonalData(
        data=[_("a resident's data sent to the ministry's central server")],
        purpose=_("Recording data changes and printing cards through the central server (SIAK)"),
        legal_basis=ADMINDUK,
        roles=[Role.OFFICE_ADMIN, Role.COUNTER_OPERATOR, Role.SUPERVISOR, Role.PUBLIC_RELATIONS,
               Role.PROVINCIAL_SUPERVISOR],
        fields=("application", "payload"),
    )

    class Meta:
        db_table = "registry_centraljob"  # made in registry's migrations
        verbose_name = _("central job")
        verbose_name_plural = _("central jobs")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "kind"],
                                    name="central_job_once_per_application"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="central_job_due"),
            models.Index(fields=["office", "status"], name="central_job_office_status"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.key}"


class AttemptOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    LINK_DOWN = "link_down", _("Link down")
    REJECTED = "rejected", _("Rejected")
    ABANDONED = "abandoned", _("No answer recorded (the sender stopped)")


class CentralJobAttempt(models.Model):
    """One send of a job to the central server, successful or not."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    job = models.ForeignKey(CentralJob, on_delete=models.CASCADE, related_name="sends",
                            verbose_name=_("job"))
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AttemptOutcome.choices,
                               blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    central_ref = models.CharField(_("central reference"), max_length=120, blank=True)

    class Meta:
        db_table = "registry_centraljobattempt"  # made in registry's migrations
        verbose_name = _("central job attempt")
        verbose_name_plural = _("central job attempts")
        ordering = ["job_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="central_attempt_number"),
        ]

    def __str__(self):
        return f"{self.job_id} #{self.number}"


class CardStock(models.Model):
    """An office's blank KTP-el cards. Printing takes one; staff record deliveries."""

    office = models.OneToOneField(
        Office, on_delete=models.CASCADE, related_name="card_stock", verbose_name=_("office")
    )
    on_hand = models.IntegerField(_("blank cards in stock"), default=0)
    alert_below = models.PositiveIntegerField(
        _("alert below"), default=50,
        help_text=_("Supervisors are alerted when the stock falls below this number."),
    )
    # Set when the low-stock alert went out; cleared when stock is received.
    low_alert_sent_at = models.DateTimeField(_("low-stock alert sent"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        db_table = "registry_cardstock"  # made in registry's migrations
        verbose_name = _("blank card stock")
        verbose_name_plural = _("blank card stock")
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="card_stock_not_negative"),
        ]

    def __str__(self):
        return f"{self.office.code}: {self.on_hand}"


class StockMovementReason(models.TextChoices):
    RECEIVED = "received", _("Blank cards received")
    PRINTED = "printed", _("Used for a print")
    PRINT_FAILED = "print_failed", _("Returned after a failed print")
    CORRECTION = "correction", _("Count corrected")


class CardStockMovement(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    change = models.IntegerField(_("change"))
    balance = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=16, choices=StockMovementReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    job = models.ForeignKey(CentralJob, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+", verbose_name=_("job"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("by staff"),
    )

    class Meta:
        db_table = "registry_cardstockmovement"  # made in registry's migrations
        verbose_name = _("card stock movement")
        verbose_name_plural = _("card stock movements")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.change:+d}"


class Card(models.Model):
    """The card an application produces. The receipt code exists from the visit (it is
    on the resident's receipt) and is asked for when the card is handed over."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="card",
        verbose_name=_("application"),
    )
    print_job = models.OneToOneField(
        CentralJob, on_delete=models.PROTECT, related_name="card", verbose_name=_("print job"),
    )
    receipt_code = models.CharField(_("receipt code"), max_length=9)
    printed_at = models.DateTimeField(_("printed"), null=True, blank=True)

    personal_data = PersonalData(
        data=[_("the printed card and its receipt code")],
        purpose=_("Handing the printed card to its holder"),
        legal_basis=ADMINDUK,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
        fields=("application", "receipt_code"),
    )

    class Meta:
        db_table = "registry_card"  # made in registry's migrations
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "receipt_code"],
                                    name="card_receipt_code_per_office"),
        ]

    def __str__(self):
        return f"{self.application_id} {self.masked_receipt_code}"

    @property
    def masked_receipt_code(self) -> str:
        return "****-**" + self.receipt_code[-2:]
