"""Normalisation of what residents type."""

import re

from django.utils.translation import gettext_lazy as _

from registry.errors import DomainError

_PHONE_RE = re.compile(r"^\+62[1-9]\d{7,12}$")


def normalize_phone(value: str) -> str:
    """An Indonesian phone number in +62 form: 0812..., 62812... and +62812... are one."""
    raw = re.sub(r"[\s\-().]", "", value or "")
    if raw.startswith("+"):
        digits = raw
    elif raw.startswith("62"):
        digits = "+" + raw
    elif raw.startswith("0"):
        digits = "+62" + raw[1:]
    else:
        digits = raw
    if not _PHONE_RE.match(digits):
        raise DomainError(
            _("Enter an Indonesian phone number, for example 0812 3456 7890."), "phone_invalid"
        )
    return digits
