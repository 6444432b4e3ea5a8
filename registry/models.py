"""The civil-registry core: offices (tenants), staff roles, residents, the service
catalogue, case files with their timeline, notifications."""

from datetime import time, timedelta

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.encryption import (
    EncryptedCharField,
    EncryptedModelMixin,
    EncryptedQuerySet,
    Last4Field,
    LookupHashField,
    lookup_hash,
)
from registry.nik import mask_nik
from registry.processing import ADMINDUK, BREACH_DUTY, PUBLIC_SERVICE, SECURITY, PersonalData


class TimeZone(models.TextChoices):
    WIB = "Asia/Jakarta", _("WIB (Asia/Jakarta)")
    WITA = "Asia/Makassar", _("WITA (Asia/Makassar)")
    WIT = "Asia/Jayapura", _("WIT (Asia/Jayapura)")


class Office(models.Model):
    """A Disdukcapil office: the tenant every office-owned row points at."""

    code = models.CharField(
        _("region code"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("A region code is four digits."))],
        help_text=_("Kemendagri regency/city code, e.g. 3275 for Kota Bekasi."),
    )
    name = models.CharField(_("name"), max_length=120)
    timezone = models.CharField(
        _("time zone"), max_length=32, choices=TimeZone.choices, default=TimeZone.WIB
    )
    address = models.TextField(_("address"), blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    website = models.URLField(_("website"), blank=True)
    instagram = models.CharField(_("Instagram"), max_length=100, blank=True)
    facebook = models.CharField(_("Facebook"), max_length=100, blank=True)
    x_account = models.CharField(_("X (Twitter)"), max_length=100, blank=True)
    youtube = models.CharField(_("YouTube"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    whatsapp = models.CharField(_("WhatsApp centre"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("office")
        verbose_name_plural = _("offices")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def province_code(self) -> str:
        return self.code[:2]

    def contacts(self) -> dict:
        return {
            "website": self.website,
            "instagram": self.instagram,
            "facebook": self.facebook,
            "x": self.x_account,
            "youtube": self.youtube,
            "email": self.email,
            "whatsapp": self.whatsapp,
        }


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


DEFAULT_OPENS = time(8, 0)
DEFAULT_CLOSES = time(15, 0)


class WorkingHours(models.Model):
    """The office's weekly pattern: a weekday without a row is a closed day."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("office")
    )
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"), default=DEFAULT_OPENS)
    closes = models.TimeField(_("closes"), default=DEFAULT_CLOSES)

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["office", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["office", "weekday"], name="working_hours_once_a_day"),
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")),
                                   name="working_hours_open_before_close"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Closure(models.Model):
    """A day the office is closed besides weekends and national holidays."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="closures", verbose_name=_("office")
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(_("entered at"), default=timezone.now)

    class Meta:
        verbose_name = _("office closure")
        verbose_name_plural = _("office closures")
        ordering = ["office", "date"]
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="closure_once_a_day"),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.reason}"


class Role(models.TextChoices):
    """Staff roles. Each is a Django group holding that role's permissions."""

    OFFICE_ADMIN = "office_admin", _("Office administrator")
    FRONT_DESK = "front_desk", _("Front desk")
    COUNTER_OPERATOR = "counter_operator", _("Counter operator")
    SUPERVISOR = "supervisor", _("Supervisor")
    COURIER = "courier", _("Courier")
    PUBLIC_RELATIONS = "public_relations", _("Public relations")
    PROVINCIAL_SUPERVISOR = "provincial_supervisor", _("Provincial supervisor")


class StaffMembership(models.Model):
    """A staff member's role in one office. A user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("user"),
    )
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("office")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        ordering = ["office", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "office", "role"], name="membership_role_once_per_office"
            ),
        ]

    def __str__(self):
        return f"{self.user} - {self.get_role_display()} ({self.office.code})"


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class PhoneType(models.TextChoices):
    """What the resident can receive messages on; chosen at the desk or in the app."""

    SMARTPHONE = "smartphone", _("Smartphone (e-Open app, WhatsApp)")
    FEATURE_PHONE = "feature_phone", _("Feature phone (SMS only)")
    NONE = "none", _("No phone (printed slip and the desk)")


class ResidentQuerySet(EncryptedQuerySet):
    def with_nik(self, nik: str):
        """The resident with this NIK, by its keyed hash (the NIK itself is encrypted)."""
        return self.filter(nik_hash=lookup_hash(nik, normalizer="nik")) if nik else self.none()

    def with_phone(self, phone: str):
        """Residents with this phone number, in any spelling (0812..., +62812...)."""
        return (self.filter(phone_hash=lookup_hash(phone, normalizer="phone")) if phone
                else self.none())


class Resident(EncryptedModelMixin, models.Model):
    """A resident, identified by NIK. Residents are national, not owned by one office:
    staff see those domiciled in their office or with a case file there.

    The NIK and phone are encrypted at rest (registry.encryption): exact lookups and the
    NIK's uniqueness go through their keyed hashes, a partial search through the NIK's
    last four digits."""

    nik = EncryptedCharField(_("NIK"), max_length=16, hash_field="nik_hash", normalizer="nik")
    nik_hash = LookupHashField(source="nik", unique=True)
    nik_last4 = Last4Field(source="nik", db_index=True)
    name = models.CharField(_("name"), max_length=120)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, hash_field="phone_hash",
                               normalizer="phone")
    phone_hash = LookupHashField(source="phone", db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("domicile address"), max_length=255, blank=True)
    kelurahan = models.CharField(_("kelurahan/desa"), max_length=80, blank=True)
    kecamatan = models.CharField(_("kecamatan"), max_length=80, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    domicile_office = models.ForeignKey(
        Office, on_delete=models.PROTECT, null=True, blank=True, related_name="residents",
        verbose_name=_("domicile office"),
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="id"
    )
    # A feature-phone resident is told by SMS, and every message gives an action by SMS
    # (reply 1 or 2) where a smartphone user would be sent to the app; a resident with
    # no phone is told on the printed slip and at the desk.
    phone_type = models.CharField(
        _("phone type"), max_length=16, choices=PhoneType.choices,
        default=PhoneType.SMARTPHONE,
    )
    # The date in the NIK disagrees with the birth date given. The NIK is kept (it is
    # never reissued to correct a date); staff verify the documents at the visit.
    nik_needs_review = models.BooleanField(_("NIK needs verification"), default=False)
    nik_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("NIK verified by"),
    )
    nik_reviewed_at = models.DateTimeField(_("NIK verified at"), null=True, blank=True)
    # Set when the resident first signs in to the app: they can receive push messages.
    app_registered_at = models.DateTimeField(_("uses the app since"), null=True, blank=True)
    # The phone receives sign-in codes only once it is bound: by a code sent to it and
    # confirmed at the desk, by a single-use activation code from the desk, or by the
    # first sign-in of a self-registered resident. A phone typed in by staff is only a
    # contact number until then. A NIK alone never binds a phone.
    phone_bound_at = models.DateTimeField(_("phone bound at"), null=True, blank=True)
    # Staff saw the resident's KTP-el (or KK). A self-registered resident is not
    # verified until the desk checks the card at the first visit.
    identity_verified_at = models.DateTimeField(_("identity verified at"), null=True,
                                                blank=True)
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("identity verified by"),
    )
    # Every token carries the generation it was issued in; raising it (sign out
    # everywhere, a phone bound anew) ends every token issued before.
    token_generation = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)

    objects = ResidentQuerySet.as_manager()
    personal_data = PersonalData(
        data=[_("NIK"), _("name"), _("birth date"), _("sex"), _("phone"), _("e-mail"),
              _("domicile address"), _("location of the home")],
        purpose=_("Identifying residents, serving their civil-registry requests and telling "
                  "them about them"),
        legal_basis=ADMINDUK,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["name"]
        permissions = [("view_full_nik", _("Can view a resident's full NIK"))]

    def __str__(self):
        return f"{self.name} ({self.masked_nik})"

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.nik)

    @property
    def identity_verified(self) -> bool:
        return self.identity_verified_at is not None


class Lane(models.Model):
    """A queue lane of an office, named by a letter (B: biometric check, C: biodata
    change). It is part of the catalogue because bookings and queues both use it."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="lanes", verbose_name=_("office")
    )
    letter = models.CharField(
        _("letter"), max_length=1,
        validators=[RegexValidator(r"^[A-Z]$", _("A lane is one capital letter."))],
    )
    name = models.CharField(_("name"), max_length=80)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lane")
        verbose_name_plural = _("lanes")
        ordering = ["office", "letter"]
        constraints = [
            models.UniqueConstraint(fields=["office", "letter"], name="lane_letter_per_office"),
        ]

    def __str__(self):
        return f"{self.letter} - {self.name}"


class Service(models.Model):
    """A service of the office's catalogue, served in one lane."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="services", verbose_name=_("office")
    )
    code = models.CharField(
        _("code"), max_length=32,
        validators=[RegexValidator(r"^[A-Z0-9_]+$", _("Use capital letters, digits and _."))],
    )
    name = models.CharField(_("name"), max_length=120)
    lane = models.ForeignKey(
        Lane, on_delete=models.PROTECT, related_name="services", verbose_name=_("lane")
    )
    steps = models.JSONField(
        _("steps"), default=list, blank=True,
        help_text=_("What the resident goes through, one step per item, in order."),
    )
    estimated_minutes = models.PositiveSmallIntegerField(
        _("estimated minutes"), default=15, validators=[MinValueValidator(1)]
    )
    needs_central = models.BooleanField(
        _("needs the central server"), default=True,
        help_text=_("Data changes and card printing go through the ministry's central server."),
    )
    home_delivery = models.BooleanField(_("card can be delivered home"), default=False)
    holder_in_person = models.BooleanField(
        _("holder must collect in person"), default=False,
        help_text=_("A fingerprint match is required at hand-over: no proxy, no delivery."),
    )
    produces_card = models.BooleanField(_("produces a printed card"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["office", "lane__letter", "code"]
        constraints = [
            models.UniqueConstraint(fields=["office", "code"], name="service_code_per_office"),
        ]

    def __str__(self):
        return self.name


class Requirement(models.Model):
    """A document a service requires, with an optional validity in days from issue."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="requirements", verbose_name=_("service")
    )
    code = models.CharField(
        _("code"), max_length=32,
        validators=[RegexValidator(r"^[A-Z0-9_]+$", _("Use capital letters, digits and _."))],
    )
    name = models.CharField(_("document"), max_length=160)
    valid_days = models.PositiveSmallIntegerField(
        _("valid for (days)"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("Days from the date of issue; empty when the document does not expire."),
    )
    how_to_obtain = models.TextField(
        _("how to obtain or renew"), blank=True,
        help_text=_("Told to the resident when the document is missing or expired."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    # A lost KTP-el turns a signature change into a lost-card replacement: the
    # pre-check tells the resident so instead of letting them come with nothing.
    lost_instead = models.ForeignKey(
        Service, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("if lost, needs the service"),
        help_text=_("The service that replaces this document when the resident has lost "
                    "it, e.g. KTP-el hilang for the old KTP-el."),
    )

    class Meta:
        verbose_name = _("requirement")
        verbose_name_plural = _("requirements")
        ordering = ["service_id", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "code"], name="requirement_code_per_service"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if (self.lost_instead_id and self.service_id
                and self.lost_instead.office_id != self.service.office_id):
            raise ValidationError({"lost_instead": _("Choose a service of this office.")})


class ServiceCombination(models.Model):
    """How an office serves several services in one visit: the lane they are served in
    and the minutes they take together. Without a row the lane is the first service's
    and the minutes are the sum (registry.service_sets)."""

    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="+", verbose_name=_("office")
    )
    # The services' codes, sorted and joined by "+": the lookup key of a set.
    key = models.CharField(_("services"), max_length=200, editable=False)
    services = models.ManyToManyField(Service, related_name="+", verbose_name=_("services"))
    lane = models.ForeignKey(
        Lane, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("lane"), help_text=_("Empty: the first service's lane."),
    )
    estimated_minutes = models.PositiveSmallIntegerField(
        _("estimated minutes"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("Empty: the sum of the services' minutes."),
    )

    class Meta:
        verbose_name = _("service combination")
        verbose_name_plural = _("service combinations")
        ordering = ["office", "key"]
        constraints = [
            models.UniqueConstraint(fields=["office", "key"], name="combination_once"),
        ]

    def __str__(self):
        return self.key.replace("+", " + ")


class Channel(models.TextChoices):
    APP = "app", _("Mobile app")
    ASSISTED = "assisted", _("Assisted by staff")
    WALK_IN = "walk_in", _("Walk-in")


class ApplicationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    READY = "ready", _("Card ready")
    COMPLETED = "completed", _("Completed")
    LAPSED = "lapsed", _("Lapsed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_APPLICATION_STATUSES = (
    ApplicationStatus.OPEN,
    ApplicationStatus.IN_PROGRESS,
    ApplicationStatus.READY,
)


class Application(models.Model):
    """A case file (permohonan): one resident request, from booking to hand-over.
    Bookings, tickets, transmissions, deliveries and complaints point at it."""

    # No index of their own for office and resident: the unique number and the indexes
    # below lead with them (an index fewer to write on every case change).
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="applications", verbose_name=_("office"),
        db_index=False,
    )
    number = models.CharField(_("number"), max_length=20, editable=False)
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="applications",
        verbose_name=_("resident"), db_index=False,
    )
    # The first service: its lane and name lead; `extra_services` are done in the same
    # visit, with one card printed and handed over once (registry.service_sets).
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="applications", verbose_name=_("service")
    )
    extra_services = models.ManyToManyField(
        Service, blank=True, related_name="+", verbose_name=_("further services, same visit")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ApplicationStatus.choices,
        default=ApplicationStatus.OPEN,
    )
    # While open without a booking (after a missed visit), the last day to re-book
    # before the case lapses; the lapse sweep reads it.
    rebook_until = models.DateField(_("re-book until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    personal_data = PersonalData(
        data=[_("the services a resident asked for and the state of the request")],
        purpose=_("Handling a resident's request from booking to hand-over"),
        legal_basis=ADMINDUK,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["office", "number"], name="application_number"),
        ]
        indexes = [
            models.Index(fields=["office", "status"]),
            models.Index(fields=["resident", "service", "status"]),
        ]

    def __str__(self):
        return f"{self.number} {self.service.name}"

    @property
    def service_set(self):
        """The services of the visit (registry.service_sets.ServiceSet)."""
        from registry.service_sets import service_set_of

        return service_set_of(self)


class CaseEvent(models.Model):
    """One entry of an application's timeline. Written only by
    `registry.services.cases.case_event_record`; the message is rendered from `kind` and
    `params` in the reader's language (see registry.timeline)."""

    # Indexed through the two indexes below, which lead with them.
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"),
        db_index=False,
    )
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="events",
        verbose_name=_("application"), db_index=False,
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=48)
    params = models.JSONField(_("details"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("by staff"),
    )
    by_resident = models.BooleanField(_("by the resident"), default=False)

    personal_data = PersonalData(
        data=[_("the history of a resident's request"), _("notes by staff")],
        purpose=_("The timeline of a request, shown to the resident and staff; the facts of a "
                "complaint's chronology"),
        legal_basis=ADMINDUK,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.COUNTER_OPERATOR, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
        fields=("application", "params", "note"),
    )

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["application", "at"]),
            models.Index(fields=["office", "at"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"

    @property
    def message(self) -> str:
        from registry.timeline import render_event

        return render_event(self)


class TurnAwayReason(models.TextChoices):
    NO_BOOKING = "no_booking", _("No booking: told to book first")
    MISSING_DOCUMENT = "missing_document", _("A required document is missing")
    INVALID_DOCUMENT = "invalid_document", _("A document is expired or invalid")
    OFFICE_FULL = "office_full", _("No more places today")
    WRONG_OFFICE = "wrong_office", _("Another office serves this")
    OTHER = "other", _("Other")


class TurnAway(models.Model):
    """A resident sent away at the door by the front desk, with the reason: the
    chronology of a later complaint states it (a trip the resident made for nothing)."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="turn_aways",
        verbose_name=_("resident"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("service wanted"),
    )
    # The case the resident came for, when there was one then or the desk opened one.
    application = models.ForeignKey(
        Application, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="turn_aways", verbose_name=_("application"),
    )
    reason = models.CharField(_("reason"), max_length=24, choices=TurnAwayReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("by staff"),
    )

    personal_data = PersonalData(
        data=[_("a resident sent away at the door, with the reason")],
        purpose=_("Recording trips made for nothing, for the chronology of a later complaint"),
        legal_basis=PUBLIC_SERVICE,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS],
    )

    class Meta:
        verbose_name = _("turn-away at the door")
        verbose_name_plural = _("turn-aways at the door")
        ordering = ["-at"]
        indexes = [models.Index(fields=["office", "resident", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_reason_display()}"


class NikDisclosure(models.Model):
    """A record that a staff member viewed a resident's full NIK."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="+", verbose_name=_("resident")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("staff"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=200)

    personal_data = PersonalData(
        data=[_("which staff member saw a resident's full NIK, and why")],
        purpose=_("Accountability for access to NIKs; shown to the resident"),
        legal_basis=SECURITY,
        retention="access_log",
        roles=[Role.OFFICE_ADMIN, Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("NIK disclosure")
        verbose_name_plural = _("NIK disclosures")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user}"


class NotificationChannel(models.TextChoices):
    PUSH = "push", _("App")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Notification(models.Model):
    """A message to a resident. The stored row is the app inbox; each channel's
    delivery is tracked in NotificationDelivery and sent by a Celery task."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    # Indexed through the inbox index and the dedup constraint, which lead with it.
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="notifications",
        verbose_name=_("resident"), db_index=False,
    )
    application = models.ForeignKey(
        Application, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=48)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    # The same fact is told once: a sweep that runs twice finds the key taken.
    # NULL, not "", for "no key": the unique constraint applies to keys only.
    dedup_key = models.CharField(  # noqa: DJ001
        _("deduplication key"), max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    personal_data = PersonalData(
        data=[_("messages to a resident")],
        purpose=_("Telling residents about their requests (the app's inbox)"),
        legal_basis=PUBLIC_SERVICE,
        retention="notification_bodies",
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS],
        fields=("resident", "application", "title", "body"),
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "dedup_key"], name="notification_told_once",
                condition=Q(dedup_key__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["resident", "-created_at"])]

    def __str__(self):
        return self.title


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class NotificationDelivery(EncryptedModelMixin, models.Model):
    """The sending of one notification through one channel: an outbox row, so that
    nothing is lost if the broker is down when the notification is created."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    # Indexed through the per-channel constraint, which leads with it.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries",
        verbose_name=_("notification"), db_index=False,
    )
    channel = models.CharField(_("channel"), max_length=16, choices=NotificationChannel.choices)
    # A phone number or an e-mail address: encrypted, never searched.
    address = EncryptedCharField(_("address"), max_length=254, blank=True,
                                 normalizer="address")
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_ref = models.CharField(_("provider reference"), max_length=120, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = EncryptedQuerySet.as_manager()
    personal_data = PersonalData(
        data=[_("the phone number or e-mail address a message went to")],
        purpose=_("Sending messages by WhatsApp, SMS and e-mail, and retrying failed ones"),
        legal_basis=PUBLIC_SERVICE,
        retention="notification_bodies",
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR,
               Role.PUBLIC_RELATIONS],
    )

    class Meta:
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="notification_delivery_per_channel"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="notif_delivery_due",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.channel} {self.status}"


class OtpPurpose(models.TextChoices):
    SIGN_IN = "sign_in", _("sign-in in the app")
    PHONE_CHANGE = "phone_change", _("new phone, from the app")
    # Sent to the bound phone with each PHONE_CHANGE code: the change needs both, so a
    # token alone (a stolen or borrowed phone's session) cannot move the account.
    PHONE_CHANGE_OLD = "phone_change_old", _("new phone, confirmed from the old one")
    DESK_BIND = "desk_bind", _("phone bound at the desk")


class OtpChallenge(EncryptedModelMixin, models.Model):
    """One request for a sign-in code; only the code's hash is stored.

    A row is written for every request, sent or not, so the throttle counts requests
    (per NIK, per phone, per address) before anything is looked up, and every request
    does the same work whatever the NIK. Only a `sent` challenge can be verified.
    """

    # Encrypted; the throttles count by the keyed hashes.
    nik = EncryptedCharField(max_length=16, hash_field="nik_hash", normalizer="nik")
    nik_hash = LookupHashField(source="nik", db_index=True)
    phone = EncryptedCharField(max_length=20, hash_field="phone_hash", normalizer="phone")
    phone_hash = LookupHashField(source="phone", db_index=True)
    # Each purpose is verified only where it was asked for: an app sign-in code never
    # binds at the desk, a desk code never signs in to the app.
    purpose = models.CharField(max_length=16, choices=OtpPurpose.choices,
                               default=OtpPurpose.SIGN_IN)
    address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    sent = models.BooleanField(default=False)
    # A verified code binds `phone` to the resident (self-registration, or an
    # activation code from the desk).
    binds_phone = models.BooleanField(default=False)
    activation = models.ForeignKey(
        "ActivationCode", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
    )
    # A self-registration (name, birth_date, sex, language): the resident is written only
    # when the code is verified, so a request alone leaves no record that would hold the
    # NIK against its owner.
    registration = models.JSONField(null=True, blank=True)

    objects = EncryptedQuerySet.as_manager()
    personal_data = PersonalData(
        data=[_("NIK"), _("phone"), _("self-registration details"), _("IP address")],
        purpose=_("Signing residents in with one-time codes, and throttling abuse"),
        legal_basis=SECURITY,
        retention="otp",
        roles=[],
    )

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{mask_nik(self.nik)} {self.created_at:%Y-%m-%d %H:%M}"


class ActivationCode(models.Model):
    """A single-use code printed by the desk (assisted-booking slip, counter receipt)
    that lets a resident with no bound phone bind one in the app. Only its hash is
    stored; it expires, and wrong tries spend it."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("office"))
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE,
                                 related_name="activation_codes",
                                 verbose_name=_("resident"))
    code_hash = models.CharField(max_length=128)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    personal_data = PersonalData(
        data=[_("activation codes issued to a resident (hashed)")],
        purpose=_("Binding a phone for a resident who has none bound"),
        legal_basis=SECURITY,
        retention="otp",
        roles=[],
    )

    class Meta:
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["resident", "-created_at"],
                                name="activation_resident_recent")]

    def __str__(self):
        return f"{self.resident_id} {self.created_at:%Y-%m-%d %H:%M}"


class StaffTokenState(models.Model):
    """Per staff user: the generation their API tokens must carry. Raised when a
    membership is removed (password changes and deactivation end tokens by
    themselves: see registry.api.auth)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="token_state")
    generation = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.user_id}: {self.generation}"


