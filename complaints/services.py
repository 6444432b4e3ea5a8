"""Every write of complaints: one function per operation, one transaction each, each
on the case timeline when the complaint is linked to a case.

Rules kept here:
- A complaint gets its reference from a per-office counter (registry.sequence_next).
- The same post (same channel and link, or the same SP4N-LAPOR! tracking ID) is logged
  once: the normalised link is unique per office and channel.
- Deadlines (first response, response, next update, resolution) are rows with their
  own due time in the office's working time (complaints.clock); while the complaint
  waits for the complainant they stand still, and on resuming each keeps the working
  time it had left.
- Public texts are redacted before they are stored (complaints.redaction).
- Staff follow-up is recorded and read by supervisors only.
"""

import logging
import re
from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from complaints import chronology as chronology_module
from complaints.clock import WorkingClock
from complaints.models import (
    SOCIAL_CHANNELS,
    Attachment,
    Category,
    Chronology,
    ChronologyEdit,
    ChronologyStatus,
    Complaint,
    ComplaintChannel,
    ComplaintDeadline,
    ComplaintPause,
    ComplaintResponse,
    ComplaintSettings,
    ComplaintStatus,
    DeadlineKind,
    Finding,
    FollowUpAction,
    LinkMethod,
    ResponseTemplate,
    StaffAlert,
    StaffFollowUp,
    Verdict,
)
from complaints.redaction import redact
from queues.selectors import application_by_ticket_code
from registry import tenancy
from registry.appointments.selectors import application_by_booking_code
from registry.background import enqueue_on_commit
from registry.calendar import office_local_text, office_today
from registry.central.selectors import application_by_receipt_code
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application, Office, Resident, Role, StaffMembership
from registry.nik import NikError, parse_nik
from registry.selectors import office_settings_get
from registry.services.cases import case_event_record
from registry.services.notifications import notification_send
from registry.services.sequences import sequence_next

logger = logging.getLogger(__name__)

TEXT_MAX = 10_000
ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# Alerts sent per sweep; the next sweep (every five minutes) takes the rest.
SWEEP_BATCH = 200
# Staff who may be assigned a complaint, and who handle them.
HANDLING_ROLES = (Role.PUBLIC_RELATIONS, Role.SUPERVISOR)
FOLLOW_UP_ROLES = (Role.SUPERVISOR, Role.PROVINCIAL_SUPERVISOR)
# Query parameters that identify a post (everything else is tracking noise).
KEPT_QUERY = {"v", "story_fbid", "id", "fbid", "p"}
HOST_ALIASES = {"twitter.com": "x.com", "mobile.twitter.com": "x.com", "youtu.be": "youtube.com",
                "m.facebook.com": "facebook.com", "web.facebook.com": "facebook.com",
                "fb.com": "facebook.com", "m.youtube.com": "youtube.com"}


# --- Settings ------------------------------------------------------------------------




# --- Intake --------------------------------------------------------------------------


def source_key(*, channel: str, link: str = "", lapor_tracking_id: str = "") -> str | None:
    """The post's identity: its link without tracking noise (or the LAPOR! tracking
    ID). None when there is nothing to compare."""
    if channel == ComplaintChannel.LAPOR and lapor_tracking_id.strip():
        return "lapor:" + re.sub(r"\s+", "", lapor_tracking_id).upper()
    link = (link or "").strip()
    if not link:
        return None
    if "://" not in link and "." in link.split("/")[0]:
        link = "https://" + link
    parts = urlsplit(link)
    if not parts.netloc:
        return link.lower().lstrip("@")  # a handle or an address
    host = parts.netloc.lower().split("@")[-1].split(":")[0]
    host = host.removeprefix("www.")
    host = HOST_ALIASES.get(host, host)
    path = re.sub(r"/+", "/", parts.path).rstrip("/")
    if parts.netloc.lower().endswith("youtu.be"):
        return f"youtube.com/watch?v={path.lstrip('/')}"
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query))
                     if k in KEPT_QUERY)
    return f"{host}{path}" + (f"?{query}" if query else "")


def _clean_text(text: str, *, required_code: str = "text_required") -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Write what the complaint says."), required_code)
    if len(text) > TEXT_MAX:
        raise DomainError(_("The text is too long (at most 10000 characters)."), "text_too_long")
    return text


def _check_assignee(office: Office, assignee) -> None:
    if assignee is None:
        return
    if not StaffMembership.objects.filter(office=office, user=assignee,
                                          role__in=HANDLING_ROLES,
                                          user__is_active=True).exists():
        raise DomainError(_("Assign the complaint to a public-relations officer or a "
                            "supervisor of this office."), "assignee_invalid")


def _reference(office: Office) -> str:
    year = office_today(office).year
    number = sequence_next(office=office, scope=f"complaint:{year}")
    return f"ADU-{office.code}-{year}-{number:05d}"


