"""Complaints: intake from every channel, deadlines by the office's calendar, the
chronology assembled from the case's records, findings, the public response and the
internal follow-up of staff."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from queues.models import Counter
from registry.encryption import EncryptedCharField
from registry.models import Application, Lane, Office, Resident, Role, Service
from registry.processing import COMPLAINTS, CONSENT, PersonalData

# SP4N-LAPOR! (Permenpan-RB 62/2018 on the national complaint system): a complaint is
# acknowledged within 3 working days, answered within 5 and settled within 10.
DEFAULT_ACKNOWLEDGE_DAYS = 3
DEFAULT_RESPOND_DAYS = 5
DEFAULT_RESOLVE_DAYS = 10


class ComplaintSettings(models.Model):
    """An office's complaint deadlines, in working days plus working hours of its own
    calendar, and when staff are warned before a deadline."""

    office = models.OneToOneField(
        Office, on_delete=models.CASCADE, related_name="complaint_settings",
        verbose_name=_("office"),
    )
    acknowledge_days = models.PositiveSmallIntegerField(
        _("first response within (working days)"), default=DEFAULT_ACKNOWLEDGE_DAYS,
        validators=[MaxValueValidator(60)])
    acknowledge_hours = models.PositiveSmallIntegerField(
        _("plus working hours"), default=0, validators=[MaxValueValidator(23)])
    respond_days = models.PositiveSmallIntegerField(
        _("response within (working days)"), default=DEFAULT_RESPOND_DAYS,
        validators=[MaxValueValidator(60)])
    respond_hours = models.PositiveSmallIntegerField(
        _("plus working hours"), default=0, validators=[MaxValueValidator(23)])
    resolve_days = models.PositiveSmallIntegerField(
        _("resolution within (working days)"), default=DEFAULT_RESOLVE_DAYS,
        validators=[MaxValueValidator(120)])
    resolve_hours = models.PositiveSmallIntegerField(
        _("plus working hours"), default=0, validators=[MaxValueValidator(23)])
    update_every_days = models.PositiveSmallIntegerField(
        _("next update within (working days)"), default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("After the response, the complainant hears again within this time "
                    "until the complaint is resolved."))
    warn_before_hours = models.PositiveSmallIntegerField(
        _("warn the assignee (working hours before)"), default=7,
        validators=[MinValueValidator(1), MaxValueValidator(72)])

    class Meta:
        verbose_name = _("complaint settings")
        verbose_name_plural = _("complaint settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledge_days__gt=0) | Q(acknowledge_hours__gt=0),
                name="complaint_settings_acknowledge_positive"),
            models.CheckConstraint(condition=Q(respond_days__gt=0) | Q(respond_hours__gt=0),
                                   name="complaint_settings_respond_positive"),
            models.CheckConstraint(condition=Q(resolve_days__gt=0) | Q(resolve_hours__gt=0),
                                   name="complaint_settings_resolve_positive"),
        ]

    def __str__(self):
        return str(self.office)


class ComplaintChannel(models.TextChoices):
    INSTAGRAM = "instagram", _("Instagram")
    X = "x", _("X (Twitter)")
    FACEBOOK = "facebook", _("Facebook")
    YOUTUBE = "youtube", _("YouTube")
    EMAIL = "email", _("E-mail")
    WHATSAPP = "whatsapp", _("WhatsApp")
    LAPOR = "lapor", _("SP4N-LAPOR!")
    IN_PERSON = "in_person", _("In person")
    APP = "app", _("e-Open app")
    SURVEY = "survey", _("Satisfaction survey")


SOCIAL_CHANNELS = (ComplaintChannel.INSTAGRAM, ComplaintChannel.X, ComplaintChannel.FACEBOOK,
                   ComplaintChannel.YOUTUBE)


class Category(models.TextChoices):
    QUEUE_FAIRNESS = "queue_fairness", _("Queue fairness")
    WAITING_TIME = "waiting_time", _("Waiting time")
    STAFF_CONDUCT = "staff_conduct", _("Staff conduct")
    REQUIREMENTS = "requirements", _("Requirements")
    CENTRAL_OUTAGE = "central_outage", _("Central-link outage")
    DELIVERY = "delivery", _("Delivery")
    OTHER = "other", _("Other")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("Being handled")
    WAITING = "waiting", _("Waiting for the complainant")
    RESPONDED = "responded", _("Responded")
    RESOLVED = "resolved", _("Resolved")


OPEN_STATUSES = (ComplaintStatus.RECEIVED, ComplaintStatus.IN_PROGRESS,
                 ComplaintStatus.WAITING, ComplaintStatus.RESPONDED)


class LinkMethod(models.TextChoices):
    NIK = "nik", _("NIK")
    BOOKING = "booking", _("Booking code")
    TICKET = "ticket", _("Queue ticket code")
    RECEIPT = "receipt", _("Receipt code")
    APPLICATION = "application", _("Case number")
    APP = "app", _("Filed in the app")


class Complaint(models.Model):
    """One complaint, from any channel, with the reference code the resident quotes."""

    office = models.ForeignKey(
        Office, on_delete=models.PROTECT, related_name="complaints", verbose_name=_("office"))
    reference = models.CharField(_("reference"), max_length=24, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=ComplaintChannel.choices)
    # Where the post is (a URL) or who wrote it (a handle, an address, a number).
    link = models.CharField(_("link"), max_length=500, blank=True)
    # Encrypted at rest (registry.encryption): for SMS and WhatsApp it is a phone number.
    handle = EncryptedCharField(_("account or contact"), max_length=200, blank=True)
    lapor_tracking_id = models.CharField(_("SP4N-LAPOR! tracking ID"), max_length=40,
                                         blank=True)
    # The link (or LAPOR! tracking ID) normalised: the same post logged twice is caught.
    # NULL, not "", when there is no link: the unique constraint applies to keys only.
    source_key = models.CharField(  # noqa: DJ001
        _("source key"), max_length=500, null=True, blank=True, editable=False)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    text = models.TextField(_("text"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices,
                                default=Category.OTHER)
    status = models.CharField(_("status"), max_length=16, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.RECEIVED, db_index=True)
    confidential = models.BooleanField(
        _("confidential"), default=False,
        help_text=_("Only supervisors and the assignee see who complained."))
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="complaints",
        verbose_name=_("resident"))
    complainant_name = models.CharField(_("complainant's name"), max_length=120, blank=True)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True,
        related_name="complaints", verbose_name=_("case"))
    link_method = models.CharField(_("linked by"), max_length=16, choices=LinkMethod.choices,
                                   blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="assigned_complaints", verbose_name=_("assignee"))
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("logged by"))
    acknowledged_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # While waiting for the complainant the deadlines stand still (SP4N-LAPOR!).
    waiting_since = models.DateTimeField(_("waiting for the complainant since"), null=True,
                                         blank=True)
    # Working minutes, net of time waiting for the complainant, kept for the reports.
    first_response_minutes = models.PositiveIntegerField(
        _("working minutes to first response"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(
        _("working minutes to resolution"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    personal_data = PersonalData(
        data=[_("the complaint's text"), _("the complainant's name and account"),
              _("the link to the resident's case")],
        purpose=_("Handling complaints and answering them"),
        legal_basis=COMPLAINTS,
        roles=[Role.OFFICE_ADMIN, Role.FRONT_DESK, Role.SUPERVISOR, Role.PUBLIC_RELATIONS,
               Role.PROVINCIAL_SUPERVISOR],
        fields=("text", "handle", "link", "complainant_name", "resident", "application"),
    )

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        permissions = [
            ("view_complainant", _("Can see who filed a confidential complaint")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["office", "reference"],
                                    name="complaint_reference_per_office"),
            models.UniqueConstraint(fields=["office", "channel", "source_key"],
                                    condition=Q(source_key__isnull=False),
                                    name="complaint_post_logged_once"),
        ]
        indexes = [
            models.Index(fields=["office", "status"], name="complaint_office_status"),
            models.Index(fields=["office", "received_at"], name="complaint_office_received"),
        ]

    def __str__(self):
        return self.reference


class DeadlineKind(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", _("First response")
    RESPOND = "respond", _("Response")
    UPDATE = "update", _("Next update")
    RESOLVE = "resolve", _("Resolution")


class ComplaintDeadline(models.Model):
    """One deadline of a complaint. The sweep warns the assignee at `warn_at` and the
    supervisors at `due_at`, each once; `met_at` ends it."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE,
                                  related_name="deadlines", verbose_name=_("complaint"))
    kind = models.CharField(_("deadline"), max_length=16, choices=DeadlineKind.choices)
    due_at = models.DateTimeField(_("due"))
    warn_at = models.DateTimeField(_("warn at"))
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("assignee warned at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("supervisors alerted at"), null=True, blank=True)
    paused = models.BooleanField(_("paused"), default=False)

    class Meta:
        verbose_name = _("complaint deadline")
        verbose_name_plural = _("complaint deadlines")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind"],
                                    condition=Q(met_at__isnull=True),
                                    name="complaint_deadline_one_open_per_kind"),
        ]
        indexes = [
            models.Index(fields=["warn_at"], name="complaint_deadline_warn",
                         condition=Q(met_at__isnull=True, warned_at__isnull=True,
                                     paused=False)),
            models.Index(fields=["due_at"], name="complaint_deadline_due",
                         condition=Q(met_at__isnull=True, escalated_at__isnull=True,
                                     paused=False)),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def within(self) -> bool | None:
        """Met on time (True), met late (False), or still open (None)."""
        if self.met_at is None:
            return None
        return self.met_at <= self.due_at


class ComplaintPause(models.Model):
    """A time the complaint waited for the complainant: it does not count."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="pauses",
                                  verbose_name=_("complaint"))
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("what the complainant was asked"), max_length=300)
    working_minutes = models.PositiveIntegerField(_("working minutes"), default=0)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                           blank=True, related_name="+", verbose_name=_("by"))

    class Meta:
        verbose_name = _("wait for the complainant")
        verbose_name_plural = _("waits for the complainant")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["complaint"], condition=Q(ended_at__isnull=True),
                                    name="complaint_one_open_pause"),
        ]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """A screenshot or document of a complaint: checked by content, never served
    publicly."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE,
                                  related_name="attachments", verbose_name=_("complaint"))
    file = models.FileField(_("file"), upload_to="complaints/%Y/%m/")
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("uploaded by"))

    personal_data = PersonalData(
        data=[_("files attached to complaints (screenshots, photos)")],
        purpose=_("Handling complaints and answering them"),
        legal_basis=COMPLAINTS,
        roles=[Role.SUPERVISOR, Role.PUBLIC_RELATIONS],
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self):
        return self.file.name


class ChronologyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")


class Chronology(models.Model):
    """A numbered chronology of the complaint's case, assembled from the records.

    `generated` keeps exactly what was assembled (each point with the records it came
    from); `points` is what staff edited; each edit is a ChronologyEdit. Assembling
    again supersedes the draft; a published chronology is never changed.
    """

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE,
                                  related_name="chronologies", verbose_name=_("complaint"))
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=ChronologyStatus.choices,
                              default=ChronologyStatus.DRAFT)
    generated = models.JSONField(_("as generated"), default=list)
    points = models.JSONField(_("points"), default=list)
    generated_at = models.DateTimeField(_("generated at"), default=timezone.now)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("generated by"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("published by"))

    personal_data = PersonalData(
        data=[_("the chronology of a resident's case")],
        purpose=_("Answering a complaint with the facts of the records"),
        legal_basis=COMPLAINTS,
        roles=[Role.SUPERVISOR, Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
        fields=("complaint", "generated", "points"),
    )

    class Meta:
        verbose_name = _("chronology")
        verbose_name_plural = _("chronologies")
        ordering = ["complaint_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "version"],
                                    name="chronology_version_per_complaint"),
            models.UniqueConstraint(fields=["complaint"], condition=Q(status="draft"),
                                    name="chronology_one_draft"),
        ]

    def __str__(self):
        return f"{self.complaint_id} v{self.version}"

    @property
    def edited(self) -> bool:
        return [p.get("text") for p in self.points] != [p.get("text") for p in self.generated]


