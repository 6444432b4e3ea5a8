"""The desk's identity work on a resident, by staff who have the resident and their
KTP-el in front of them: the identity checked, a phone bound by a code sent to it and
read back at the desk, and the single-use activation code printed on the papers the
desk hands over (the assisted-booking slip, the check-in ticket, the counter's receipt).

A NIK alone never binds a phone (issue 12): a phone is bound only here, with the code
the phone received, or in the app with a printed activation code or the first sign-in
of a self-registered resident (registry.otp).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from registry import lock_objects, otp
from registry.background import enqueue_on_commit
from registry.errors import DomainError, NotFound, Throttled, Unavailable
from registry.models import (
    ActivationCode,
    Application,
    Office,
    OtpChallenge,
    OtpPurpose,
    Resident,
)
from registry.notify.backends import (
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    get_backend,
)
from registry.tasks import phone_change_notify
from registry.validators import normalize_phone

logger = logging.getLogger(__name__)


# --- Which residents an office's desk works with -----------------------------------


def resident_get_for_office(*, office: Office, pk: int) -> Resident:
    """A resident the office's staff may work with (domiciled there, or with a case file
    there); the same NotFound for "does not exist" and "belongs to another office"."""
    with_case = Application.objects.filter(office=office).values("resident_id")
    resident = Resident.objects.filter(
        Q(domicile_office=office) | Q(id__in=with_case), pk=pk).first()
    if resident is None:
        raise NotFound(_("Not found."), "not_found")
    return resident


def _lock_resident(office: Office, resident: Resident) -> Resident:
    """The resident's row, locked until the caller's transaction ends; NotFound when
    the office's staff may not work with them."""
    resident_get_for_office(office=office, pk=resident.pk)
    return lock_objects.residents_for_update().get(pk=resident.pk)


# --- Identity ----------------------------------------------------------------------


@transaction.atomic
def resident_identity_verify(*, office: Office, resident: Resident, by) -> Resident:
    """Staff saw the resident's KTP-el (or KK) and it matches the record: the "not
    verified" mark of a self-registered resident goes. The first check is kept."""
    locked = _lock_resident(office, resident)
    if locked.identity_verified_at is None:
        locked.identity_verified_at = timezone.now()
        locked.identity_verified_by = by if getattr(by, "pk", None) else None
        locked.save(update_fields=["identity_verified_at", "identity_verified_by"])
    return locked


# --- Binding a phone at the desk -----------------------------------------------------
#
# The desk's codes are OtpChallenge rows like the app's (hashed, OTP_TTL, OTP_MAX_ATTEMPTS
# wrong tries) of their own purpose (DESK_BIND): they were asked for by staff, not over
# the API, so the throttle below counts only the desk's (a stranger's requests in the app
# for this NIK must not stop the desk from binding), and the app never accepts them.


def _desk_challenges(resident: Resident, *, lock: bool = False):
    rows = lock_objects.otp_challenges_for_update() if lock else OtpChallenge.objects
    return rows.filter(nik=resident.nik, purpose=OtpPurpose.DESK_BIND, sent=True)


def _throttle_desk(resident: Resident, phone: str, now) -> None:
    recent = OtpChallenge.objects.filter(purpose=OtpPurpose.DESK_BIND, sent=True,
                                         created_at__gte=now - settings.OTP_WINDOW)
    last = recent.filter(nik=resident.nik).order_by("-created_at").first()
    if last and now - last.created_at < settings.OTP_RESEND_INTERVAL:
        wait = int((settings.OTP_RESEND_INTERVAL - (now - last.created_at)).total_seconds()) + 1
        raise Throttled(
            _("A code was sent moments ago. Wait %(seconds)s seconds before sending another.")
            % {"seconds": wait}, "otp_too_soon", retry_after=wait)
    for field, value in (("nik", resident.nik), ("phone", phone)):
        if recent.filter(**{field: value}).count() >= settings.OTP_MAX_PER_WINDOW:
            raise Throttled(_("Too many codes were sent for this resident or phone. Try "
                              "again in an hour."), "otp_throttled")


