"""Redaction of public texts (responses, the published chronology, the printed
statement): no full NIK and nothing of another resident's.

- Any run of 16 digits (spaces, dots or dashes allowed between them) is a NIK: it is
  masked to its last four digits, whoever it belongs to.
- Phone numbers (08..., +62..., 62...) are masked but for their last three digits.
- The names and numbers of other people found in the case's records (other residents
  in the queue, a recipient, a proxy) are replaced by a neutral word.
"""

import re

from django.utils.translation import gettext as _

NIK_RE = re.compile(r"(?<!\d)(?:\d[\s.\-]?){15}\d(?!\d)")
PHONE_RE = re.compile(r"(?<![\d+])(?:\+62|62|0)8(?:[\s.\-]?\d){7,11}(?!\d)")


def _mask_digits(match: re.Match, keep: int) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - keep) + digits[-keep:]


def redact(text: str, *, private_terms=()) -> tuple[str, int]:
    """The text safe to publish, and how many items were redacted."""
    count = 0
    terms = sorted({t.strip() for t in private_terms if t and len(t.strip()) >= 3},
                   key=len, reverse=True)
    for term in terms:
        if term.isdigit():
            continue  # numbers are handled by the patterns below
        pattern = re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)", re.IGNORECASE)
        text, found = pattern.subn(_("[another person]"), text)
        count += found
    text, found = NIK_RE.subn(lambda m: _mask_digits(m, 4), text)
    count += found
    text, found = PHONE_RE.subn(lambda m: _mask_digits(m, 3), text)
    count += found
    return text, count