class IdempotencyRecord(models.Model):
    """The first answer to a create request with an Idempotency-Key header, replayed
    for the same key and body within 24 hours."""

    principal = models.CharField(max_length=40)
    key = models.CharField(max_length=128)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_once"),
        ]

    def __str__(self):
        return f"{self.principal} {self.key}"


class Sequence(models.Model):
    """A counter per office and scope (application numbers, ticket numbers of a lane
    and day, complaint references). Incremented under a row lock; see
    registry.services.sequences.sequence_next."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "scope"], name="sequence_scope_per_office"),
        ]

    def __str__(self):
        return f"{self.scope}={self.value}"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


class ExportRecord(models.Model):
    """That a staff member exported an admin list: one row per office the export
    covered, with that office's row count; the rows of one export share `batch`.
    Written by registry.services.exports.export_record, never typed in."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("staff"),
    )
    batch = models.UUIDField(_("export"), db_index=True)
    list_name = models.CharField(_("list"), max_length=100)
    query = models.CharField(_("filters"), max_length=2000, blank=True)
    file_format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    row_count = models.PositiveIntegerField(_("rows"))
    full_niks = models.BooleanField(_("full NIKs"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now)

    personal_data = PersonalData(
        data=[_("which staff member exported which list, and whether with full NIKs")],
        purpose=_("Accountability for personal data leaving the system"),
        legal_basis=SECURITY,
        retention="access_log",
        roles=[Role.OFFICE_ADMIN, Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR],
        fields=("user", "query", "full_niks"),
    )

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["office", "at"], name="exportrecord_office_at")]
        permissions = [("export_data", _("Can export the admin lists")),
                       ("view_trends", _("Can see the dashboard and the monthly reports")),
                       ("view_processing", _("Can see the records of processing"))]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.list_name} ({self.row_count})"


