"""A resident's requests to correct their data (UU PDP 27/2022, the right to
correction), asked in the app and answered by the front desk of the office that holds
the data, with a reply the resident reads in their inbox."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from registry.errors import Conflict, DomainError, NotFound
from registry.models import (
    Application,
    CorrectionField,
    CorrectionRequest,
    CorrectionStatus,
    Office,
    Resident,
    Sex,
)
from registry.services.notifications import notification_send

# Open requests one resident may have at once: enough for every field that can be
# wrong, few enough that the desk's list is not flooded from one account.
MAX_OPEN_REQUESTS = 5
VALUE_MAX = 255
NOTE_MAX = 1000

# Contact and domicile fields the desk applies when it answers "corrected". Name, birth
# date and sex are civil-registry data: the desk changes them in the civil registry
# after checking the documents, and the answer only records that.
APPLIED_FIELDS = (CorrectionField.ADDRESS, CorrectionField.KELURAHAN,
                  CorrectionField.KECAMATAN, CorrectionField.EMAIL)
FIELD_MAX = {CorrectionField.KELURAHAN: 80, CorrectionField.KECAMATAN: 80,
             CorrectionField.EMAIL: 254}


def correction_office_for(resident: Resident) -> Office | None:
    """The office that answers the resident's requests: their domicile office, else
    the office of their latest case file."""
    if resident.domicile_office_id is not None:
        return Office.objects.get(pk=resident.domicile_office_id)
    latest = (Application.objects.filter(resident=resident).select_related("office")
              .order_by("-created_at", "-id").first())
    return latest.office if latest is not None else None


def _clean_value(field: str, value: str) -> str:
    value = " ".join(str(value or "").split())
    if not value:
        raise DomainError(_("Write the correct value."), "value_required")
    limit = FIELD_MAX.get(field, VALUE_MAX)
    if len(value) > limit:
        raise DomainError(_("The correct value is too long (at most %(count)d characters).")
                          % {"count": limit}, "value_too_long")
    if field == CorrectionField.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise DomainError(_("Enter a valid e-mail address."), "email_invalid") from None
    elif field == CorrectionField.BIRTH_DATE:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise DomainError(_("Write the birth date as YYYY-MM-DD."),
                              "birth_date_invalid") from None
        if day > timezone.localdate() or day.year < 1900:
            raise DomainError(_("Write the birth date as YYYY-MM-DD."), "birth_date_invalid")
        value = day.isoformat()
    elif field == CorrectionField.SEX:
        value = value.upper()
        if value not in Sex.values:
            raise DomainError(_("Sex is M or F."), "sex_invalid")
    return value


def _current_value(resident: Resident, field: str) -> str | None:
    if field == CorrectionField.OTHER:
        return None
    current = getattr(resident, field)
    return current.isoformat() if isinstance(current, date) else str(current or "")


@transaction.atomic
def correction_request_create(*, resident: Resident, field: str, value: str,
                              note: str = "") -> CorrectionRequest:
    """Ask the office that holds the resident's data to correct `field`. Refused with
    nothing written when the value is not valid or unchanged, when no office holds the
    resident's data, or when MAX_OPEN_REQUESTS are open. Locks the resident's row, so
    two requests at once cannot both pass the limit."""
    if field not in CorrectionField.values:
        raise DomainError(_("Choose what should be corrected."), "field_invalid")
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    value = _clean_value(field, value)
    note = str(note or "").strip()
    if len(note) > NOTE_MAX:
        raise DomainError(_("The note is too long (at most %(count)d characters).")
                          % {"count": NOTE_MAX}, "note_too_long")
    if _current_value(resident, field) == value:
        raise DomainError(_("This is already the value we hold."), "value_unchanged")
    office = correction_office_for(resident)
    if office is None:
        raise DomainError(_("No office holds your data yet: ask for a correction at the "
                            "front desk of your civil-registry office."), "no_office")
    open_count = CorrectionRequest.objects.filter(resident=resident,
                                                  status=CorrectionStatus.OPEN).count()
    if open_count >= MAX_OPEN_REQUESTS:
        raise DomainError(_("You already have %(count)d open correction requests. Wait "
                            "for the front desk's answer before asking again.")
                          % {"count": open_count}, "too_many_open_requests")
    return CorrectionRequest.objects.create(resident=resident, office=office, field=field,
                                            requested_value=value, note=note)


@transaction.atomic
def correction_answer(*, request: CorrectionRequest, by, status: str,
                      reply: str) -> CorrectionRequest:
    """The front desk's answer: `status` corrected or rejected, with a reply. When
    corrected, a contact or domicile field (APPLIED_FIELDS) takes the requested value;
    civil-registry fields are changed by the desk after checking the documents, and
    the answer only records it. The resident is told in their inbox.

    Only staff whose role in the request's office may change requests answer it; for
    anyone else it does not exist. Locks the request's row."""
    locked = (CorrectionRequest.objects.select_for_update(of=("self",))
              .select_related("resident", "office").filter(pk=request.pk).first())
    if locked is None or not by.has_perm("registry.change_correctionrequest", locked):
        raise NotFound(_("Not found."), "not_found")
    if locked.status != CorrectionStatus.OPEN:
        raise Conflict(_("This request was already answered."), "already_answered")
    if status not in (CorrectionStatus.CORRECTED, CorrectionStatus.REJECTED):
        raise DomainError(_("Choose corrected or not corrected."), "status_invalid")
    reply = str(reply or "").strip()
    if not reply:
        raise DomainError(_("Write a reply to the resident."), "reply_required")
    resident = Resident.objects.select_for_update().get(pk=locked.resident_id)
    if status == CorrectionStatus.CORRECTED and locked.field in APPLIED_FIELDS:
        setattr(resident, locked.field, _clean_value(locked.field, locked.requested_value))
        resident.save(update_fields=[locked.field])
    locked.status, locked.reply = status, reply
    locked.handled_by, locked.handled_at = by, timezone.now()
    locked.save(update_fields=["status", "reply", "handled_by", "handled_at"])
    with translation.override(resident.language or "id"):
        field = str(locked.get_field_display())
    title = (_("Your data was corrected") if status == CorrectionStatus.CORRECTED
             else _("Your correction request was not granted"))
    notification_send(office=locked.office, resident=resident, kind="correction.answered",
                      title=title, body=_("Correction of your %(field)s: %(reply)s"),
                      params={"field": field, "reply": reply[:1500]},
                      dedup_key=f"correction-answer:{locked.id}")
    return locked
