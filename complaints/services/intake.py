"""Taking a complaint in: staff log one seen on a channel, a resident files one in the
app.

Rules kept here:
- A complaint gets its reference from a per-office counter (registry.sequence_next).
- The same post (same channel and link, or the same SP4N-LAPOR! tracking ID) is logged
  once: the normalised link (source_key) is unique per office and channel.
- A new complaint opens its deadlines (complaints.services.deadlines) and is on the
  case timeline when it is linked to a case.
"""

import re
from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints.models import (
    SOCIAL_CHANNELS,
    Category,
    Complaint,
    ComplaintChannel,
    LinkMethod,
    ResponseTemplate,
)
from complaints.services.deadlines import deadlines_open, first_due, local_text
from complaints.services.handling import (
    HANDLING_ROLES,
    assignee_check,
    complaint_event_record,
    resolve_case,
)
from complaints.services.responses import templates_seed, text_clean
from registry import tenancy
from registry.calendar import office_today
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Application, Office, Resident, Role
from registry.services.notifications import notification_send
from registry.services.sequences import sequence_next

# Query parameters that identify a post (everything else is tracking noise).
KEPT_QUERY = {"v", "story_fbid", "id", "fbid", "p"}
HOST_ALIASES = {"twitter.com": "x.com", "mobile.twitter.com": "x.com", "youtu.be": "youtube.com",
                "m.facebook.com": "facebook.com", "web.facebook.com": "facebook.com",
                "fb.com": "facebook.com", "m.youtube.com": "youtube.com"}


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
    assignee_check(office, assignee)
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
    deadlines_open(complaint)
    if not ResponseTemplate.objects.filter(office=office).exists():
        templates_seed(office=office)
    complaint_event_record(complaint, "complaint.received", by,
                           by_resident=channel == ComplaintChannel.APP)
    if resident is not None:
        notification_send(
            office=office, resident=resident, kind="complaint.received",
            title=_("Complaint %(reference)s received"),
            body=_("%(office)s received your complaint %(reference)s. You will hear from us "
                   "by %(due)s at the latest; quote the reference when you contact us."),
            params={"reference": complaint.reference, "office": office.name,
                    "due": local_text(complaint, first_due(complaint))},
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
    return _create(office=office, channel=channel, text=text_clean(text), category=category,
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
    return _create(office=office, channel=ComplaintChannel.APP, text=text_clean(text),
                   category=category or Category.OTHER, resident=resident,
                   complainant_name=resident.name, application=application,
                   link_method=LinkMethod.APP if application else "")


@transaction.atomic
def complaint_from_survey(*, office: Office, by, text: str, category: str,
                          resident: Resident, application: Application) -> Complaint:
    """A satisfaction-survey comment taken in as a complaint by staff
    (complaints.services.surveys.survey_answer_escalate, which checks who may). It is
    confidential: the survey is anonymous, so only supervisors and the assignee see
    who answered."""
    return _create(office=office, channel=ComplaintChannel.SURVEY, text=text_clean(text),
                   category=category, by=by, confidential=True, resident=resident,
                   complainant_name=resident.name, application=application,
                   link_method=LinkMethod.APPLICATION)
