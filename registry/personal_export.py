"""A resident's own data as one JSON document (UU PDP 27/2022, the right of access):
GET /api/v1/me/export/.

The core writes its sections (the profile, case files with their timelines, the inbox,
correction requests and the access log); each app adds its own through the
PERSONAL_EXPORT hook (registry.extensions), so the core names none of them. Every
section is read in a bounded number of queries whatever the number of rows, and no
section names a staff member.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from registry import extensions, selectors
from registry.api.fields import office_local_iso
from registry.models import Notification, Resident

# The sections every export has, in this order; the apps' follow in INSTALLED_APPS order.
CORE_SECTIONS = ("profile", "applications", "notifications", "correction_requests",
                 "access_log")


def access_entry(row: dict) -> dict:
    """One entry of the resident's access log (a row of
    selectors.access_log_for_resident) as the resident reads it: the office, the role
    and its label, what was seen and why; never who."""
    # A page that covered several offices has none: the deployment's zone then.
    zone = ZoneInfo(row["entry_office_timezone"] or settings.TIME_ZONE)
    label = selectors.access_kind_label(row["entry_kind"])
    return {
        "at": row["entry_at"].astimezone(zone).isoformat(),
        "office": row["entry_office_code"],
        "office_name": row["entry_office_name"],
        "role": row["entry_role"],
        "role_label": selectors.access_role_label(row["entry_role"]),
        "kind": row["entry_kind"],
        "what": label,
        "record": row["entry_target"],
        "reason": row["entry_reason"],
    }


def profile(resident: Resident) -> dict:
    """The resident's record, the full NIK included (it is their own)."""
    office = resident.domicile_office
    return {
        "nik": resident.nik, "name": resident.name, "birth_date": resident.birth_date,
        "sex": resident.sex, "phone": resident.phone, "email": resident.email,
        "address": resident.address, "kelurahan": resident.kelurahan,
        "kecamatan": resident.kecamatan,
        "domicile_office": office.code if office else None,
        "domicile_office_name": office.name if office else None,
        "language": resident.language, "phone_type": resident.phone_type,
        "nik_needs_review": resident.nik_needs_review,
        "identity_verified": resident.identity_verified_at is not None,
        "registered_at": resident.created_at,
        "app_registered_at": resident.app_registered_at,
        "phone_bound_at": resident.phone_bound_at,
    }


def applications(resident: Resident) -> list[dict]:
    """Case files with their timelines (two queries: the cases, then their events)."""
    return [{
        "id": application.id, "number": application.number,
        "office": application.office.code, "office_name": application.office.name,
        "service": application.service.code, "service_name": application.service.name,
        "status": application.status, "channel": application.channel,
        "created_at": office_local_iso(application.created_at, application.office),
        "closed_at": office_local_iso(application.closed_at, application.office),
        "timeline": [{"at": office_local_iso(event.at, application.office),
                      "kind": event.kind, "message": event.message}
                     for event in application.events.all()],
    } for application in selectors.applications_for_resident(resident=resident)
        .order_by("created_at", "id")]


def notifications(resident: Resident) -> list[dict]:
    """The inbox; a body the retention sweep emptied stays empty."""
    rows = (Notification.objects.filter(resident=resident).select_related("office")
            .order_by("created_at", "id"))
    return [{
        "id": n.id, "at": office_local_iso(n.created_at, n.office), "kind": n.kind,
        "title": n.title, "body": n.body, "link": n.link, "application": n.application_id,
        "read_at": office_local_iso(n.read_at, n.office),
    } for n in rows]


def correction_requests(resident: Resident) -> list[dict]:
    return [correction_request(c)
            for c in selectors.correction_requests_for_resident(resident=resident)]


def correction_request(request) -> dict:
    return {
        "id": request.id, "office": request.office.code, "office_name": request.office.name,
        "field": request.field, "field_label": str(request.get_field_display()),
        "value": request.requested_value, "note": request.note,
        "status": request.status, "status_label": str(request.get_status_display()),
        "reply": request.reply,
        "created_at": office_local_iso(request.created_at, request.office),
        "handled_at": office_local_iso(request.handled_at, request.office),
    }


def access_log(resident: Resident) -> list[dict]:
    return [access_entry(row) for row in selectors.access_log_for_resident(resident=resident)]


def personal_export(*, resident: Resident) -> dict:
    """Everything held about `resident`, section by section."""
    resident = Resident.objects.select_related("domicile_office").get(pk=resident.pk)
    document = {"generated_at": timezone.now(), "profile": profile(resident)}
    for name, build in (("applications", applications), ("notifications", notifications),
                        ("correction_requests", correction_requests),
                        ("access_log", access_log)):
        document[name] = build(resident)
    for name, build in extensions.registered(extensions.PERSONAL_EXPORT):
        document[name] = build(resident)
    return document
