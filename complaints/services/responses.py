"""Answering the complainant: the response templates (seeded per office, rendered for a
complaint), and the acknowledgement, responses and updates, and resolution, each
redacted before it is stored (complaints.redaction) and told to the resident in the app.
"""

import re
from datetime import datetime

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from complaints import chronology as assembler
from complaints.models import (
    Complaint,
    ComplaintChannel,
    ComplaintResponse,
    ComplaintStatus,
    DeadlineKind,
    ResponseTemplate,
)
from complaints.redaction import redact
from complaints.selectors import resident_names_in
from complaints.services.deadlines import (
    complaint_resume,
    deadline_create,
    deadlines_meet,
    net_minutes,
)
from complaints.services.handling import complaint_event_record, complaint_lock, handler_check
from complaints.templates_text import STANDARD_TEMPLATES
from registry.calendar import office_today
from registry.errors import Conflict, DomainError, NotFound
from registry.models import Office
from registry.services.notifications import notification_send

TEXT_MAX = 10_000


def text_clean(text: str, *, required_code: str = "text_required") -> str:
    """A complaint's or response's text, stripped; refused when empty or too
    long."""
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Write what the complaint says."), required_code)
    if len(text) > TEXT_MAX:
        raise DomainError(_("The text is too long (at most 10000 characters)."), "text_too_long")
    return text


def template_render(*, template: ResponseTemplate, complaint: Complaint,
                    with_name: bool = True) -> str:
    """A template's text for this complaint: {reference}, {name}, {office}, {date}.
    Without the name for a reader who may not see who complained."""
    values = {"reference": complaint.reference,
              "name": (with_name and complaint.complainant_name) or "Bapak/Ibu",
              "office": complaint.office.name,
              "date": formats.date_format(office_today(complaint.office), "j F Y")}
    return re.sub(r"\{(reference|name|office|date)\}", lambda m: values[m.group(1)],
                  template.body)


@transaction.atomic
def templates_seed(*, office: Office) -> int:
    """The standard templates per category for an office (kept as the office edited
    them when they exist)."""
    created = 0
    for category, title, body in STANDARD_TEMPLATES:
        _template, made = ResponseTemplate.objects.get_or_create(
            office=office, category=category, title=title, defaults={"body": body})
        created += made
    return created


def _public_text(complaint: Complaint, text: str) -> tuple[str, int]:
    terms = assembler.private_terms(complaint) if complaint.application_id else set()
    terms |= resident_names_in(text, exclude_id=complaint.resident_id)
    return redact(text, private_terms=terms)


def _response_create(complaint: Complaint, *, kind: str, text: str, channel: str, by,
                     template: ResponseTemplate | None, at: datetime) -> ComplaintResponse:
    if channel not in ComplaintChannel.values:
        raise DomainError(_("Choose the channel the response was given on."),
                          "channel_invalid")
    if template is not None and template.office_id != complaint.office_id:
        raise NotFound(_("Not found."), "not_found")
    safe, count = _public_text(complaint, text_clean(text, required_code="text_required"))
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


@transaction.atomic
def complaint_acknowledge(*, complaint: Complaint, text: str, channel: str, by,
                          template: ResponseTemplate | None = None) -> ComplaintResponse:
    """The first response: the complainant is told the complaint is being handled."""
    complaint = complaint_lock(complaint)
    handler_check(complaint, by)
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
        complaint.first_response_minutes = net_minutes(complaint, now)
        deadlines_meet(complaint, [DeadlineKind.ACKNOWLEDGE], now)


@transaction.atomic
def complaint_respond(*, complaint: Complaint, text: str, channel: str, by,
                      template: ResponseTemplate | None = None) -> ComplaintResponse:
    """The public response (or, after it, an update): recorded with its time and
    channel, redacted, and told to the resident in the app. Until the complaint is
    resolved, the next update is due within the office's update interval."""
    complaint = complaint_lock(complaint)
    handler_check(complaint, by)
    _check_open(complaint)
    now = timezone.now()
    kind = "update" if complaint.responded_at else "response"
    response = _response_create(complaint, kind=kind, text=text, channel=channel, by=by,
                                template=template, at=now)
    _first_response(complaint, now)
    if complaint.responded_at is None:
        complaint.responded_at = now
        deadlines_meet(complaint, [DeadlineKind.RESPOND], now)
    deadlines_meet(complaint, [DeadlineKind.UPDATE], now)
    deadline_create(complaint, DeadlineKind.UPDATE, now)
    if complaint.waiting_since is None:
        complaint.status = ComplaintStatus.RESPONDED
    complaint.save(update_fields=["acknowledged_at", "first_response_minutes",
                                  "responded_at", "status"])
    complaint_event_record(complaint, "complaint.responded", by)
    _tell_resident(complaint, response, _("Response to your complaint"))
    return response


@transaction.atomic
def complaint_resolve(*, complaint: Complaint, text: str, channel: str, by,
                      template: ResponseTemplate | None = None) -> ComplaintResponse:
    """Close the complaint with a final word to the complainant; every open deadline
    is met now."""
    complaint = complaint_lock(complaint)
    handler_check(complaint, by)
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
    complaint.resolution_minutes = net_minutes(complaint, now)
    complaint.status = ComplaintStatus.RESOLVED
    complaint.save(update_fields=["acknowledged_at", "first_response_minutes", "responded_at",
                                  "resolved_at", "resolution_minutes", "status"])
    deadlines_meet(complaint, DeadlineKind.values, now)
    complaint_event_record(complaint, "complaint.resolved", by)
    _tell_resident(complaint, response, _("Your complaint is resolved"))
    return response