class ChronologyEdit(models.Model):
    """One change staff made to a chronology before publishing."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    chronology = models.ForeignKey(Chronology, on_delete=models.CASCADE, related_name="edits",
                                   verbose_name=_("chronology"))
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                           related_name="+", verbose_name=_("by"))
    before = models.JSONField(_("before"), default=list)
    after = models.JSONField(_("after"), default=list)
    note = models.CharField(_("why"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("chronology edit")
        verbose_name_plural = _("chronology edits")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M}"


class Verdict(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    PARTLY = "partly", _("Partly upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")
    UNDETERMINED = "undetermined", _("Cannot be determined")


class Finding(models.Model):
    """What the office found about one claim of the complaint, and the records it rests
    on (references to the sources of the chronology: a ticket, a call, an outage...)."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE,
                                  related_name="findings", verbose_name=_("complaint"))
    position = models.PositiveSmallIntegerField(_("number"))
    claim = models.CharField(_("claim"), max_length=500)
    verdict = models.CharField(_("finding"), max_length=16, choices=Verdict.choices)
    explanation = models.TextField(_("explanation"))
    evidence = models.JSONField(_("records"), default=list)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("by"))

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["complaint_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "position"],
                                    name="finding_position_per_complaint"),
        ]

    def __str__(self):
        return self.claim


