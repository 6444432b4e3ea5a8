"""Handling a complaint once logged: linking it to the resident and the case it is
about, assigning and classifying it, and its attachments; with what every other step
of handling shares (the complaint's row lock, its note on the case timeline, and who
may handle it).
"""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from complaints import lock_objects
from complaints.models import Attachment, Category, Complaint, LinkMethod
from queues.selectors import application_by_ticket_code
from registry import tenancy
from registry.appointments.selectors import application_by_booking_code
from registry.central.selectors import application_by_receipt_code
from registry.errors import DomainError, NotFound
from registry.models import Application, Office, Resident, Role, StaffMembership
from registry.nik import NikError, parse_nik
from registry.services.cases import case_event_record

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# Staff who may be assigned a complaint, and who handle them.
HANDLING_ROLES = (Role.PUBLIC_RELATIONS, Role.SUPERVISOR)


def complaint_lock(complaint: Complaint) -> Complaint:
    """The complaint's row lock, held to the end of the caller's transaction."""
    return (lock_objects.complaints_for_update()
            .select_related("office", "resident", "application").get(pk=complaint.pk))


def complaint_event_record(complaint: Complaint, kind: str, by, *,
                           by_resident: bool = False) -> None:
    """Tell the case timeline about the complaint. A confidential complaint is not
    written there: every staff member who reads the case would see who complained."""
    if complaint.application_id is None or complaint.confidential:
        return
    case_event_record(application=complaint.application, kind=kind,
                      params={"reference": complaint.reference}, actor=by,
                      by_resident=by_resident)


def assignee_check(office: Office, assignee) -> None:
    """Refuse an assignee who is not an active public-relations officer or
    supervisor of the office (None, no assignee, is fine)."""
    if assignee is None:
        return
    if not StaffMembership.objects.filter(office=office, user=assignee,
                                          role__in=HANDLING_ROLES,
                                          user__is_active=True).exists():
        raise DomainError(_("Assign the complaint to a public-relations officer or a "
                            "supervisor of this office."), "assignee_invalid")


def handler_check(complaint: Complaint, by) -> None:
    """Refuse, as not found, anyone who does not handle complaints at the
    complaint's office."""
    if not tenancy.staff_has_role(by, complaint.office_id, *HANDLING_ROLES):
        raise NotFound(_("Not found."), "not_found")


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
    complaint = complaint_lock(complaint)
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
        complaint_event_record(complaint, "complaint.linked", by)
    return complaint


@transaction.atomic
def complaint_assign(*, complaint: Complaint, assignee, by) -> Complaint:
    complaint = complaint_lock(complaint)
    assignee_check(complaint.office, assignee)
    complaint.assignee = assignee
    complaint.save(update_fields=["assignee"])
    return complaint


@transaction.atomic
def complaint_classify(*, complaint: Complaint, category: str, confidential: bool,
                       by) -> Complaint:
    complaint = complaint_lock(complaint)
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