class AccessKind(models.TextChoices):
    """What a staff member looked at that holds a resident's personal data."""

    RESIDENT = "resident", _("Resident record")
    LIST = "list", _("List of residents")
    APPLICATION = "application", _("Case file")
    BOOKING = "booking", _("Booking")
    DOCUMENT = "document", _("Document file")
    DELIVERY = "delivery", _("Delivery or hand-over")
    DELIVERY_PHOTO = "delivery_photo", _("Delivery photo")
    COMPLAINT = "complaint", _("Complaint with the complainant")
    EXPORT = "export", _("Exported rows")
    COUNTER = "counter", _("Queue ticket")


class AccessLog(models.Model):
    """One view of residents' personal data by a staff member: who, in which office and
    role, when, what and why. Append-only: written by registry.services.access_log,
    never changed; only the retention sweep removes rows past their time. A page
    that lists residents is one row, with the residents shown in AccessLogResident."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("staff"),
    )
    # The office whose data was seen; empty when a page covered several offices.
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("office"),
    )
    # The role the staff member held there ("superuser" for the deployment's admins).
    role = models.CharField(_("role"), max_length=32)
    kind = models.CharField(_("what"), max_length=20, choices=AccessKind.choices)
    # Which record: a case number, a complaint number, a list's name; never a NIK.
    target = models.CharField(_("record"), max_length=120, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    resident_count = models.PositiveIntegerField(_("residents"), default=0)
    residents = models.ManyToManyField(
        Resident, through="AccessLogResident", related_name="+", verbose_name=_("residents"),
    )

    personal_data = PersonalData(
        data=[_("which staff member saw which residents' data, when, where and why")],
        purpose=_("Accountability for every view of residents' personal data; shown to the "
                  "resident without the staff member's name"),
        legal_basis=SECURITY,
        retention="access_log",
        roles=[Role.OFFICE_ADMIN, Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        verbose_name = _("access to personal data")
        verbose_name_plural = _("accesses to personal data")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["office", "at"], name="accesslog_office_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.target}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("The access log cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The access log cannot be deleted."))


class AccessLogResident(models.Model):
    """A resident whose data one AccessLog row showed."""

    access = models.ForeignKey(AccessLog, on_delete=models.CASCADE, related_name="entries")
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="+")

    personal_data = PersonalData(
        data=[_("the residents an access-log entry showed")],
        purpose=_("Telling each resident who looked at their data"),
        legal_basis=SECURITY,
        retention="access_log",
        roles=[Role.OFFICE_ADMIN, Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR],
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["access", "resident"], name="access_resident_once"),
        ]
        indexes = [models.Index(fields=["resident", "access"], name="accessresident_resident")]

    def __str__(self):
        return f"{self.access_id}: {self.resident_id}"


class CorrectionField(models.TextChoices):
    """What a resident may ask to have corrected. NIK, name, birth date and sex are
    civil-registry data: the desk checks the documents before they change."""

    NAME = "name", _("name")
    BIRTH_DATE = "birth_date", _("birth date")
    SEX = "sex", _("sex")
    ADDRESS = "address", _("domicile address")
    KELURAHAN = "kelurahan", _("kelurahan/desa")
    KECAMATAN = "kecamatan", _("kecamatan")
    EMAIL = "email", _("e-mail")
    OTHER = "other", _("something else")


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CORRECTED = "corrected", _("Corrected")
    REJECTED = "rejected", _("Not corrected")


class CorrectionRequest(models.Model):
    """A resident's request to correct their data (UU PDP art. 6), answered by the
    front desk of the office that holds it, with a reply the resident reads."""

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="correction_requests",
        verbose_name=_("resident"),
    )
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"),
    )
    field = models.CharField(_("field"), max_length=20, choices=CorrectionField.choices)
    requested_value = models.CharField(_("correct value"), max_length=255)
    note = models.TextField(_("resident's note"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CorrectionStatus.choices,
        default=CorrectionStatus.OPEN, db_index=True,
    )
    reply = models.TextField(_("reply"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)

    personal_data = PersonalData(
        data=[_("the field to correct and its correct value"), _("the resident's note"),
              _("the reply")],
        purpose=_("Answering a resident's request to correct their data (UU 27/2022 art. 6)"),
        legal_basis=SECURITY,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR],
    )

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["office", "status"], name="correction_office_status")]

    def __str__(self):
        return f"{self.get_field_display()} ({self.get_status_display()})"


def _audit_office_id(instance) -> int | None:
    """The office a changed row belongs to: its own, or that of the row it hangs from
    (a counter's lane, a service's requirement). None for staff accounts: their audit
    is seen through their memberships."""
    if isinstance(instance, Office):
        return instance.pk
    office_id = getattr(instance, "office_id", None)
    if office_id is not None:
        return office_id
    for field in instance._meta.concrete_fields:
        if field.many_to_one and any(f.name == "office" for f in
                                     field.related_model._meta.concrete_fields):
            parent = getattr(instance, field.name, None)
            if parent is not None:
                return parent.office_id
    return None


class AuditEntryManager(LogEntryManager):
    def log_create(self, instance, force_log: bool = False, **kwargs):
        kwargs.setdefault("office_id", _audit_office_id(instance))
        return super().log_create(instance, force_log, **kwargs)

    def log_m2m_changes(self, changed_queryset, instance, operation, field_name, **kwargs):
        kwargs.setdefault("office_id", _audit_office_id(instance))
        return super().log_m2m_changes(changed_queryset, instance, operation, field_name,
                                       **kwargs)


class AuditEntry(AbstractLogEntry):
    """A change to settings, staff accounts, memberships, the catalogue or closures,
    with the values before and after (django-auditlog writes it; registry.audit says
    which models). It carries the office, so each office's supervisors see theirs; no
    one can change or delete it from the admin."""

    # Kept when the office itself is deleted: the entry saying so must survive.
    office = models.ForeignKey(
        Office, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True,
        related_name="+", verbose_name=_("office"),
    )

    objects = AuditEntryManager()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = _("change to settings")
        verbose_name_plural = _("changes to settings")
        indexes = [models.Index(fields=["office", "timestamp"], name="auditentry_office_at")]


class RetentionRun(models.Model):
    """One run of the retention sweep (registry.services.retention): when, with which
    limits, and how many of each kind it removed (or, for a dry run, would remove).
    Written only by the sweep; the admin shows it read-only to superusers."""

    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    # Empty while the run goes on, or when it stopped before its end (its counts are
    # then those of the rules it finished).
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    # The limits in force, in days per kind (settings.RETENTION), and per rule the
    # number of rows or files removed.
    days = models.JSONField(_("limits (days)"), default=dict)
    counts = models.JSONField(_("removed"), default=dict)

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M}"


# --- Personal-data breaches (UU 27/2022 art. 46) -------------------------------------


class BreachDataKind(models.TextChoices):
    """The kinds of personal data a breach may have exposed; each selects the residents
    whose data of that kind was written in the incident's period (registry.breaches)."""

    IDENTITY = "identity", _("Identity (NIK, name, birth date)")
    CONTACT = "contact", _("Contact details (phone, e-mail, messages)")
    ADDRESS = "address", _("Address and location of the home")
    CASES = "cases", _("Requests, bookings and queue tickets")
    DOCUMENTS = "documents", _("Uploaded documents")
    PHOTOS = "photos", _("Delivery photos")
    COMPLAINTS = "complaints", _("Complaints and survey answers")


