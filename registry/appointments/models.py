"""Slots, bookings and the documents residents attach to them.

A slot is a period of one lane on one working day with a capacity; slots are made
ahead for each office's booking window (services.slots_ensure). A booking takes one
place of one slot; the slot's `booked` counter is changed only by a conditional UPDATE,
and a check constraint keeps it within the capacity whatever happens.
"""

from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.encryption import (
    EncryptedCharField,
    EncryptedModelMixin,
    EncryptedQuerySet,
    LookupHashField,
)
from registry.models import Application, Lane, Office, Requirement, Resident, Role, Service
from registry.processing import ADMINDUK, PUBLIC_SERVICE, PersonalData


class AppointmentSettings(models.Model):
    """How an office takes bookings. Every office has one (made with defaults when
    first read, registry.services.offices.office_settings_get)."""

    office = models.OneToOneField(
        Office, on_delete=models.CASCADE, related_name="appointment_settings",
        verbose_name=_("office"),
    )
    booking_window_days = models.PositiveSmallIntegerField(
        _("booking window (days)"), default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("How many days ahead residents may book."),
    )
    same_day_until = models.TimeField(
        _("same-day booking until"), null=True, blank=True, default=time(10, 0),
        help_text=_("Until this hour residents may still book today's later slots; empty "
                    "when bookings start from tomorrow."),
    )
    change_cutoff_hours = models.PositiveSmallIntegerField(
        _("cancel or reschedule up to (hours before)"), default=2,
        validators=[MaxValueValidator(168)],
    )
    rebook_days = models.PositiveSmallIntegerField(
        _("days to re-book after a missed visit"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("After a missed visit the application stays open this many days for "
                    "a new booking, then lapses."),
    )
    reminder_day_before_at = models.TimeField(
        _("day-before reminder at"), default=time(16, 0))
    reminder_morning_at = models.TimeField(_("morning reminder at"), default=time(6, 0))

    class Meta:
        verbose_name = _("appointment settings")
        verbose_name_plural = _("appointment settings")

    def __str__(self):
        return str(self.office)


class LaneSchedule(models.Model):
    """The slot length and the places per slot of one lane, over the working hours."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office"))
    lane = models.OneToOneField(
        Lane, on_delete=models.CASCADE, related_name="schedule", verbose_name=_("lane"))
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"), default=30,
        validators=[MinValueValidator(5), MaxValueValidator(240)])
    capacity = models.PositiveSmallIntegerField(
        _("places per slot"), default=4, validators=[MaxValueValidator(500)],
        help_text=_("0 takes no bookings in this lane (walk-ins only)."))

    class Meta:
        verbose_name = _("lane schedule")
        verbose_name_plural = _("lane schedules")
        ordering = ["lane__letter"]

    def __str__(self):
        return f"{self.lane} · {self.slot_minutes} min x {self.capacity}"


class Slot(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office"))
    lane = models.ForeignKey(
        Lane, on_delete=models.CASCADE, related_name="slots", verbose_name=_("lane"))
    date = models.DateField(_("date"))
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))
    # The same moments in UTC, for sweeps and comparisons across time zones.
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("places"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)
    # Closed by a closure declared after the slot was made: nobody books it again.
    is_closed = models.BooleanField(_("closed"), default=False)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        ordering = ["date", "start", "lane__letter"]
        constraints = [
            models.UniqueConstraint(fields=["lane", "date", "start"], name="slot_per_lane_start"),
            models.CheckConstraint(condition=Q(booked__lte=F("capacity")),
                                   name="slot_not_overbooked"),
        ]
        indexes = [models.Index(fields=["office", "date", "lane"])]

    def __str__(self):
        return f"{self.date} {self.start:%H:%M}-{self.end:%H:%M} {self.lane.letter}"

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.booked, 0)


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CHECKED_IN = "checked_in", _("Checked in")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


ACTIVE_BOOKING_STATUSES = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)


class BookingChannel(models.TextChoices):
    APP = "app", _("Mobile app")
    ASSISTED = "assisted", _("Assisted by staff")
    SMS = "sms", _("SMS reply")


class Booking(models.Model):
    # Indexes are few on purpose: the expiry sweep rewrites the status of every booking
    # of a day, and each index is written again. Office and resident are led by the
    # composite indexes below; the staff columns are only read with their booking.
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("office"),
        db_index=False)
    code = models.CharField(_("booking code"), max_length=8)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("resident"),
        db_index=False)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("service"))
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="bookings",
        verbose_name=_("application"))
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot"))
    # The slot's day and the end of that day in the office's zone, copied from the slot:
    # the expiry sweep reads its due time from the row itself.
    day = models.DateField(_("date"))
    expires_at = models.DateTimeField(_("expires at"))
    status = models.CharField(_("status"), max_length=16, choices=BookingStatus.choices,
                              default=BookingStatus.BOOKED)
    channel = models.CharField(_("channel"), max_length=16, choices=BookingChannel.choices,
                               default=BookingChannel.APP)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("booked by staff"), db_index=False)
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("cancelled by staff"), db_index=False)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)
    # When each reminder went out; the reminder sweep sends a reminder once.
    reminded_day_before_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_morning_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Which run of the expiry sweep took the row (services.bookings_expire_due).
    sweep_token = models.CharField(max_length=32, blank=True, editable=False)

    personal_data = PersonalData(
        data=[_("appointments booked by or for a resident")],
        purpose=_("Booking visits, so that one visit succeeds"),
        legal_basis=PUBLIC_SERVICE,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-day", "slot__start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="booking_code_unique"),
            models.UniqueConstraint(
                fields=["resident", "service"], condition=Q(status__in=["booked", "checked_in"]),
                name="one_active_booking_per_service"),
        ]
        indexes = [
            models.Index(fields=["office", "day", "status"]),
            # The expiry sweep's due rows; only booked ones are in it, so expiring a
            # booking takes it out instead of adding an entry.
            models.Index(fields=["office", "expires_at"], condition=Q(status="booked"),
                         name="booking_due"),
            models.Index(fields=["resident", "status"]),
            models.Index(fields=["sweep_token"], name="booking_sweep_token"),
        ]

    def __str__(self):
        return self.code

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_BOOKING_STATUSES


class DocumentReview(models.TextChoices):
    NOT_SENT = "not_sent", _("No file sent")
    PENDING = "pending", _("Awaiting review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


def document_upload_to(instance, filename: str) -> str:
    # The name the resident gave is not kept: it may carry personal data.
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    return (f"bookings/{instance.office_id}/{instance.booking_id}/"
            f"{instance.requirement_id}-{timezone.now():%Y%m%d%H%M%S}."
            f"{extension.get(instance.content_type, 'bin')}")


class BookingDocument(models.Model):
    """One requirement of a booking: the date of issue the resident stated, the file
    they may have sent, and the front desk's review of it."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office"))
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="documents", verbose_name=_("booking"))
    requirement = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("requirement"))
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to=document_upload_to, blank=True)
    # When the retention sweep deleted the file (settings.RETENTION "documents"): the
    # row stays with the case, the file is gone.
    file_removed_at = models.DateTimeField(_("file removed at"), null=True, blank=True,
                                           editable=False)
    content_type = models.CharField(_("file type"), max_length=40, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    review = models.CharField(_("review"), max_length=16, choices=DocumentReview.choices,
                              default=DocumentReview.NOT_SENT)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason for rejecting"), max_length=300, blank=True)

    personal_data = PersonalData(
        data=[_("scans of documents (family card, certificates, letters)")],
        purpose=_("Checking the requirements before the visit"),
        legal_basis=ADMINDUK,
        retention="documents",
        retention_note=_("after the application closes"),
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("booking document")
        verbose_name_plural = _("booking documents")
        ordering = ["booking_id", "requirement__position", "requirement__code"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "requirement"],
                                    name="one_document_per_requirement"),
        ]
        indexes = [models.Index(fields=["office", "review"])]

    def __str__(self):
        return f"{self.booking.code} · {self.requirement.name}"


