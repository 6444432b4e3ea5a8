"""The central link's part of a resident's own data (registry.personal_export): the
cards their case files produced."""

from registry.api.fields import office_local_iso
from registry.central.models import Card
from registry.models import Resident


def cards(resident: Resident) -> list[dict]:
    rows = (Card.objects.filter(application__resident=resident)
            .select_related("office", "application").order_by("id"))
    # The receipt code is asked for at the hand-over: the export shows its last digits.
    return [{"application": c.application.number, "office": c.office.code,
             "receipt_code": c.masked_receipt_code,
             "printed_at": office_local_iso(c.printed_at, c.office)} for c in rows]


SECTIONS = [("cards", cards)]
