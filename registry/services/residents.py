"""Residents: registration by NIK, its verification and disclosure, and their tokens.
"""

import logging
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.errors import Conflict, DomainError, NotFound
from registry.models import (
    NikDisclosure,
    Office,
    PhoneType,
    Resident,
)
from registry.nik import NikError, parse_nik
from registry.selectors import residents_for_office
from registry.validators import normalize_phone

logger = logging.getLogger(__name__)


@transaction.atomic
def resident_tokens_revoke(*, resident: Resident) -> None:
    """End every API token of a resident (sign out everywhere): their tokens carry the
    generation this raises (registry.api.auth)."""
    Resident.objects.filter(pk=resident.pk).update(
        token_generation=F("token_generation") + 1)


def _nik_or_error(nik: str):
    try:
        return parse_nik(nik)
    except NikError as exc:
        raise DomainError(exc.message, exc.code) from exc


@transaction.atomic
def resident_register(*, nik: str, name: str, birth_date: date, sex: str = "", phone: str = "",
                      email: str = "", address: str = "", kelurahan: str = "",
                      kecamatan: str = "", domicile_office: Office | None = None,
                      language: str = "id", verified_by=None) -> Resident:
    """Register a resident by NIK.

    The NIK must be well-formed. When its date or sex disagrees with what was given,
    the resident is registered and flagged for staff to verify at the visit: a NIK is
    never reissued to correct a birth date, so refusing would lock them out for good.
    The domicile office defaults to the office of the NIK's region (its first four
    digits) when the deployment serves it. Staff registering a resident from the KTP-el
    or KK in front of them pass `verified_by`: the identity is verified at creation (a
    self-registered resident is not, until the desk checks the card). A phone given here
    is a contact number, not bound: it receives no sign-in code until it is bound.
    """
    parts = _nik_or_error(nik)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Enter the resident's name."), "name_required")
    if birth_date > timezone.localdate():
        raise DomainError(_("The birth date is in the future."), "birth_date_future")
    if Resident.objects.filter(nik=parts.nik).exists():
        raise Conflict(_("A resident with this NIK is already registered."), "resident_exists")
    if not sex:
        sex = "F" if parts.female else "M"
    if domicile_office is None:
        domicile_office = Office.objects.filter(code=parts.regency).first()
    return Resident.objects.create(
        nik=parts.nik,
        name=name,
        birth_date=birth_date,
        sex=sex,
        phone=normalize_phone(phone) if phone else "",
        email=email,
        address=address,
        kelurahan=kelurahan,
        kecamatan=kecamatan,
        domicile_office=domicile_office,
        language=language,
        nik_needs_review=not parts.matches_birth_date(birth_date, sex),
        identity_verified_at=timezone.now() if verified_by is not None else None,
        identity_verified_by=verified_by if getattr(verified_by, "pk", None) else None,
    )


@transaction.atomic
def resident_nik_verify(*, resident: Resident, by) -> Resident:
    """Staff saw the documents: the NIK and the birth date belong together, and the
    resident's identity is verified (if it was not yet)."""
    now = timezone.now()
    resident.nik_needs_review = False
    resident.nik_reviewed_by = by
    resident.nik_reviewed_at = now
    fields = ["nik_needs_review", "nik_reviewed_by", "nik_reviewed_at"]
    if resident.identity_verified_at is None:
        resident.identity_verified_at = now
        resident.identity_verified_by = by
        fields += ["identity_verified_at", "identity_verified_by"]
    resident.save(update_fields=fields)
    return resident


@transaction.atomic
def resident_nik_disclose(*, resident: Resident, office: Office, user, reason: str) -> str:
    """The full NIK, for a staff member whose role in `office` allows it. Recorded."""
    if not user.has_perm("registry.view_full_nik", NikDisclosure(office=office)):
        raise NotFound(_("Not found."), "not_found")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why you need the full NIK."), "reason_required")
    NikDisclosure.objects.create(office=office, resident=resident, user=user, reason=reason)
    return resident.nik


@transaction.atomic
def resident_find_by_nik(*, office: Office, user, nik: str, reason: str) -> Resident:
    """The resident with this NIK, for a staff page of `office` (the phone desk, the
    turn-away at the door): only one the office's staff may work with (domiciled there
    or with a case there), else NotFound as for an unknown NIK. The look-up is recorded
    with its reason (a NikDisclosure: the resident's access log shows it)."""
    parsed = _nik_or_error(nik)
    resident = residents_for_office(office=office).filter(nik=parsed.nik).first()
    if resident is None:
        raise NotFound(_("No resident with this NIK is registered at this office."),
                       "resident_not_found")
    NikDisclosure.objects.create(office=office, resident=resident, user=user,
                                 reason=(reason or "")[:200])
    return resident


@transaction.atomic
def resident_phone_type_set(*, office: Office, resident: Resident, phone_type: str,
                            by) -> Resident:
    """What the resident can receive messages on, as told to the desk: the messages
    then go by SMS (feature phone) or on paper (none)."""
    if phone_type not in PhoneType.values:
        raise DomainError(_("Choose the kind of phone."), "phone_type_invalid")
    resident = residents_for_office(office=office).filter(pk=resident.pk).first()
    if resident is None:
        raise NotFound(_("Not found."), "not_found")
    if resident.phone_type != phone_type:
        resident.phone_type = phone_type
        resident.save(update_fields=["phone_type"])
    return resident