class ResponseTemplate(models.Model):
    """A response text per category; {reference}, {name}, {office} and {date} are
    filled in."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("office"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("response template")
        verbose_name_plural = _("response templates")
        ordering = ["office", "category", "title"]
        constraints = [
            models.UniqueConstraint(fields=["office", "category", "title"],
                                    name="response_template_title_per_category"),
        ]

    def __str__(self):
        return self.title


class ComplaintResponse(models.Model):
    """The public response: what was said, when and on which channel. The text is
    redacted before it is stored (no full NIK, no other resident's data)."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE,
                                  related_name="responses", verbose_name=_("complaint"))
    kind = models.CharField(_("kind"), max_length=16, choices=[
        ("acknowledge", _("Acknowledgement")), ("response", _("Response")),
        ("update", _("Update")), ("resolution", _("Resolution"))])
    text = models.TextField(_("text"))
    channel = models.CharField(_("channel"), max_length=16, choices=ComplaintChannel.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                           related_name="+", verbose_name=_("by"))
    template = models.ForeignKey(ResponseTemplate, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+", verbose_name=_("template"))
    redactions = models.PositiveSmallIntegerField(_("items redacted"), default=0)

    personal_data = PersonalData(
        data=[_("answers sent to the complainant")],
        purpose=_("Handling complaints and answering them"),
        legal_basis=COMPLAINTS,
        roles=[Role.SUPERVISOR, Role.PUBLIC_RELATIONS, Role.PROVINCIAL_SUPERVISOR],
        fields=("complaint", "text"),
    )

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.complaint_id} {self.at:%Y-%m-%d %H:%M}"


class FollowUpAction(models.TextChoices):
    COACHING = "coaching", _("Coaching")
    WARNING = "warning", _("Warning")
    TRAINING = "training", _("Training")
    PROCEDURE = "procedure", _("Change of procedure")
    NONE = "none", _("No action needed")


