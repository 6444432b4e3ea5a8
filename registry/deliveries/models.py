"""Hand-over of printed cards: the resident's choice (pick-up by the holder or a proxy,
home delivery), the pick-up at the counter, and home deliveries with their attempts
and proof."""

import uuid
from datetime import time

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.central.models import Card
from registry.encryption import EncryptedCharField
from registry.models import Application, Office, Role
from registry.processing import ADMINDUK, PUBLIC_SERVICE, PersonalData


class DeliverySettings(models.Model):
    """How an office runs hand-over and home delivery."""

    office = models.OneToOneField(
        Office, on_delete=models.CASCADE, related_name="delivery_settings",
        verbose_name=_("office"),
    )
    max_per_courier = models.PositiveSmallIntegerField(
        _("deliveries per courier a day"), default=40,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
    )
    max_failed_attempts = models.PositiveSmallIntegerField(
        _("failed attempts before pick-up"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("After this many failed deliveries the card waits at the office."),
    )
    dispatch_time = models.TimeField(
        _("dispatch time"), default=time(7, 0),
        help_text=_("Each working day's deliveries are assigned at this time (office time)."),
    )

    class Meta:
        verbose_name = _("delivery settings")
        verbose_name_plural = _("delivery settings")

    def __str__(self):
        return str(self.office)


class HandoverMethod(models.TextChoices):
    PICKUP = "pickup", _("Pick-up by the holder")
    PROXY = "proxy", _("Pick-up by a proxy")
    DELIVERY = "delivery", _("Home delivery")


class Relation(models.TextChoices):
    """Who received a card, relative to its holder."""

    SELF = "self", _("The holder")
    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    OTHER_FAMILY = "other_family", _("Other family")


PROXY_RELATIONS = [choice for choice in Relation.choices if choice[0] != Relation.SELF]


class Handover(models.Model):
    """How an application's card reaches the resident, and who finally received it."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="handover",
        verbose_name=_("application"),
    )
    card = models.OneToOneField(Card, on_delete=models.PROTECT, related_name="handover",
                                verbose_name=_("card"))
    method = models.CharField(_("method"), max_length=16, choices=HandoverMethod.choices,
                              default=HandoverMethod.PICKUP)
    proxy_name = models.CharField(_("proxy's name"), max_length=120, blank=True)
    # Encrypted at rest (registry.encryption); read only with their hand-over.
    proxy_nik = EncryptedCharField(_("proxy's NIK"), max_length=16, blank=True,
                                   normalizer="nik")
    proxy_relation = models.CharField(_("proxy's relation"), max_length=16, blank=True,
                                      choices=PROXY_RELATIONS)
    chosen_at = models.DateTimeField(_("chosen at"), null=True, blank=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("chosen at the desk by"),
    )
    completed_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    collected_by_name = models.CharField(_("received by"), max_length=120, blank=True)
    collected_by_nik = EncryptedCharField(_("receiver's NIK"), max_length=16, blank=True,
                                          normalizer="nik")
    collected_relation = models.CharField(_("receiver's relation"), max_length=16, blank=True,
                                          choices=Relation.choices)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("handed over by"),
    )
    fingerprint_verified = models.BooleanField(_("fingerprint matched"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    personal_data = PersonalData(
        data=[_("the proxy's name and NIK"), _("the receiver's name, NIK and relation")],
        purpose=_("Proof that the card reached its holder or an authorised proxy"),
        legal_basis=ADMINDUK,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
        fields=("application", "proxy_name", "proxy_nik", "proxy_relation", "collected_by_name",
                "collected_by_nik", "collected_relation"),
    )

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(method="proxy") | ~Q(proxy_nik=""), name="handover_proxy_named"),
        ]

    def __str__(self):
        return f"{self.application_id} {self.get_method_display()}"


class DeliveryStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for dispatch")
    ASSIGNED = "assigned", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    RETURNED = "returned", _("Returned to pick-up at the office")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_DELIVERY_STATUSES = (DeliveryStatus.WAITING, DeliveryStatus.ASSIGNED)


class Delivery(models.Model):
    """The home delivery of a printed card. Created when a printed card is to be
    delivered; dispatched each working morning; attempted until delivered or returned."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="deliveries",
        verbose_name=_("application"),
    )
    handover = models.ForeignKey(Handover, on_delete=models.PROTECT, related_name="deliveries",
                                 verbose_name=_("hand-over"))
    status = models.CharField(_("status"), max_length=16, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.WAITING)
    # Waiting deliveries are dispatched oldest first when couriers are short.
    waiting_since = models.DateTimeField(_("waiting since"), default=timezone.now)
    not_before = models.DateField(_("not before"), null=True, blank=True)
    scheduled_for = models.DateField(_("scheduled for"), null=True, blank=True)
    courier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="deliveries", verbose_name=_("courier"),
    )
    route_position = models.PositiveIntegerField(_("stop"), null=True, blank=True)
    # The resident was told the card comes on this day.
    notified_for = models.DateField(_("resident told for"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255)
    kecamatan = models.CharField(_("kecamatan"), max_length=80, blank=True)
    kelurahan = models.CharField(_("kelurahan/desa"), max_length=80, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    recipient_name = models.CharField(_("recipient"), max_length=120, blank=True)
    recipient_relation = models.CharField(_("recipient's relation"), max_length=16, blank=True,
                                          choices=Relation.choices)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("reopened by"),
    )
    reopen_reason = models.CharField(_("reason for reopening"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    personal_data = PersonalData(
        data=[_("delivery address"), _("location of the home"),
              _("the recipient's name and relation")],
        purpose=_("Delivering printed cards to residents' homes"),
        legal_basis=PUBLIC_SERVICE,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR,
               Role.COURIER],
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(status__in=["waiting", "assigned"]),
                name="delivery_one_active_per_application"),
            models.CheckConstraint(
                condition=~Q(status="assigned") | (Q(courier__isnull=False)
                                                   & Q(scheduled_for__isnull=False)),
                name="delivery_assigned_has_courier"),
        ]
        indexes = [
            models.Index(fields=["office", "status", "not_before"], name="delivery_dispatchable"),
            models.Index(fields=["courier", "scheduled_for"], name="delivery_route"),
            models.Index(fields=["office", "scheduled_for"], name="delivery_office_day"),
        ]

    def __str__(self):
        return f"{self.application_id} {self.get_status_display()}"


class FailReason(models.TextChoices):
    NOBODY_HOME = "nobody_home", _("Nobody home")
    ADDRESS_NOT_FOUND = "address_not_found", _("Address not found")
    REFUSED = "refused", _("Refused")
    NO_RECEIPT = "no_receipt", _("No receipt code")


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


def _photo_path(instance, filename):
    # The name is ours, never the uploader's: no path tricks, nothing guessable.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    day = timezone.now().strftime("%Y/%m/%d")
    return f"deliveries/{instance.office_id}/{day}/{uuid.uuid4().hex}.{extension}"


class DeliveryAttempt(models.Model):
    """One visit of a courier to the address, with its proof or its reason."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts",
                                 verbose_name=_("delivery"))
    number = models.PositiveSmallIntegerField(_("attempt"))
    courier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("courier"),
    )
    scheduled_for = models.DateField(_("scheduled for"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=AttemptOutcome.choices)
    reason = models.CharField(_("reason"), max_length=24, choices=FailReason.choices,
                              blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recipient_name = models.CharField(_("recipient"), max_length=120, blank=True)
    recipient_relation = models.CharField(_("recipient's relation"), max_length=16, blank=True,
                                          choices=Relation.choices)
    photo = models.FileField(_("photo"), upload_to=_photo_path, blank=True)
    # When the retention sweep deleted the photo (settings.RETENTION "delivery_photos"):
    # the attempt stays, the proof that there was a photo with it.
    photo_removed_at = models.DateTimeField(_("photo removed at"), null=True, blank=True,
                                            editable=False)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True)

    personal_data = PersonalData(
        data=[_("photo of the hand-over"), _("place of the hand-over"),
              _("the recipient's name and relation")],
        purpose=_("Proof of delivery"),
        legal_basis=PUBLIC_SERVICE,
        retention="delivery_photos",
        roles=[Role.OFFICE_ADMIN, Role.SUPERVISOR, Role.PUBLIC_RELATIONS,
               Role.PROVINCIAL_SUPERVISOR,
               Role.COURIER],
    )

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"],
                                    name="delivery_attempt_number"),
        ]

    def __str__(self):
        return f"{self.delivery_id} #{self.number} {self.outcome}"


class CourierAbsence(models.Model):
    """A day a courier is not on duty (leave, sickness, other work)."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office")
    )
    courier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("courier"),
    )
    day = models.DateField(_("day"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("courier absence")
        verbose_name_plural = _("courier absences")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["office", "courier", "day"],
                                    name="courier_absent_once_a_day"),
        ]

    def __str__(self):
        return f"{self.courier} {self.day}"


class DispatchRun(models.Model):
    """One day's dispatch at an office; its existence makes the morning run once."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office")
    )
    day = models.DateField(_("day"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    couriers = models.PositiveIntegerField(_("couriers on duty"), default=0)
    assigned = models.PositiveIntegerField(_("deliveries assigned"), default=0)
    left_waiting = models.PositiveIntegerField(_("left waiting"), default=0)
    runs = models.PositiveIntegerField(_("runs"), default=0)

    class Meta:
        verbose_name = _("dispatch run")
        verbose_name_plural = _("dispatch runs")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["office", "day"], name="dispatch_once_a_day"),
        ]

    def __str__(self):
        return f"{self.office.code} {self.day}"