def resident_phone_bind_start(*, office: Office, resident: Resident, phone: str,
                              by) -> OtpChallenge:
    """Send a 6-digit code to the phone the resident gives at the desk; it is bound when
    staff enter the code the resident reads them (resident_phone_bind_confirm).

    Only for a resident whose identity the desk has checked (the KTP-el): binding gives
    the phone the account. A new code ends the resident's earlier desk codes. The code
    is sent after the row is committed, outside the transaction (a slow gateway holds
    no lock); when it cannot be sent the row is removed and nothing has changed.
    """
    phone = normalize_phone(phone)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_resident(office, resident)
        if locked.identity_verified_at is None:
            raise DomainError(_("Check the resident's KTP-el first, then bind the phone."),
                              "identity_not_verified")
        _throttle_desk(locked, phone, now)
        _desk_challenges(locked).filter(used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        challenge = OtpChallenge.objects.create(
            nik=locked.nik, phone=phone, purpose=OtpPurpose.DESK_BIND,
            code_hash=otp.code_hash_new(code),
            created_at=now, expires_at=now + settings.OTP_TTL, sent=True, binds_phone=True)
    with translation.override(locked.language):
        message = OutgoingMessage(
            channel=settings.OTP_CHANNEL, address=phone,
            title=str(_("e-Open phone registration code")),
            body=str(_("%(office)s: your code to register this phone for e-Open is "
                       "%(code)s. Tell it only to the officer serving you at the desk now. "
                       "It is valid for 5 minutes.") % {"office": office.name, "code": code}),
            reference=f"desk{challenge.id}", kind="desk_phone_code")
    try:
        get_backend(settings.OTP_CHANNEL).send(message)
    except (TemporaryFailure, PermanentFailure) as exc:
        logger.warning("Desk code %s could not be sent: %s", challenge.id, exc)
        OtpChallenge.objects.filter(id=challenge.id).delete()
        raise Unavailable(_("The code could not be sent right now. Try again in a few "
                            "minutes."), "otp_not_sent") from exc
    return challenge


def resident_phone_bind_pending(*, office: Office, resident: Resident) -> OtpChallenge | None:
    """The desk code waiting to be read back for this resident, if any (for the page)."""
    resident_get_for_office(office=office, pk=resident.pk)
    return (_desk_challenges(resident)
            .filter(used_at__isnull=True, expires_at__gt=timezone.now(),
                    attempts__lt=settings.OTP_MAX_ATTEMPTS)
            .order_by("-created_at").first())


def resident_phone_bind_confirm(*, office: Office, resident: Resident, code: str,
                                by) -> Resident:
    """The code the resident read from their phone binds that phone: resident.phone and
    phone_bound_at. When another phone was bound before, the resident's token generation
    goes up, which ends every session of the previous phone, and the old phone is told.
    The resident's unused activation codes are spent: the phone is bound now.

    A wrong code counts against the desk code and changes nothing else; after
    OTP_MAX_ATTEMPTS wrong codes it is spent and a new one must be sent.
    """
    code = "".join((code or "").split())
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_resident(office, resident)
        challenge = (_desk_challenges(locked, lock=True)
                     .filter(used_at__isnull=True).order_by("-created_at").first())
        if challenge is None or challenge.expires_at <= now:
            raise DomainError(_("The code has expired. Send a new one."), "otp_expired")
        if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
            raise Throttled(_("Too many wrong codes. Send a new code."), "otp_locked")
        wrong = not (len(code) == 6 and code.isdigit()
                     and otp.code_hash_matches(challenge.code_hash, code))
        if wrong:
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
        else:
            challenge.used_at = now
            challenge.save(update_fields=["used_at"])
            old_phone = locked.phone if locked.phone_bound_at else ""
            changed = ["phone", "phone_bound_at"]
            if old_phone and old_phone != challenge.phone:
                locked.token_generation += 1
                changed.append("token_generation")
            locked.phone = challenge.phone
            locked.phone_bound_at = now
            locked.save(update_fields=changed)
            ActivationCode.objects.filter(resident=locked, used_at__isnull=True,
                                          expires_at__gt=now).update(expires_at=now)
            if old_phone and old_phone != challenge.phone:
                enqueue_on_commit(phone_change_notify, locked.id, old_phone,
                                  locked.token_generation)
    # Raised after the block so the counted attempt is committed.
    if wrong:
        raise DomainError(_("The code is wrong."), "otp_wrong")
    return locked


# --- The activation code printed on the desk's papers --------------------------------


@dataclass(frozen=True)
class PrintedCode:
    """An activation code as it is printed: the plaintext exists only here, once."""

    code: str
    expires_at: datetime


def activation_code_for_paper(*, office: Office, resident: Resident, by) -> PrintedCode | None:
    """A new activation code to print on a paper the desk hands the resident, or None
    when the resident has a bound phone (they sign in with it; a code on paper would
    only be something to lose). Issuing ends the resident's earlier codes."""
    with transaction.atomic():
        locked = _lock_resident(office, resident)
        if locked.phone_bound_at is not None:
            return None
        code = otp.activation_code_issue(office=office, resident=locked, by=by)
        issued = ActivationCode.objects.filter(resident=locked).order_by("-created_at",
                                                                         "-id").first()
    return PrintedCode(code=code, expires_at=issued.expires_at)