class StaffFollowUp(models.Model):
    """Internal follow-up of the staff involved: visible to supervisors only."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE,
                                  related_name="follow_ups", verbose_name=_("complaint"))
    staff_member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("staff member"))
    staff_description = models.CharField(_("staff involved"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=FollowUpAction.choices)
    decision = models.TextField(_("decision"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    done_at = models.DateTimeField(_("carried out at"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff follow-up")
        verbose_name_plural = _("staff follow-ups")
        ordering = ["decided_at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} {self.decided_at:%Y-%m-%d}"


class StaffAlert(models.Model):
    """A deadline alert to a staff member (the assignee before, supervisors after)."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="alerts",
                                  verbose_name=_("complaint"))
    deadline = models.ForeignKey(ComplaintDeadline, on_delete=models.CASCADE,
                                 related_name="alerts", verbose_name=_("deadline"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="complaint_alerts", verbose_name=_("to"))
    kind = models.CharField(_("kind"), max_length=16,
                            choices=[("warning", _("Deadline near")),
                                     ("overdue", _("Deadline passed"))])
    message = models.CharField(_("message"), max_length=400)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint alert")
        verbose_name_plural = _("complaint alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deadline", "user", "kind"],
                                    name="complaint_alert_once"),
        ]

    def __str__(self):
        return self.message


# The nine elements of the community satisfaction survey (IKM), PermenPANRB 14/2017.
class SurveyElement(models.TextChoices):
    U1 = "U1", _("Requirements")
    U2 = "U2", _("Procedure")
    U3 = "U3", _("Service time")
    U4 = "U4", _("Cost")
    U5 = "U5", _("Service product")
    U6 = "U6", _("Staff competence")
    U7 = "U7", _("Staff behaviour")
    U8 = "U8", _("Complaint handling")
    U9 = "U9", _("Facilities")


SURVEY_ELEMENTS = tuple(SurveyElement.values)  # ("U1", ..., "U9")
SCORE_MIN, SCORE_MAX = 1, 4


def _score_field(element: SurveyElement):
    return models.PositiveSmallIntegerField(
        element.label, validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)])


class SurveyAnswer(models.Model):
    """One resident's answer to the satisfaction survey (IKM) after a served visit: one
    per case. The lane, service and counter are those of the visit (the case's last
    served ticket). The resident is kept only to scope the resident's own answers;
    reports and staff lists never show who answered."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("office"))
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("case"))
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("resident"))
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("lane"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("service"))
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("counter"))
    u1 = _score_field(SurveyElement.U1)
    u2 = _score_field(SurveyElement.U2)
    u3 = _score_field(SurveyElement.U3)
    u4 = _score_field(SurveyElement.U4)
    u5 = _score_field(SurveyElement.U5)
    u6 = _score_field(SurveyElement.U6)
    u7 = _score_field(SurveyElement.U7)
    u8 = _score_field(SurveyElement.U8)
    u9 = _score_field(SurveyElement.U9)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)
    # The complaint staff made of a low score's comment (complaints.services.surveys).
    complaint = models.OneToOneField(Complaint, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="survey_answer",
                                     verbose_name=_("complaint"))

    personal_data = PersonalData(
        data=[_("satisfaction answers and comments")],
        purpose=_("Measuring satisfaction with the service (IKM, PermenPANRB 14/2017)"),
        legal_basis=CONSENT,
        roles=[Role.OFFICE_ADMIN, Role.SUPERVISOR, Role.PUBLIC_RELATIONS,
               Role.PROVINCIAL_SUPERVISOR],
        fields=("resident", "application", "comment"),
    )

    class Meta:
        verbose_name = _("satisfaction survey answer")
        verbose_name_plural = _("satisfaction survey answers")
        ordering = ["-answered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["application"],
                                    name="survey_answer_one_per_application"),
            *[models.CheckConstraint(
                condition=Q(**{f"{e.lower()}__gte": SCORE_MIN, f"{e.lower()}__lte": SCORE_MAX}),
                name=f"survey_answer_{e.lower()}_1_to_4") for e in SURVEY_ELEMENTS],
        ]
        indexes = [
            models.Index(fields=["office", "answered_at"], name="survey_answer_office_at"),
            models.Index(fields=["resident"], name="survey_answer_resident"),
        ]

    def __str__(self):
        return f"{self.office_id} {self.answered_at:%Y-%m-%d %H:%M}"

    def scores(self) -> dict[str, int]:
        return {e: getattr(self, e.lower()) for e in SURVEY_ELEMENTS}