def _create(*, office: Office, channel: str, text: str, category: str, by=None,
            link: str = "", handle: str = "", lapor_tracking_id: str = "",
            posted_at: datetime | None = None, received_at: datetime | None = None,
            confidential: bool = False, complainant_name: str = "",
            resident: Resident | None = None, application: Application | None = None,
            link_method: str = "", assignee=None) -> Complaint:
    if channel not in ComplaintChannel.values:
        raise DomainError(_("Choose the channel the complaint came through."),
                          "channel_invalid")
    if category not in Category.values:
        raise DomainError(_("Choose a category."), "category_invalid")
    now = timezone.now()
    received_at = received_at or now
    if received_at > now or (posted_at is not None and posted_at > now):
        raise DomainError(_("A complaint cannot be posted or received in the future."),
                          "time_in_future")
    if posted_at is not None and posted_at > received_at:
        raise DomainError(_("A post cannot be received before it was posted."),
                          "posted_after_received")
    if channel == ComplaintChannel.LAPOR and not lapor_tracking_id.strip():
        raise DomainError(_("Give the SP4N-LAPOR! tracking ID."), "lapor_tracking_id_required")
    if channel in SOCIAL_CHANNELS and not link.strip():
        raise DomainError(_("Give the link to the post."), "link_required")
    key = source_key(channel=channel, link=link, lapor_tracking_id=lapor_tracking_id)
    if key is not None and len(key) > 500:
        raise DomainError(_("The link is too long."), "link_too_long")
    _check_assignee(office, assignee)
    _duplicate_check(office, channel, key)
    complaint = Complaint(
        office=office, reference=_reference(office), channel=channel, link=link.strip(),
        handle=handle.strip(), lapor_tracking_id=lapor_tracking_id.strip(), source_key=key,
        posted_at=posted_at, received_at=received_at, text=text, category=category,
        confidential=confidential,
        complainant_name=complainant_name.strip() or (resident.name if resident else ""),
        resident=resident, application=application, link_method=link_method,
        assignee=assignee, logged_by=by if getattr(by, "pk", None) else None, created_at=now)
    try:
        with transaction.atomic():
            complaint.save()
    except IntegrityError:
        _duplicate_check(office, channel, key)  # the race's loser learns which one
        raise
    _deadlines_open(complaint)
    if not ResponseTemplate.objects.filter(office=office).exists():
        templates_seed(office=office)
    _case_event(complaint, "complaint.received", by,
                by_resident=channel == ComplaintChannel.APP)
    if resident is not None:
        notification_send(
            office=office, resident=resident, kind="complaint.received",
            title=_("Complaint %(reference)s received"),
            body=_("%(office)s received your complaint %(reference)s. You will hear from us "
                   "by %(due)s at the latest; quote the reference when you contact us."),
            params={"reference": complaint.reference, "office": office.name,
                    "due": _local_text(complaint, _first_due(complaint))},
            application=application, dedup_key=f"complaint-received:{complaint.id}")
    return complaint


def _duplicate_check(office: Office, channel: str, key: str | None) -> None:
    if key is None:
        return
    earlier = Complaint.objects.filter(office=office, channel=channel,
                                       source_key=key).only("reference").first()
    if earlier is not None:
        raise Conflict(_("This post was already logged as %(reference)s.")
                       % {"reference": earlier.reference}, "duplicate_post",
                       extra={"duplicate_of": earlier.reference})


@transaction.atomic
def complaint_log(*, office: Office, channel: str, text: str, by, category: str = "other",
                  link: str = "", handle: str = "", lapor_tracking_id: str = "",
                  posted_at: datetime | None = None, received_at: datetime | None = None,
                  confidential: bool = False, complainant_name: str = "",
                  assignee=None, link_by: str = "", link_value: str = "",
                  link_day: date | None = None) -> Complaint:
    """Staff log a complaint seen on a channel; optionally linked at once to the
    resident and case (by NIK, booking, ticket or receipt code)."""
    if not tenancy.staff_has_role(by, office, *HANDLING_ROLES, Role.FRONT_DESK,
                                  Role.OFFICE_ADMIN):
        raise NotFound(_("Not found."), "not_found")
    if channel == ComplaintChannel.APP:
        raise DomainError(_("Complaints from the app are filed by the resident."),
                          "channel_invalid")
    resident = application = None
    if link_by:
        resident, application = resolve_case(office=office, method=link_by, value=link_value,
                                             day=link_day)
    return _create(office=office, channel=channel, text=_clean_text(text), category=category,
                   by=by, link=link, handle=handle, lapor_tracking_id=lapor_tracking_id,
                   posted_at=posted_at, received_at=received_at, confidential=confidential,
                   complainant_name=complainant_name, resident=resident,
                   application=application, link_method=link_by if link_by else "",
                   assignee=assignee)


@transaction.atomic
def complaint_file(*, resident: Resident, office: Office, text: str, category: str = "",
                   application: Application | None = None) -> Complaint:
    """A resident files a complaint in the app, optionally about one of their cases at
    that office (another resident's or office's case is not found)."""
    if application is not None and (application.resident_id != resident.id
                                     or application.office_id != office.id):
        raise NotFound(_("This case was not found."), "application_not_found")
    return _create(office=office, channel=ComplaintChannel.APP, text=_clean_text(text),
                   category=category or Category.OTHER, resident=resident,
                   complainant_name=resident.name, application=application,
                   link_method=LinkMethod.APP if application else "")


# --- Linking to the resident and the case --------------------------------------------


def resolve_case(*, office: Office, method: str, value: str,
                 day: date | None = None) -> tuple[Resident, Application | None]:
    """The resident and case a NIK, booking code, ticket code (of `day`, or the latest),
    receipt code or case number points at, within the office."""
    value = (value or "").strip()
    if not value or len(value) > 40:
        raise DomainError(_("Give the code or number to link by."), "link_value_required")
    not_found = NotFound(_("Nothing of this office matches %(value)s.")
                         % {"value": value[:40]}, "link_not_found")
    if method == LinkMethod.NIK:
        try:
            nik = parse_nik(value).nik
        except NikError as exc:
            raise DomainError(exc.message, exc.code) from exc
        resident = Resident.objects.filter(nik=nik).first()
        if resident is None:
            raise not_found
        application = (Application.objects.filter(office=office, resident=resident)
                       .order_by("-created_at", "-id").first())
        if application is None and resident.domicile_office_id != office.id:
            raise not_found
        return resident, application
    if method == LinkMethod.APPLICATION:
        application = Application.objects.filter(office=office, number=value).first()
    elif method == LinkMethod.RECEIPT:
        application = application_by_receipt_code(office=office, code=value)
    elif method == LinkMethod.BOOKING:
        application = application_by_booking_code(office=office, code=value)
    elif method == LinkMethod.TICKET:
        application = application_by_ticket_code(office=office, code=value, day=day)
    else:
        raise DomainError(_("Link by NIK, booking code, ticket code, receipt code or case "
                            "number."), "link_method_invalid")
    if application is None:
        raise not_found
    return application.resident, application


@transaction.atomic
def complaint_link_case(*, complaint: Complaint, method: str, value: str, by,
                        day: date | None = None) -> Complaint:
    """Link the complaint to the resident and the case it is about."""
    complaint = _lock(complaint)
    resident, application = resolve_case(office=complaint.office, method=method, value=value,
                                          day=day)
    changed = complaint.application_id != (application.id if application else None)
    complaint.resident = resident
    complaint.application = application
    complaint.link_method = method
    if not complaint.complainant_name:
        complaint.complainant_name = resident.name
    complaint.save(update_fields=["resident", "application", "link_method",
                                  "complainant_name"])
    if changed:
        _case_event(complaint, "complaint.linked", by)
    return complaint


def _case_event(complaint: Complaint, kind: str, by, *, by_resident: bool = False) -> None:
    """Tell the case timeline about the complaint. A confidential complaint is not
    written there: every staff member who reads the case would see who complained."""
    if complaint.application_id is None or complaint.confidential:
        return
    case_event_record(application=complaint.application, kind=kind,
                      params={"reference": complaint.reference}, actor=by,
                      by_resident=by_resident)


def _lock(complaint: Complaint) -> Complaint:
    """The complaint's row lock, held to the end of the caller's transaction."""
    return (Complaint.objects.select_for_update(of=("self",))
            .select_related("office", "resident", "application").get(pk=complaint.pk))


@transaction.atomic
def complaint_assign(*, complaint: Complaint, assignee, by) -> Complaint:
    complaint = _lock(complaint)
    _check_assignee(complaint.office, assignee)
    complaint.assignee = assignee
    complaint.save(update_fields=["assignee"])
    return complaint


@transaction.atomic
def complaint_classify(*, complaint: Complaint, category: str, confidential: bool,
                       by) -> Complaint:
    complaint = _lock(complaint)
    if category not in Category.values:
        raise DomainError(_("Choose a category."), "category_invalid")
    complaint.category = category
    complaint.confidential = bool(confidential)
    complaint.save(update_fields=["category", "confidential"])
    return complaint


def attachment_add(*, complaint: Complaint, upload, by=None) -> Attachment:
    """Attach a screenshot or document, checked by its content (PDF, JPEG or PNG)."""
    import filetype

    if upload is None or not hasattr(upload, "read"):
        raise DomainError(_("Choose a file."), "file_required")
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise DomainError(_("The file is too large (at most 5 MB)."), "file_too_large")
    upload.seek(0)
    kind = filetype.guess(upload.read(261))
    upload.seek(0)
    if kind is None or kind.mime not in ATTACHMENT_TYPES:
        raise DomainError(_("Attach a PDF, JPEG or PNG file."), "file_type")
    if kind.mime != "application/pdf":
        from PIL import Image

        try:
            with Image.open(upload) as image:
                image.verify()
        except Exception as exc:  # Pillow raises many kinds for a broken file
            raise DomainError(_("The picture could not be read."), "file_broken") from exc
        finally:
            upload.seek(0)
    with transaction.atomic():
        attachment = Attachment(office_id=complaint.office_id, complaint=complaint,
                                content_type=kind.mime, size=upload.size,
                                uploaded_by=by if getattr(by, "pk", None) else None)
        attachment.file.save(f"{complaint.reference}.{ATTACHMENT_TYPES[kind.mime]}", upload,
                             save=False)
        attachment.save()
    return attachment


# --- Deadlines -----------------------------------------------------------------------


def _deadline_spec(settings: ComplaintSettings, kind: str) -> tuple[int, int]:
    return {
        DeadlineKind.ACKNOWLEDGE: (settings.acknowledge_days, settings.acknowledge_hours),
        DeadlineKind.RESPOND: (settings.respond_days, settings.respond_hours),
        DeadlineKind.RESOLVE: (settings.resolve_days, settings.resolve_hours),
        DeadlineKind.UPDATE: (settings.update_every_days, 0),
    }[kind]


def _warn_at(clock: WorkingClock, start: datetime, due: datetime, hours: int) -> datetime:
    total = clock.minutes_between(start, due)
    lead = hours * 60
    if total <= lead:
        return clock.start_of_work(start)
    return clock.add(start, minutes=total - lead)


def _deadline_create(complaint: Complaint, kind: str, start: datetime,
                     clock: WorkingClock | None = None) -> ComplaintDeadline:
    settings = office_settings_get(ComplaintSettings, office=complaint.office)
    clock = clock or WorkingClock(complaint.office)
    days, hours = _deadline_spec(settings, kind)
    due = clock.add(start, days=days, hours=hours)
    return ComplaintDeadline.objects.create(
        office_id=complaint.office_id, complaint=complaint, kind=kind, due_at=due,
        warn_at=_warn_at(clock, start, due, settings.warn_before_hours),
        paused=complaint.waiting_since is not None)


def _deadlines_open(complaint: Complaint) -> None:
    clock = WorkingClock(complaint.office)
    for kind in (DeadlineKind.ACKNOWLEDGE, DeadlineKind.RESPOND, DeadlineKind.RESOLVE):
        _deadline_create(complaint, kind, complaint.received_at, clock)


def _first_due(complaint: Complaint) -> datetime | None:
    deadline = complaint.deadlines.filter(met_at__isnull=True).order_by("due_at").first()
    return deadline.due_at if deadline else None


def _local_text(complaint: Complaint, moment: datetime | None) -> str:
    return office_local_text(moment, complaint.office)


def _meet(complaint: Complaint, kinds, at: datetime) -> None:
    ComplaintDeadline.objects.filter(complaint=complaint, kind__in=kinds,
                                     met_at__isnull=True).update(met_at=at)


def _net_minutes(complaint: Complaint, until: datetime) -> int:
    """Working minutes from receipt to `until`, less the time waiting for the
    complainant."""
    clock = WorkingClock(complaint.office)
    total = clock.minutes_between(complaint.received_at, until)
    for pause in complaint.pauses.all():
        end = min(pause.ended_at or until, until)
        total -= clock.minutes_between(max(pause.started_at, complaint.received_at), end)
    return max(0, total)


@transaction.atomic
def complaint_wait(*, complaint: Complaint, reason: str, by) -> Complaint:
    """The office asked the complainant for something (a document, a detail): the
    deadlines stand still until they answer."""
    complaint = _lock(complaint)
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise DomainError(_("Say what the complainant was asked for."), "reason_required")
    if complaint.status == ComplaintStatus.RESOLVED:
        raise Conflict(_("This complaint is resolved."), "complaint_resolved")
    if complaint.waiting_since is not None:
        raise Conflict(_("The complaint already waits for the complainant."), "already_waiting")
    now = timezone.now()
    complaint.waiting_since = now
    complaint.status = ComplaintStatus.WAITING
    complaint.save(update_fields=["waiting_since", "status"])
    ComplaintPause.objects.create(office_id=complaint.office_id, complaint=complaint,
                                  started_at=now, reason=reason,
                                  by=by if getattr(by, "pk", None) else None)
    complaint.deadlines.filter(met_at__isnull=True).update(paused=True)
    return complaint


