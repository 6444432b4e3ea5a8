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
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import tenancy
from registry.errors import NotFound
from registry.models import ActivationCode, Office, Resident

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
