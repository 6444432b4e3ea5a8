"""The complaints' part of a resident's own data (registry.personal_export): their
complaints with the answers they were given, and their satisfaction-survey answers."""

from django.db.models import Prefetch

from complaints.models import SURVEY_ELEMENTS, Complaint, ComplaintResponse, SurveyAnswer
from registry.api.fields import office_local_iso
from registry.models import Resident


def complaints(resident: Resident) -> list[dict]:
    rows = (Complaint.objects.filter(resident=resident)
            .select_related("office", "application")
            .prefetch_related(Prefetch("responses",
                                       queryset=ComplaintResponse.objects.order_by("at", "id")))
            .order_by("received_at", "id"))
    return [{
        "id": c.id, "reference": c.reference, "office": c.office.code,
        "channel": c.channel, "category": c.category, "status": c.status, "text": c.text,
        "application": c.application.number if c.application_id else None,
        "received_at": office_local_iso(c.received_at, c.office),
        "responded_at": office_local_iso(c.responded_at, c.office),
        "resolved_at": office_local_iso(c.resolved_at, c.office),
        "responses": [{"at": office_local_iso(r.at, c.office), "kind": r.kind,
                       "channel": r.channel, "text": r.text} for r in c.responses.all()],
    } for c in rows]


def survey_answers(resident: Resident) -> list[dict]:
    rows = (SurveyAnswer.objects.filter(resident=resident)
            .select_related("office", "application", "service")
            .order_by("answered_at", "id"))
    return [{
        "application": a.application.number, "office": a.office.code,
        "service": a.service.code if a.service_id else None,
        "scores": {element: getattr(a, element.lower()) for element in SURVEY_ELEMENTS},
        "comment": a.comment, "answered_at": office_local_iso(a.answered_at, a.office),
    } for a in rows]


SECTIONS = [("complaints", complaints), ("survey_answers", survey_answers)]