class BreachStatus(models.TextChoices):
    OPEN = "open", _("Open")
    NOTIFYING = "notifying", _("Sending notices")
    NOTIFIED = "notified", _("Residents notified")


# The notice sent as written here (it is data, editable per incident, not a text of the
# interface): in Indonesian, the language every resident reads.
DEFAULT_BREACH_NOTICE = (
    "Kami memberitahukan bahwa telah terjadi kegagalan pelindungan data pribadi yang "
    "mungkin melibatkan data Anda di layanan Disdukcapil. Data yang terdampak, waktu "
    "kejadian dan langkah yang telah kami ambil dapat Anda tanyakan di kantor Disdukcapil "
    "atau melalui kanal pengaduan. Jangan berikan kode OTP atau data pribadi Anda kepada "
    "siapa pun yang mengaku sebagai petugas. Pemberitahuan ini disampaikan sesuai Pasal 46 "
    "UU Nomor 27 Tahun 2022 tentang Pelindungan Data Pribadi."
)

# Residents must be told within 3 x 24 hours of the breach's discovery (UU 27/2022
# art. 46 (1)).
BREACH_NOTICE_HOURS = 72


class BreachIncident(models.Model):
    """A failure to protect personal data, opened by a superuser: which residents it
    concerns (a query of kinds of data, an office and a period) and the notice they are
    sent. Across offices by nature, so superusers only."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("what happened"))
    discovered_at = models.DateTimeField(_("discovered at"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    kinds = models.JSONField(_("kinds of data affected"), default=list)
    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("office"), help_text=_("Empty: every office."),
    )
    period_start = models.DateTimeField(_("data written from"), null=True, blank=True)
    period_end = models.DateTimeField(_("data written until"), null=True, blank=True)
    notice_text = models.TextField(_("notice to residents"), default=DEFAULT_BREACH_NOTICE)
    # Told by hand (a letter to the PDP authority), recorded here.
    authority_notified_at = models.DateTimeField(_("PDP authority notified at"), null=True,
                                                 blank=True)
    status = models.CharField(_("status"), max_length=16, choices=BreachStatus.choices,
                              default=BreachStatus.OPEN)
    # Set when the last affected resident has been sent the notice.
    residents_notified_at = models.DateTimeField(_("residents notified at"), null=True,
                                                 blank=True)

    class Meta:
        verbose_name = _("data breach")
        verbose_name_plural = _("data breaches")
        ordering = ["-discovered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__isnull=True) | Q(period_end__isnull=True)
                | Q(period_start__lte=models.F("period_end")),
                name="breach_period_in_order"),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        if not self.kinds:
            raise ValidationError({"kinds": _("Choose at least one kind of data.")})
        if set(self.kinds) - set(BreachDataKind.values):
            raise ValidationError({"kinds": _("Choose kinds of data from the list.")})
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": _("The end is before the start.")})

    @property
    def deadline(self):
        """When the residents must have been told: 3 x 24 hours after discovery."""
        if self.discovered_at is None:
            return None
        return self.discovered_at + timedelta(hours=BREACH_NOTICE_HOURS)


class BreachNotice(models.Model):
    """That a resident was sent an incident's notice: one per incident and resident,
    so nobody is told twice."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    incident = models.ForeignKey(
        BreachIncident, on_delete=models.PROTECT, related_name="notices",
        verbose_name=_("data breach"),
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="+", verbose_name=_("resident")
    )
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("notification"),
    )
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    personal_data = PersonalData(
        data=[_("which residents were told of a data breach")],
        purpose=_("Telling the residents concerned of a breach within 3 x 24 hours"),
        legal_basis=BREACH_DUTY,
        roles=[],
    )

    class Meta:
        verbose_name = _("breach notice")
        verbose_name_plural = _("breach notices")
        ordering = ["incident", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "resident"],
                                    name="breach_notice_once_per_resident"),
        ]

    def __str__(self):
        return f"{self.incident_id}: {self.resident_id}"
