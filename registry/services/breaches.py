"""Telling the residents a personal-data breach concerns (UU 27/2022 art. 46).

The notice goes through the normal notifications (the app's inbox, and push, WhatsApp,
SMS or e-mail as each resident can be reached: registry.services.notifications), in
batches of BREACH_BATCH residents, each batch one transaction. A resident is told once
per incident: the batch skips those with a BreachNotice, the incident's row lock keeps
two sends from choosing the same residents, and the unique (incident, resident) and the
notification's dedup key stand behind it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import BigIntegerField, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.background import enqueue_on_commit
from registry.breaches import breach_affected_residents
from registry.errors import DomainError
from registry.models import (
    Application,
    BreachIncident,
    BreachNotice,
    BreachStatus,
    Notification,
)
from registry.services.notifications import notifications_send_many

# Residents told per transaction: a batch's rows (inbox, deliveries, notices) are
# written in a few statements and commit in well under a second; larger incidents go
# on in a Celery task, one batch per run.
BREACH_BATCH = 500
NOTICE_KIND = "breach.notice"
NOTICE_TITLE = _("Notice of a personal data breach")


def breach_dedup_key(incident_id: int) -> str:
    return f"breach:{incident_id}"


def breach_residents_pending(*, incident: BreachIncident):
    """The affected residents not yet sent this incident's notice."""
    told = BreachNotice.objects.filter(incident=incident).values("resident_id")
    return breach_affected_residents(incident=incident).exclude(id__in=told)


def breach_notices_send_batch(*, incident_id: int, batch_size: int = BREACH_BATCH) -> int:
    """Tell up to `batch_size` affected residents not yet told; how many were told.
    When none are left, the incident is marked notified (at its last notice's time).

    Locks the incident's row for the transaction."""
    with transaction.atomic():
        incident = BreachIncident.objects.select_for_update().get(pk=incident_id)
        last_office = (Application.objects.filter(resident_id=OuterRef("pk"))
                       .order_by("-created_at", "-id").values("office_id")[:1])
        residents = list(
            breach_residents_pending(incident=incident)
            .annotate(notice_office_id=Coalesce(F("domicile_office_id"), Subquery(last_office),
                                                output_field=BigIntegerField()))
            .order_by("id")[:batch_size])
        if not residents:
            if incident.residents_notified_at is None and incident.notices.exists():
                last = incident.notices.order_by("-sent_at").values_list("sent_at",
                                                                         flat=True)[0]
                incident.residents_notified_at = last
                incident.status = BreachStatus.NOTIFIED
                incident.save(update_fields=["residents_notified_at", "status"])
            return 0
        key = breach_dedup_key(incident.id)
        entries = [{"office_id": incident.office_id or resident.notice_office_id,
                    "resident": resident, "kind": NOTICE_KIND, "title": NOTICE_TITLE,
                    "body": incident.notice_text, "params": None, "dedup_key": key}
                   for resident in residents]
        notifications_send_many(entries=entries)
        notification_ids = dict(Notification.objects.filter(
            dedup_key=key, resident_id__in=[r.id for r in residents])
            .values_list("resident_id", "id"))
        now = timezone.now()
        BreachNotice.objects.bulk_create([
            BreachNotice(office_id=entry["office_id"], incident=incident,
                         resident_id=entry["resident"].id,
                         notification_id=notification_ids[entry["resident"].id], sent_at=now)
            for entry in entries])
        return len(entries)


def breach_notices_send(*, incident: BreachIncident, batch_size: int = BREACH_BATCH) -> dict:
    """Start telling the incident's affected residents: the first batch now, the rest
    (if any) in a Celery task after commit. Sending again tells only those not yet told.
    Returns {"sent": told now, "pending": left for the task}."""
    if not incident.kinds:
        raise DomainError(_("Choose at least one kind of data."), "breach_kinds_required")
    from registry.tasks import breach_notices_send as send_task

    if not breach_affected_residents(incident=incident).exists():
        raise DomainError(_("No resident matches this breach's query."), "breach_no_residents")
    with transaction.atomic():
        BreachIncident.objects.filter(pk=incident.pk, residents_notified_at__isnull=True
                                      ).update(status=BreachStatus.NOTIFYING)
        sent = breach_notices_send_batch(incident_id=incident.pk, batch_size=batch_size)
        pending = breach_residents_pending(incident=incident).count()
        if pending:
            enqueue_on_commit(send_task, incident.pk)
        elif sent:
            # Mark the incident notified now that the last batch went out.
            breach_notices_send_batch(incident_id=incident.pk, batch_size=batch_size)
    incident.refresh_from_db()
    return {"sent": sent, "pending": pending}