@transaction.atomic
def complaint_resume(*, complaint: Complaint, by, at: datetime | None = None) -> Complaint:
    """The complainant answered: each open deadline gets back the working time it had
    left when the wait began."""
    complaint = _lock(complaint)
    if complaint.waiting_since is None:
        raise Conflict(_("The complaint is not waiting for the complainant."), "not_waiting")
    now = at or timezone.now()
    clock = WorkingClock(complaint.office)
    pause = complaint.pauses.get(ended_at__isnull=True)
    pause.ended_at = now
    pause.working_minutes = clock.minutes_between(pause.started_at, now)
    pause.save(update_fields=["ended_at", "working_minutes"])
    for deadline in complaint.deadlines.filter(met_at__isnull=True).select_for_update():
        left = clock.minutes_between(pause.started_at, deadline.due_at)
        warn_left = clock.minutes_between(pause.started_at, deadline.warn_at)
        if left > 0:
            deadline.due_at = clock.add(now, minutes=left)
        if warn_left > 0:
            deadline.warn_at = clock.add(now, minutes=warn_left)
        deadline.paused = False
        deadline.save(update_fields=["due_at", "warn_at", "paused"])
    complaint.waiting_since = None
    complaint.status = (ComplaintStatus.RESPONDED if complaint.responded_at
                        else ComplaintStatus.IN_PROGRESS if complaint.acknowledged_at
                        else ComplaintStatus.RECEIVED)
    complaint.save(update_fields=["waiting_since", "status"])
    return complaint


# --- Responses -----------------------------------------------------------------------


def template_render(*, template: ResponseTemplate, complaint: Complaint,
                    with_name: bool = True) -> str:
    """A template's text for this complaint: {reference}, {name}, {office}, {date}.
    Without the name for a reader who may not see who complained."""
    from django.utils import formats

    values = {"reference": complaint.reference,
              "name": (with_name and complaint.complainant_name) or "Bapak/Ibu",
              "office": complaint.office.name,
              "date": formats.date_format(office_today(complaint.office), "j F Y")}
    return re.sub(r"\{(reference|name|office|date)\}", lambda m: values[m.group(1)],
                  template.body)


def _public_text(complaint: Complaint, text: str) -> tuple[str, int]:
    from complaints.selectors import resident_names_in

    terms = chronology_module.private_terms(complaint) if complaint.application_id else set()
    terms |= resident_names_in(text, exclude_id=complaint.resident_id)
    return redact(text, private_terms=terms)


def _response_create(complaint: Complaint, *, kind: str, text: str, channel: str, by,
                     template: ResponseTemplate | None, at: datetime) -> ComplaintResponse:
    if channel not in ComplaintChannel.values:
        raise DomainError(_("Choose the channel the response was given on."),
                          "channel_invalid")
    if template is not None and template.office_id != complaint.office_id:
        raise NotFound(_("Not found."), "not_found")
    safe, count = _public_text(complaint, _clean_text(text, required_code="text_required"))
    return ComplaintResponse.objects.create(
        office_id=complaint.office_id, complaint=complaint, kind=kind, text=safe,
        channel=channel, at=at, by=by, template=template, redactions=count)


def _tell_resident(complaint: Complaint, response: ComplaintResponse, title) -> None:
    if complaint.resident is None:
        return
    notification_send(
        office=complaint.office, resident=complaint.resident, kind="complaint.response",
        title=title, body=_("%(reference)s: %(text)s"),
        params={"reference": complaint.reference, "text": response.text[:1500]},
        application=complaint.application, dedup_key=f"complaint-response:{response.id}")


def _check_open(complaint: Complaint) -> None:
    if complaint.status == ComplaintStatus.RESOLVED:
        raise Conflict(_("This complaint is resolved."), "complaint_resolved")


def _check_handler(complaint: Complaint, by) -> None:
    if not tenancy.staff_has_role(by, complaint.office_id, *HANDLING_ROLES):
        raise NotFound(_("Not found."), "not_found")


@transaction.atomic
def complaint_acknowledge(*, complaint: Complaint, text: str, channel: str, by,
                          template: ResponseTemplate | None = None) -> ComplaintResponse:
    """The first response: the complainant is told the complaint is being handled."""
    complaint = _lock(complaint)
    _check_handler(complaint, by)
    _check_open(complaint)
    if complaint.acknowledged_at is not None:
        raise Conflict(_("The complaint was already acknowledged."), "already_acknowledged")
    now = timezone.now()
    response = _response_create(complaint, kind="acknowledge", text=text, channel=channel,
                                by=by, template=template, at=now)
    _first_response(complaint, now)
    if complaint.waiting_since is None:
        complaint.status = ComplaintStatus.IN_PROGRESS
    complaint.save(update_fields=["acknowledged_at", "first_response_minutes", "status"])
    _tell_resident(complaint, response, _("Your complaint is being handled"))
    return response


def _first_response(complaint: Complaint, now: datetime) -> None:
    if complaint.acknowledged_at is None:
        complaint.acknowledged_at = now
        complaint.first_response_minutes = _net_minutes(complaint, now)
        _meet(complaint, [DeadlineKind.ACKNOWLEDGE], now)


@transaction.atomic
def complaint_respond(*, complaint: Complaint, text: str, channel: str, by,
                      template: ResponseTemplate | None = None) -> ComplaintResponse:
    """The public response (or, after it, an update): recorded with its time and
    channel, redacted, and told to the resident in the app. Until the complaint is
    resolved, the next update is due within the office's update interval."""
    complaint = _lock(complaint)
    _check_handler(complaint, by)
    _check_open(complaint)
    now = timezone.now()
    kind = "update" if complaint.responded_at else "response"
    response = _response_create(complaint, kind=kind, text=text, channel=channel, by=by,
                                template=template, at=now)
    _first_response(complaint, now)
    if complaint.responded_at is None:
        complaint.responded_at = now
        _meet(complaint, [DeadlineKind.RESPOND], now)
    _meet(complaint, [DeadlineKind.UPDATE], now)
    _deadline_create(complaint, DeadlineKind.UPDATE, now)
    if complaint.waiting_since is None:
        complaint.status = ComplaintStatus.RESPONDED
    complaint.save(update_fields=["acknowledged_at", "first_response_minutes",
                                  "responded_at", "status"])
    _case_event(complaint, "complaint.responded", by)
    _tell_resident(complaint, response, _("Response to your complaint"))
    return response


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, text: str, channel: str, by,
                      template: ResponseTemplate | None = None) -> ComplaintResponse:
    """Close the complaint with a final word to the complainant; every open deadline
    is met now."""
    complaint = _lock(complaint)
    _check_handler(complaint, by)
    _check_open(complaint)
    if complaint.waiting_since is not None:
        complaint_resume(complaint=complaint, by=by)
        complaint.refresh_from_db()
    now = timezone.now()
    response = _response_create(complaint, kind="resolution", text=text, channel=channel,
                                by=by, template=template, at=now)
    _first_response(complaint, now)
    complaint.responded_at = complaint.responded_at or now
    complaint.resolved_at = now
    complaint.resolution_minutes = _net_minutes(complaint, now)
    complaint.status = ComplaintStatus.RESOLVED
    complaint.save(update_fields=["acknowledged_at", "first_response_minutes", "responded_at",
                                  "resolved_at", "resolution_minutes", "status"])
    _meet(complaint, DeadlineKind.values, now)
    _case_event(complaint, "complaint.resolved", by)
    _tell_resident(complaint, response, _("Your complaint is resolved"))
    return response


# --- Chronology and findings --------------------------------------------------------


@transaction.atomic
def chronology_generate(*, complaint: Complaint, by) -> Chronology:
    """Assemble the chronology from the records now: a new draft version (the previous
    draft, if any, is superseded and kept)."""
    complaint = _lock(complaint)
    _check_handler(complaint, by)
    if complaint.application is None:
        raise DomainError(_("Link the complaint to the resident's case first."),
                          "case_not_linked")
    points = chronology_module.assemble(complaint)
    Chronology.objects.filter(complaint=complaint, status=ChronologyStatus.DRAFT).update(
        status=ChronologyStatus.SUPERSEDED)
    version = (complaint.chronologies.order_by("-version").values_list("version", flat=True)
               .first() or 0) + 1
    return Chronology.objects.create(
        office_id=complaint.office_id, complaint=complaint, version=version, generated=points,
        points=[dict(point) for point in points], generated_by=by)


def _editable(chronology: Chronology) -> Chronology:
    chronology = Chronology.objects.select_for_update(of=("self",)).select_related(
        "complaint", "complaint__office").get(pk=chronology.pk)
    if chronology.status != ChronologyStatus.DRAFT:
        raise Conflict(_("Only a draft chronology can be changed."), "chronology_not_draft")
    return chronology


@transaction.atomic
def chronology_edit(*, chronology: Chronology, texts: list[str], by,
                    note: str = "") -> Chronology:
    """Staff reword, remove or add points before publishing. Each point keeps the
    records of the generated point at its place when it was reworded; the change is
    recorded with what it was before."""
    chronology = _editable(chronology)
    _check_handler(chronology.complaint, by)
    cleaned = [(t or "").strip() for t in texts]
    cleaned = [t for t in cleaned if t]
    if not cleaned:
        raise DomainError(_("A chronology has at least one point."), "points_required")
    if len(cleaned) > 200 or any(len(t) > 2000 for t in cleaned):
        raise DomainError(_("Keep to 200 points of at most 2000 characters."),
                          "points_too_long")
    before = chronology.points
    by_text = {p["text"]: p for p in before}
    points = []
    for number, text in enumerate(cleaned, start=1):
        earlier = by_text.get(text) or (before[number - 1] if number <= len(before) else None)
        points.append({"n": number, "at": earlier.get("at") if earlier else None,
                       "text": text, "sources": earlier.get("sources", []) if earlier else [],
                       "edited": text != (earlier or {}).get("text")})
    if [p["text"] for p in points] == [p["text"] for p in before]:
        return chronology
    ChronologyEdit.objects.create(office_id=chronology.office_id, chronology=chronology,
                                  by=by, before=before, after=points, note=note[:300])
    chronology.points = points
    chronology.save(update_fields=["points"])
    return chronology