class SmsOfferStatus(models.TextChoices):
    OPEN = "open", _("Open")
    BOOKED = "booked", _("Booked")
    # Answered when both times were taken: a new offer replaced it.
    REPLACED = "replaced", _("Replaced by a newer offer")
    EMPTY = "empty", _("No free time to offer")


class SmsOffer(EncryptedModelMixin, models.Model):
    """Free times offered by SMS to a resident without the app, after their booking
    expired or was cancelled: they reply 1 or 2 from their bound phone to book one
    (registry.appointments.services.sms_replies). The slots are kept in the order
    offered: reply n books the n-th."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office"))
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="sms_offers",
        verbose_name=_("resident"))
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="sms_offers",
        verbose_name=_("application"))
    # The booking that ended and made the offer (expired, cancelled): at most one offer
    # each, so a sweep or task run twice offers once. Empty for a re-offer after a
    # reply found both times taken.
    source_booking = models.OneToOneField(
        Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="sms_offer",
        verbose_name=_("ended booking"))
    slot_ids = models.JSONField(_("offered slots"), default=list)
    # Encrypted at rest; a reply finds its offer by the keyed hash (registry.encryption).
    phone = EncryptedCharField(_("sent to"), max_length=20, hash_field="phone_hash",
                               normalizer="phone")
    phone_hash = LookupHashField(source="phone", db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("booking made"))
    status = models.CharField(_("status"), max_length=16, choices=SmsOfferStatus.choices,
                              default=SmsOfferStatus.OPEN)

    objects = EncryptedQuerySet.as_manager()
    personal_data = PersonalData(
        data=[_("phone"), _("times offered by SMS")],
        purpose=_("Re-booking by SMS for residents without a smartphone"),
        legal_basis=PUBLIC_SERVICE,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR,
               Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("SMS offer")
        verbose_name_plural = _("SMS offers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["resident", "status", "expires_at"])]

    def __str__(self):
        return f"{self.resident_id} {self.created_at:%Y-%m-%d %H:%M}"


class SmsInboundOutcome(models.TextChoices):
    BOOKED = "booked", _("Booked")
    SLOT_TAKEN = "slot_taken", _("Time taken; offered again")
    REFUSED = "refused", _("Refused by the booking rules")
    UNKNOWN_TEXT = "unknown_text", _("Not understood; help sent")
    NO_OFFER = "no_offer", _("No open offer; the office's contact sent")
    UNKNOWN_SENDER = "unknown_sender", _("No resident with this bound phone")
    COMMAND = "command", _("A command (e.g. ANTAR) answered")


class SmsInbound(models.Model):
    """One SMS received through the gateway's webhook, once per gateway id: a repeat
    of the id answers with this row's outcome and changes nothing."""

    gateway_id = models.CharField(_("gateway id"), max_length=64, unique=True)
    # Known once the sender is a resident with an offer; a stranger's SMS belongs to
    # no office.
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("office"))
    # Encrypted at rest: the phone is found through the residents' phone hashes.
    sender = EncryptedCharField(_("from"), max_length=32, normalizer="phone")
    text = models.CharField(_("text"), max_length=480, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16,
                               choices=SmsInboundOutcome.choices)
    resident = models.ForeignKey(
        Resident, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("resident"))
    offer = models.ForeignKey(
        SmsOffer, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies",
        verbose_name=_("offer"))
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("booking made"))

    personal_data = PersonalData(
        data=[_("the sender's phone number"), _("the text of the SMS")],
        purpose=_("Answering residents' SMS commands"),
        legal_basis=PUBLIC_SERVICE,
        retention="notification_bodies",
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR,
               Role.PROVINCIAL_SUPERVISOR],
        fields=("sender", "text", "resident"),
    )

    class Meta:
        verbose_name = _("SMS received")
        verbose_name_plural = _("SMS received")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return self.gateway_id
