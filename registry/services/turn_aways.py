"""Turn-aways at the door: a resident the front desk sent away, with the reason.

A turn-away is a trip the resident made for nothing, so a later complaint's chronology
states it (DESIGN.md, failure 1). It is linked to the resident's open case for that
service when there is one (and a case event is written on it then); a case opened
later at the same office for the same service takes the turn-aways of the
TURN_AWAY_LINK_DAYS before it (registry.services.cases.turn_aways_link, called by
application_open), so the chronology reads them from the case (TurnAway.application).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.desk import resident_get_for_office
from registry.errors import DomainError, NotFound
from registry.models import (
    Application,
    ApplicationStatus,
    Office,
    Resident,
    Service,
    TurnAway,
    TurnAwayReason,
)
from registry.services.cases import case_event_record

OPEN_STATUSES = (ApplicationStatus.OPEN, ApplicationStatus.IN_PROGRESS)


def turn_away_params(turn_away: TurnAway) -> dict:
    return {"reason": turn_away.reason,
            "service": turn_away.service.name if turn_away.service_id else ""}


def turn_away_record(*, office: Office, resident: Resident, reason: str,
                     service: Service | None = None, note: str = "", by) -> TurnAway:
    """Record that the front desk sent `resident` away from `office`, and why. The
    reason is one of TurnAwayReason; "other" needs a note. Linked to the resident's
    open case for the service, if any, with a case event "desk.turned_away" on it."""
    note = (note or "").strip()[:300]
    if reason not in TurnAwayReason.values:
        raise DomainError(_("Choose the reason the resident was sent away."),
                          "reason_required")
    if reason == TurnAwayReason.OTHER and not note:
        raise DomainError(_("Write a note saying why."), "note_required")
    if service is not None and service.office_id != office.id:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    if getattr(resident, "pk", None) is None:
        raise NotFound(_("Not found."), "not_found")
    with transaction.atomic():
        resident = resident_get_for_office(office=office, pk=resident.pk)
        application = None
        if service is not None:
            application = (Application.objects.filter(
                office=office, resident=resident, service=service, status__in=OPEN_STATUSES)
                .order_by("-created_at").first())
        turn_away = TurnAway.objects.create(
            office=office, resident=resident, service=service, application=application,
            reason=reason, note=note, at=timezone.now(),
            actor=by if getattr(by, "pk", None) else None)
        if application is not None:
            case_event_record(application=application, kind="desk.turned_away",
                              params=turn_away_params(turn_away), note=note, actor=by,
                              at=turn_away.at)
    return turn_away