@transaction.atomic
def chronology_publish(*, chronology: Chronology, by) -> Chronology:
    """Publish the draft: its points are redacted, it is frozen, and an earlier
    published version is superseded."""
    chronology = _editable(chronology)
    complaint = chronology.complaint
    _check_handler(complaint, by)
    from complaints.selectors import resident_names_in

    terms = chronology_module.private_terms(complaint)
    points = []
    for point in chronology.points:
        names = resident_names_in(point["text"], exclude_id=complaint.resident_id)
        text, _count = redact(point["text"], private_terms=terms | names)
        points.append({**point, "text": text})
    Chronology.objects.filter(complaint=complaint, status=ChronologyStatus.PUBLISHED).update(
        status=ChronologyStatus.SUPERSEDED)
    chronology.points = points
    chronology.status = ChronologyStatus.PUBLISHED
    chronology.published_at = timezone.now()
    chronology.published_by = by
    chronology.save(update_fields=["points", "status", "published_at", "published_by"])
    return chronology


@transaction.atomic
def finding_add(*, complaint: Complaint, claim: str, verdict: str, explanation: str,
                evidence: list[tuple[str, int]], by) -> Finding:
    """A finding on one claim, resting on records of the case (each one a source the
    chronology is assembled from)."""
    complaint = _lock(complaint)
    _check_handler(complaint, by)
    claim = (claim or "").strip()
    explanation = (explanation or "").strip()
    if not claim or len(claim) > 500:
        raise DomainError(_("State the claim (at most 500 characters)."), "claim_required")
    if not explanation or len(explanation) > TEXT_MAX:
        raise DomainError(_("Explain the finding."), "explanation_required")
    if verdict not in Verdict.values:
        raise DomainError(_("Choose whether the claim is upheld."), "verdict_invalid")
    if verdict != Verdict.UNDETERMINED and not evidence:
        raise DomainError(_("Name the records the finding rests on."), "evidence_required")
    sources = chronology_module.sources_of(complaint)
    cited = []
    for kind, record_id in evidence:
        label = sources.get((kind, int(record_id)))
        if label is None:
            raise DomainError(_("A finding can rest only on records of this case."),
                              "evidence_not_in_case")
        cited.append({"type": kind, "id": int(record_id), "label": label})
    position = (complaint.findings.order_by("-position").values_list("position", flat=True)
                .first() or 0) + 1
    return Finding.objects.create(office_id=complaint.office_id, complaint=complaint,
                                  position=position, claim=claim, verdict=verdict,
                                  explanation=explanation, evidence=cited, created_by=by)


# --- Staff follow-up (supervisors only) ---------------------------------------------


@transaction.atomic
def follow_up_record(*, complaint: Complaint, action: str, decision: str, by,
                     staff_member=None, staff_description: str = "") -> StaffFollowUp:
    """A supervisor records what is done about the staff involved (coaching, a
    warning, training): who decided what and when. Anyone else is refused as if the
    complaint did not exist for them."""
    if not tenancy.staff_has_role(by, complaint.office_id, *FOLLOW_UP_ROLES):
        raise NotFound(_("Not found."), "not_found")
    complaint = _lock(complaint)
    decision = (decision or "").strip()
    if action not in FollowUpAction.values:
        raise DomainError(_("Choose the action."), "action_invalid")
    if not decision or len(decision) > TEXT_MAX:
        raise DomainError(_("Write the decision."), "decision_required")
    if staff_member is not None and not StaffMembership.objects.filter(
            office_id=complaint.office_id, user=staff_member).exists():
        raise DomainError(_("Choose a staff member of this office."), "staff_invalid")
    if staff_member is None and not staff_description.strip():
        raise DomainError(_("Say which staff member it is about."), "staff_required")
    return StaffFollowUp.objects.create(
        office_id=complaint.office_id, complaint=complaint, staff_member=staff_member,
        staff_description=staff_description.strip()[:200], action=action, decision=decision,
        decided_by=by)


@transaction.atomic
def follow_up_done(*, follow_up: StaffFollowUp, by) -> StaffFollowUp:
    if not tenancy.staff_has_role(by, follow_up.office_id, *FOLLOW_UP_ROLES):
        raise NotFound(_("Not found."), "not_found")
    follow_up = StaffFollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.done_at is None:
        follow_up.done_at = timezone.now()
        follow_up.save(update_fields=["done_at"])
    return follow_up


# --- The deadline sweep -------------------------------------------------------------


def _supervisors(office_id: int) -> list:
    ids = StaffMembership.objects.filter(office_id=office_id, role=Role.SUPERVISOR,
                                         user__is_active=True).values("user_id")
    return list(get_user_model().objects.filter(id__in=ids).order_by("id"))


def _alert(deadline: ComplaintDeadline, users, kind: str, now: datetime) -> int:
    complaint = deadline.complaint
    due = _local_text(complaint, deadline.due_at)
    if kind == "warning":
        message = _("%(reference)s: %(deadline)s is due at %(due)s.")
    else:
        message = _("%(reference)s: %(deadline)s was due at %(due)s and is overdue.")
    # Stored once for every reader, so written in the office's language.
    with translation.override(django_settings.LANGUAGE_CODE):
        text = str(message % {"reference": complaint.reference,
                              "deadline": str(deadline.get_kind_display()).lower(),
                              "due": due})
    alerts = StaffAlert.objects.bulk_create(
        [StaffAlert(office_id=deadline.office_id, complaint=complaint, deadline=deadline,
                    user=user, kind=kind, message=text[:400], created_at=now)
         for user in users], ignore_conflicts=True)
    from complaints.tasks import complaint_alert_email

    for user in users:
        if user.email:
            enqueue_on_commit(complaint_alert_email, deadline.id, user.id, kind)
    return len(alerts)


def deadlines_sweep(*, now: datetime | None = None) -> int:
    """Warn the assignee of deadlines coming up and alert the supervisors of deadlines
    passed, each once (a conditional update claims each row, so two sweeps at once
    alert once). Deadlines of complaints waiting for the complainant stand still.
    Bounded batches; safe to run at any time."""
    now = now or timezone.now()
    sent = 0
    base = ComplaintDeadline.objects.filter(met_at__isnull=True, paused=False)
    overdue = list(base.filter(escalated_at__isnull=True, due_at__lte=now)
                   .order_by("due_at").values_list("id", flat=True)[:SWEEP_BATCH])
    for deadline_id in overdue:
        with transaction.atomic():
            if not ComplaintDeadline.objects.filter(
                    pk=deadline_id, escalated_at__isnull=True, met_at__isnull=True).update(
                    escalated_at=now, warned_at=now):
                continue
            deadline = ComplaintDeadline.objects.select_related(
                "complaint", "complaint__office").get(pk=deadline_id)
            sent += _alert(deadline, _supervisors(deadline.office_id), "overdue", now)
    upcoming = list(base.filter(warned_at__isnull=True, warn_at__lte=now, due_at__gt=now)
                    .order_by("warn_at").values_list("id", flat=True)[:SWEEP_BATCH])
    for deadline_id in upcoming:
        with transaction.atomic():
            if not ComplaintDeadline.objects.filter(
                    pk=deadline_id, warned_at__isnull=True, met_at__isnull=True).update(
                    warned_at=now):
                continue
            deadline = ComplaintDeadline.objects.select_related(
                "complaint", "complaint__office", "complaint__assignee").get(pk=deadline_id)
            assignee = deadline.complaint.assignee
            users = [assignee] if assignee is not None else _supervisors(deadline.office_id)
            sent += _alert(deadline, users, "warning", now)
    return sent


def alert_email(*, deadline_id: int, user_id: int, kind: str) -> bool:
    """E-mail one alert to a staff member (the alert row is already in their list)."""
    from django.core.mail import send_mail

    alert = (StaffAlert.objects.filter(deadline_id=deadline_id, user_id=user_id, kind=kind)
             .select_related("user").first())
    if alert is None or not alert.user.email:
        return False
    send_mail(subject=alert.message[:150], message=alert.message, from_email=None,
              recipient_list=[alert.user.email])
    return True


@transaction.atomic
def alerts_mark_read(*, user, ids: list[int] | None = None) -> int:
    unread = StaffAlert.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(id__in=ids)
    return unread.update(read_at=timezone.now())


# --- Templates ----------------------------------------------------------------------


@transaction.atomic
def templates_seed(*, office: Office) -> int:
    """The standard templates per category for an office (kept as the office edited
    them when they exist)."""
    from complaints.templates_text import STANDARD_TEMPLATES

    created = 0
    for category, title, body in STANDARD_TEMPLATES:
        _template, made = ResponseTemplate.objects.get_or_create(
            office=office, category=category, title=title, defaults={"body": body})
        created += made
    return created
