"""Sign-in codes for residents, and how a phone comes to receive them.

A phone receives sign-in codes for a resident only once it is bound to them, and it is
bound only by something the resident holds (issue 12): a code sent to the phone and
confirmed at the desk, a single-use activation code the desk printed for them, a code
sent to the phone they were already signed in with (changing the phone in the app), or
the first sign-in of a resident who registered themselves (marked not verified until
the desk sees the KTP-el). A NIK alone never binds a phone; a phone typed in by staff
is only a contact number.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from registry import lock_objects, tenancy
from registry.background import enqueue_on_commit
from registry.errors import DomainError, NotFound, Throttled
from registry.models import (
    ActivationCode,
    NotificationChannel,
    Office,
    OtpChallenge,
    OtpPurpose,
    Resident,
)
from registry.nik import NikError, parse_nik
from registry.notify.backends import OutgoingMessage, PermanentFailure, get_backend
from registry.services.residents import resident_register
from registry.validators import normalize_phone

logger = logging.getLogger(__name__)

# --- Hashes of codes ---------------------------------------------------------------


def _keyed_hash(salt: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{salt}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def code_hash_new(code: str) -> str:
    """What is stored of a code: f"{salt}${hmac-sha256(SECRET_KEY, salt:code)}"."""
    salt = secrets.token_hex(8)
    return f"{salt}${_keyed_hash(salt, code)}"


def code_hash_matches(stored: str, code: str) -> bool:
    salt, expected = stored.split("$", 1)
    return hmac.compare_digest(_keyed_hash(salt, code), expected)


# --- Activation codes (printed by the desk) ----------------------------------------

# No 0/O, 1/I, 2/Z, 5/S, 8/B: the code is read off paper and typed on a phone.
ACTIVATION_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"
ACTIVATION_LENGTH = 8


def activation_code_normalize(text: str) -> str:
    """What a resident typed, as stored: upper case, without spaces and dashes."""
    return "".join(ch for ch in (text or "").upper() if ch not in " \t-")


def activation_code_display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@transaction.atomic
def activation_code_issue(*, office: Office, resident: Resident, by) -> str:
    """A new single-use activation code for `resident`, issued by `by` at `office`
    (the assisted-booking slip, the counter's receipt). Returns the code once, as
    XXXX-XXXX; only its hash is kept. It is valid for settings.ACTIVATION_CODE_TTL and
    spends the resident's earlier unused codes, so only the last printed one works.
    """
    if office.id not in tenancy.staff_office_ids(by):
        raise NotFound(_("Not found."), "not_found")
    now = timezone.now()
    ActivationCode.objects.filter(
        resident=resident, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    code = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_LENGTH))
    ActivationCode.objects.create(
        office=office, resident=resident, code_hash=code_hash_new(code), created_by=by,
        created_at=now, expires_at=now + settings.ACTIVATION_CODE_TTL,
    )
    return activation_code_display(code)


# --- Sign-in codes -------------------------------------------------------------------


def _nik_or_error(nik: str):
    try:
        return parse_nik(nik)
    except NikError as exc:
        raise DomainError(exc.message, exc.code) from exc


def _throttle(*, nik: str, phone: str, address: str, now) -> None:
    """Refuse a request for a code when the NIK, the phone or the client address asked
    too often: one a minute per NIK and phone (OTP_RESEND_INTERVAL), OTP_MAX_PER_WINDOW an
    hour per NIK and per phone, OTP_MAX_PER_ADDRESS an hour per address.

    Counts requests (one OtpChallenge row each, sent or not) before anything about the
    NIK is looked up, in one statement whatever the NIK: so a throttled answer says
    nothing about the resident, and a stranger's guesses are throttled as much as a
    resident's real requests. Raises Throttled (429 with Retry-After).
    """
    by_nik, by_phone, by_address = Q(nik=nik), Q(phone=phone), Q(address=address)
    keys = {"nik": by_nik, "phone": by_phone, "address": by_address}
    stats = (
        OtpChallenge.objects
        .filter(by_nik | by_phone | by_address, created_at__gte=now - settings.OTP_WINDOW)
        .aggregate(last=Max("created_at", filter=by_nik | by_phone),
                   **{f"{key}_count": Count("id", filter=q) for key, q in keys.items()},
                   **{f"{key}_first": Min("created_at", filter=q) for key, q in keys.items()})
    )
    if stats["last"] and now - stats["last"] < settings.OTP_RESEND_INTERVAL:
        wait = int((settings.OTP_RESEND_INTERVAL - (now - stats["last"])).total_seconds()) + 1
        raise Throttled(
            _("A code was sent moments ago. Wait %(seconds)s seconds before asking again.")
            % {"seconds": wait},
            "otp_too_soon", retry_after=wait,
        )
    limits = {"nik": settings.OTP_MAX_PER_WINDOW, "phone": settings.OTP_MAX_PER_WINDOW,
              "address": settings.OTP_MAX_PER_ADDRESS}
    for key, limit in limits.items():
        if stats[f"{key}_count"] >= limit:
            wait = int((stats[f"{key}_first"] + settings.OTP_WINDOW - now).total_seconds()) + 1
            raise Throttled(
                _("Too many codes were requested. Try again in %(minutes)s minutes.")
                % {"minutes": max(1, wait // 60)},
                "otp_throttled", retry_after=wait,
            )


# Compared against when the NIK has no live activation code, so a wrong code costs one
# hash whether or not the NIK has one (it never matches: no code hashes to zeros).
_NO_CODE_HASH = f"{'0' * 16}${'0' * 64}"


def _activation_match(*, nik: str, code: str, now) -> ActivationCode | None:
    """The live activation code of the resident with `nik` that `code` is, or None.

    Live: not used, not expired, fewer than ACTIVATION_MAX_ATTEMPTS wrong tries (a new
    code spends the older ones, so there is normally one). A wrong code counts a try on
    every live code of the NIK, so the fifth wrong one spends them. The same statements
    and at least one hash whether or not the NIK exists or has a code.
    """
    live = ActivationCode.objects.filter(
        resident__nik=nik, used_at__isnull=True, expires_at__gt=now,
        attempts__lt=settings.ACTIVATION_MAX_ATTEMPTS)
    candidates = list(live.order_by("id").only("id", "code_hash"))
    matched = None
    for candidate in candidates or [None]:
        stored = candidate.code_hash if candidate else _NO_CODE_HASH
        if code_hash_matches(stored, code) and candidate is not None:
            matched = candidate
    if matched is None:
        live.update(attempts=F("attempts") + 1)
    return matched


def _enqueue_code(challenge: OtpChallenge, code: str) -> None:
    """Queue the sending of `code` once the challenge row is committed.

    The plaintext code travels in the task message (the database keeps only its hash,
    and there is no other way for the worker to know it); the message expires with the
    code (OTP_TTL, 5 minutes), after which neither is of use, and its repr in the
    worker's logs and monitoring hides the code. A broker that is down is logged and
    the request still answers the same: the resident asks again in a minute.
    """
    from registry.tasks import otp_send

    def publish():
        try:
            otp_send.apply_async(args=(challenge.id, code), retry=False,
                                 expires=challenge.expires_at,
                                 argsrepr=f"({challenge.id}, '******')")
        except Exception:  # the broker's errors vary with the transport
            logger.warning("Broker unavailable, code of challenge %s not sent", challenge.id,
                           exc_info=True)

    transaction.on_commit(publish)


def otp_request(*, nik: str, phone: str, address: str, activation_code: str = "",
                name: str = "", birth_date: date | None = None, sex: str = "",
                language: str = "id") -> OtpChallenge:
    """A request for a sign-in code for `nik` to `phone`, from the client `address`.

    The code is sent (after commit, by a task) only when the phone may receive it: it is
    the phone bound to the resident; or `activation_code` is the resident's live
    activation code from the desk (the verified code then binds the phone); or the NIK
    is unknown and `name` and `birth_date` are given (the verified code registers the
    resident, marked not verified, and binds the phone: a request alone writes no
    resident).

    Every other request is answered the same, so the answer says nothing about the NIK:
    the same challenge row is written (sent=False: it can never be verified, so it
    supersedes nothing), with the same statements and the same hashing, and a task is
    queued all the same (it sends nothing). Only malformed input (the NIK, the phone, a
    birth date in the future) and the throttle, which looks at nothing but the requests
    (_throttle), refuse it.
    """
    parts = _nik_or_error(nik)
    phone = normalize_phone(phone)
    name = (name or "").strip()
    if birth_date is not None and birth_date > timezone.localdate():
        # Checked whatever the NIK: for an unknown NIK only, it would tell which is which.
        raise DomainError(_("The birth date is in the future."), "birth_date_future")
    activation_code = activation_code_normalize(activation_code)
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = code_hash_new(code)
    with transaction.atomic():
        _throttle(nik=parts.nik, phone=phone, address=address, now=now)
        resident = Resident.objects.filter(nik=parts.nik).only("id", "phone",
                                                                "phone_bound_at").first()
        activation = (_activation_match(nik=parts.nik, code=activation_code, now=now)
                      if activation_code else None)
        registration = None
        if activation is not None:
            sent = binds_phone = True
        elif resident is None and name and birth_date is not None:
            # Registered when the code is verified (_challenge_spend), not now.
            registration = {"name": name[:120], "birth_date": birth_date.isoformat(),
                            "sex": sex, "language": language}
            sent = binds_phone = True
        else:
            sent = bool(resident is not None and resident.phone_bound_at
                        and resident.phone == phone)
            binds_phone = False
        challenge = OtpChallenge.objects.create(
            nik=parts.nik, phone=phone, purpose=OtpPurpose.SIGN_IN, address=address,
            code_hash=code_hash,
            created_at=now, expires_at=now + settings.OTP_TTL, sent=sent,
            binds_phone=binds_phone, activation=activation, registration=registration,
        )
        # Queued for every request, sent or not: publishing costs the request the same
        # time whatever the answer, and the task sends only a `sent` challenge.
        _enqueue_code(challenge, code)
    return challenge


def otp_send(*, challenge_id: int, code: str) -> bool:
    """Send the code of a challenge that is to be sent and still live, in its resident's
    language. False when there is nothing to send or the phone cannot be reached; a
    TemporaryFailure of the gateway is raised for the task to retry."""
    challenge = OtpChallenge.objects.filter(
        id=challenge_id, sent=True, used_at__isnull=True, expires_at__gt=timezone.now(),
    ).first()
    if challenge is None:
        return False
    language = (Resident.objects.filter(nik=challenge.nik)
                .values_list("language", flat=True).first()) or settings.LANGUAGE_CODE
    with translation.override(language):
        message = OutgoingMessage(
            channel=settings.OTP_CHANNEL,
            address=challenge.phone,
            title=str(_("e-Open sign-in code")),
            body=str(_("Your e-Open code is %(code)s. It is valid for 5 minutes. Never "
                       "share it with anyone, including office staff.") % {"code": code}),
            reference=f"otp{challenge.id}", kind="otp",
        )
    return _send(settings.OTP_CHANNEL, message)


def _challenge_check(challenge: OtpChallenge | None, code: str, now) -> bool:
    """Whether `code` is the challenge's (locked by the caller). A wrong code counts
    against the challenge (the caller commits, then raises otp_wrong); an expired or
    spent challenge raises at once."""
    if challenge is None or challenge.expires_at <= now:
        raise DomainError(_("The code has expired. Ask for a new one."), "otp_expired")
    if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
        raise Throttled(_("Too many wrong codes. Ask for a new code."), "otp_locked")
    if len(code) == 6 and code.isdigit() and code_hash_matches(challenge.code_hash, code):
        return True
    challenge.attempts += 1
    challenge.save(update_fields=["attempts"])
    return False


def _phone_bind(resident: Resident, phone: str, now) -> list[str]:
    """Bind `phone` to the (locked) resident; the fields changed. A different phone bound
    before loses the account: the token generation goes up, which ends every session
    it signed in, and it is told by SMS after commit."""
    from registry.tasks import phone_change_notify

    changed = ["phone", "phone_bound_at"]
    old_phone = resident.phone if resident.phone_bound_at else ""
    if old_phone and old_phone != phone:
        resident.token_generation += 1
        changed.append("token_generation")
        enqueue_on_commit(phone_change_notify, resident.id, old_phone,
                          resident.token_generation)
    resident.phone = phone
    resident.phone_bound_at = now
    # The phone is bound now: the desk's printed codes have done their work.
    ActivationCode.objects.filter(resident=resident, used_at__isnull=True,
                                  expires_at__gt=now).update(expires_at=now)
    return changed


def _challenge_spend(challenge: OtpChallenge, now) -> Resident:
    """Use a verified challenge: the resident it signs in, locked, with the phone bound
    when the challenge binds it. Raises otp_expired (and changes nothing) when what the
    code was sent for no longer holds: the phone is no longer the bound one, the
    activation code was spent meanwhile, or another phone was bound after the request.
    """
    expired = DomainError(_("The code has expired. Ask for a new one."), "otp_expired")
    resident = lock_objects.residents_for_update().filter(nik=challenge.nik).first()
    if challenge.registration is not None:
        if resident is not None:
            # Registered since the request (at the desk, or by another code): that
            # record's phone is bound by the desk or its activation code, not by this.
            raise expired
        data = challenge.registration
        try:
            resident = resident_register(
                nik=challenge.nik, name=data["name"],
                birth_date=date.fromisoformat(data["birth_date"]), sex=data["sex"],
                language=data["language"])
        except IntegrityError:
            # Another code for the same NIK registered it at the same moment (there was
            # no row to lock): the unique NIK decides, and this one has expired.
            raise expired from None
    if resident is None:
        raise expired
    changed = []
    if challenge.binds_phone:
        if (resident.phone_bound_at and resident.phone_bound_at > challenge.created_at
                and resident.phone != challenge.phone):
            raise expired
        if challenge.activation_id is not None:
            spent = ActivationCode.objects.filter(
                id=challenge.activation_id, resident=resident, used_at__isnull=True,
                expires_at__gt=now, attempts__lt=settings.ACTIVATION_MAX_ATTEMPTS,
            ).update(used_at=now)
            if not spent:
                raise expired
        changed += _phone_bind(resident, challenge.phone, now)
    elif not (resident.phone_bound_at and resident.phone == challenge.phone):
        raise expired
    if resident.app_registered_at is None:
        resident.app_registered_at = now
        changed.append("app_registered_at")
    if changed:
        resident.save(update_fields=changed)
    challenge.used_at = now
    challenge.save(update_fields=["used_at"])
    return resident


def _live_challenges(nik: str, purpose: str):
    # Only codes that went out, asked for this purpose (the desk's own codes are read
    # back at the desk: registry.desk).
    return lock_objects.otp_challenges_for_update().filter(
        nik=nik, purpose=purpose, sent=True, used_at__isnull=True)


def otp_verify(*, nik: str, code: str) -> Resident:
    """Check a sign-in code and return the resident it signs in.

    Only the latest code that was sent counts: a stranger's request for the NIK sends
    nothing and so cannot replace the resident's code. A wrong code counts against it;
    after OTP_MAX_ATTEMPTS wrong codes it is spent. A code that binds a phone (an
    activation code, a self-registration) binds it here, and marks the activation code
    used, in the same transaction.
    """
    parts = _nik_or_error(nik)
    code = "".join((code or "").split())
    now = timezone.now()
    with transaction.atomic():
        challenge = (_live_challenges(parts.nik, OtpPurpose.SIGN_IN)
                     .order_by("-created_at").first())
        right = _challenge_check(challenge, code, now)
        if right:
            resident = _challenge_spend(challenge, now)
    # Raised after the block so the counted attempt is committed.
    if not right:
        raise DomainError(_("The code is wrong."), "otp_wrong")
    return resident


# --- A signed-in resident changes their phone -----------------------------------------


def phone_change_request(*, resident: Resident, phone: str, address: str) -> OtpChallenge:
    """Send codes for a signed-in resident's move to a new phone: one to the new phone
    (it can receive them) and one to the bound phone (its holder agrees). Both bind it
    (phone_change_confirm), so neither a session alone nor the new phone alone moves
    the account; a resident who lost the old phone goes to the desk. Throttled as the
    sign-in codes are. Returns the new phone's challenge."""
    phone = normalize_phone(phone)
    if resident.phone_bound_at and resident.phone == phone:
        raise DomainError(_("This phone number is already the one on your account."),
                          "phone_unchanged")
    now = timezone.now()
    codes = {purpose: f"{secrets.randbelow(10**6):06d}"
             for purpose in (OtpPurpose.PHONE_CHANGE, OtpPurpose.PHONE_CHANGE_OLD)}
    with transaction.atomic():
        _throttle(nik=resident.nik, phone=phone, address=address, now=now)
        bound = Resident.objects.filter(pk=resident.pk).values_list(
            "phone", "phone_bound_at").get()
        if not bound[1]:
            raise DomainError(_("Your account has no phone bound to it. Bind one at the "
                                "office's front desk."), "phone_not_bound")
        challenges = {}
        for purpose, to in ((OtpPurpose.PHONE_CHANGE, phone),
                            (OtpPurpose.PHONE_CHANGE_OLD, bound[0])):
            challenges[purpose] = OtpChallenge.objects.create(
                nik=resident.nik, phone=to, purpose=purpose, address=address,
                code_hash=code_hash_new(codes[purpose]), created_at=now,
                expires_at=now + settings.OTP_TTL, sent=True,
                binds_phone=purpose == OtpPurpose.PHONE_CHANGE)
            _enqueue_code(challenges[purpose], codes[purpose])
    return challenges[OtpPurpose.PHONE_CHANGE]


def phone_change_confirm(*, resident: Resident, code: str, old_phone_code: str) -> Resident:
    """The code sent to the new phone and the one sent to the old phone, both of the same
    request, bind the new phone; the old phone's sessions end (the token generation goes
    up: the caller gives this device new tokens) and it is told by SMS. A wrong code
    counts against its own challenge, as at sign-in."""
    code = "".join((code or "").split())
    old_phone_code = "".join((old_phone_code or "").split())
    now = timezone.now()
    with transaction.atomic():
        new = (_live_challenges(resident.nik, OtpPurpose.PHONE_CHANGE)
               .order_by("-created_at").first())
        old = (_live_challenges(resident.nik, OtpPurpose.PHONE_CHANGE_OLD)
               .order_by("-created_at").first())
        if new is not None and (old is None or old.created_at != new.created_at):
            new = None  # not a pair from one request: expired
        right_new = _challenge_check(new, code, now)
        right_old = _challenge_check(old, old_phone_code, now)
        if right_new and right_old:
            old.used_at = now
            old.save(update_fields=["used_at"])
            resident = _challenge_spend(new, now)
    if not (right_new and right_old):
        raise DomainError(_("The code is wrong."), "otp_wrong")
    return resident


def phone_change_notify(*, resident_id: int, old_phone: str, generation: int) -> bool:
    """Tell a phone that was bound to a resident that another phone took its place. A
    TemporaryFailure of the gateway is raised for the task to retry."""
    resident = Resident.objects.filter(id=resident_id).only("id", "language").first()
    if resident is None:
        return False
    with translation.override(resident.language or settings.LANGUAGE_CODE):
        message = OutgoingMessage(
            channel=NotificationChannel.SMS, address=old_phone,
            title=str(_("e-Open phone changed")),
            body=str(_("The phone number of your e-Open account was changed. This phone "
                       "no longer signs in. If this was not you, come to the office with "
                       "your KTP-el.")),
            reference=f"phone-old{resident.id}-{generation}", kind="phone_changed",
        )
    return _send(NotificationChannel.SMS, message)


def _send(channel: str, message) -> bool:
    """Send one message now, by the channel's backend. False when the gateway refuses it
    for good (a number that cannot receive it); a TemporaryFailure is raised for the
    calling task to retry."""
    try:
        get_backend(channel).send(message)
    except PermanentFailure as exc:
        logger.warning("Message %s could not be sent: %s", message.reference, exc)
        return False
    return True


# --- Keeping only what is needed ------------------------------------------------------

# Rows deleted per statement: small enough that a sweep never holds a long lock on the
# tables the sign-in path writes.
PURGE_BATCH = 5000


def _delete_in_batches(queryset) -> int:
    deleted = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:PURGE_BATCH])
        if not ids:
            return deleted
        deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]


def sign_in_records_purge(*, now=None) -> int:
    """Delete what sign-in no longer needs (UU 27/2022 keeps personal data only as long
    as its purpose): code requests older than OTP_RECORD_KEEP (the throttle looks back
    OTP_WINDOW; the NIK, phone and address of each request stay no longer than that),
    activation codes used or expired more than ACTIVATION_RECORD_KEEP ago, and the used
    refresh-token records of tokens that have expired (they can no longer be shown, so
    there is nothing left to refuse). Idempotent, in bounded batches."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    now = now or timezone.now()
    deleted = _delete_in_batches(
        OtpChallenge.objects.filter(created_at__lt=now - settings.OTP_RECORD_KEEP))
    deleted += _delete_in_batches(ActivationCode.objects.filter(
        Q(used_at__lt=now - settings.ACTIVATION_RECORD_KEEP)
        | Q(expires_at__lt=now - settings.ACTIVATION_RECORD_KEEP)))
    deleted += _delete_in_batches(OutstandingToken.objects.filter(expires_at__lt=now))
    return deleted
