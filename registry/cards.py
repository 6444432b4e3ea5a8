"""The card a served application produces, as the core knows it: its receipt code.

The code is on the resident's receipt from the visit (registry.central makes it with
the print) and is asked for when the card is handed over (registry.deliveries), so the
way a code is read back is here, below both.
"""


def normalize_receipt_code(value: str) -> str:
    """A receipt code as typed or read aloud (any case, with or without the dash or
    spaces) in its stored form, XXXX-XXXX."""
    raw = "".join(ch for ch in (value or "").upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw
