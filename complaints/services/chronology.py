"""The complaint's chronology and findings: a chronology is assembled from the case's
records (complaints.chronology) as a draft, edited by staff and published redacted; a
finding on a claim rests on records of the case.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints import chronology as assembler
from complaints import lock_objects
from complaints.models import (
    Chronology,
    ChronologyEdit,
    ChronologyStatus,
    Complaint,
    Finding,
    Verdict,
)
from complaints.redaction import redact
from complaints.selectors import resident_names_in
from complaints.services.handling import complaint_lock, handler_check
from complaints.services.responses import TEXT_MAX
from registry.errors import Conflict, DomainError


@transaction.atomic
def chronology_generate(*, complaint: Complaint, by) -> Chronology:
    """Assemble the chronology from the records now: a new draft version (the previous
    draft, if any, is superseded and kept)."""
    complaint = complaint_lock(complaint)
    handler_check(complaint, by)
    if complaint.application is None:
        raise DomainError(_("Link the complaint to the resident's case first."),
                          "case_not_linked")
    points = assembler.assemble(complaint)
    Chronology.objects.filter(complaint=complaint, status=ChronologyStatus.DRAFT).update(
        status=ChronologyStatus.SUPERSEDED)
    version = (complaint.chronologies.order_by("-version").values_list("version", flat=True)
               .first() or 0) + 1
    return Chronology.objects.create(
        office_id=complaint.office_id, complaint=complaint, version=version, generated=points,
        points=[dict(point) for point in points], generated_by=by)


def _editable(chronology: Chronology) -> Chronology:
    chronology = lock_objects.chronologies_for_update().select_related(
        "complaint", "complaint__office").get(pk=chronology.pk)
    if chronology.status != ChronologyStatus.DRAFT:
        raise Conflict(_("Only a draft chronology can be changed."), "chronology_not_draft")
    return chronology


@transaction.atomic
def chronology_edit(*, chronology: Chronology, texts: list[str], by,
                    note: str = "") -> Chronology:
    """Staff reword, remove or add points before publishing. Each point keeps the
    records of the generated point at its place when it was reworded; the change is
    recorded with what it was before."""
    chronology = _editable(chronology)
    handler_check(chronology.complaint, by)
    cleaned = [(t or "").strip() for t in texts]
    cleaned = [t for t in cleaned if t]
    if not cleaned:
        raise DomainError(_("A chronology has at least one point."), "points_required")
    if len(cleaned) > 200 or any(len(t) > 2000 for t in cleaned):
        raise DomainError(_("Keep to 200 points of at most 2000 characters."),
                          "points_too_long")
    before = chronology.points
    by_text = {p["text"]: p for p in before}
    points = []
    for number, text in enumerate(cleaned, start=1):
        earlier = by_text.get(text) or (before[number - 1] if number <= len(before) else None)
        points.append({"n": number, "at": earlier.get("at") if earlier else None,
                       "text": text, "sources": earlier.get("sources", []) if earlier else [],
                       "edited": text != (earlier or {}).get("text")})
    if [p["text"] for p in points] == [p["text"] for p in before]:
        return chronology
    ChronologyEdit.objects.create(office_id=chronology.office_id, chronology=chronology,
                                  by=by, before=before, after=points, note=note[:300])
    chronology.points = points
    chronology.save(update_fields=["points"])
    return chronology


@transaction.atomic
def chronology_publish(*, chronology: Chronology, by) -> Chronology:
    """Publish the draft: its points are redacted, it is frozen, and an earlier
    published version is superseded."""
    chronology = _editable(chronology)
    complaint = chronology.complaint
    handler_check(complaint, by)
    terms = assembler.private_terms(complaint)
    points = []
    for point in chronology.points:
        names = resident_names_in(point["text"], exclude_id=complaint.resident_id)
        text, _count = redact(point["text"], private_terms=terms | names)
        points.append({**point, "text": text})
    Chronology.objects.filter(complaint=complaint, status=ChronologyStatus.PUBLISHED).update(
        status=ChronologyStatus.SUPERSEDED)
    chronology.points = points
    chronology.status = ChronologyStatus.PUBLISHED
    chronology.published_at = timezone.now()
    chronology.published_by = by
    chronology.save(update_fields=["points", "status", "published_at", "published_by"])
    return chronology


@transaction.atomic
def finding_add(*, complaint: Complaint, claim: str, verdict: str, explanation: str,
                evidence: list[tuple[str, int]], by) -> Finding:
    """A finding on one claim, resting on records of the case (each one a source the
    chronology is assembled from)."""
    complaint = complaint_lock(complaint)
    handler_check(complaint, by)
    claim = (claim or "").strip()
    explanation = (explanation or "").strip()
    if not claim or len(claim) > 500:
        raise DomainError(_("State the claim (at most 500 characters)."), "claim_required")
    if not explanation or len(explanation) > TEXT_MAX:
        raise DomainError(_("Explain the finding."), "explanation_required")
    if verdict not in Verdict.values:
        raise DomainError(_("Choose whether the claim is upheld."), "verdict_invalid")
    if verdict != Verdict.UNDETERMINED and not evidence:
        raise DomainError(_("Name the records the finding rests on."), "evidence_required")
    sources = assembler.sources_of(complaint)
    cited = []
    for kind, record_id in evidence:
        label = sources.get((kind, int(record_id)))
        if label is None:
            raise DomainError(_("A finding can rest only on records of this case."),
                              "evidence_not_in_case")
        cited.append({"type": kind, "id": int(record_id), "label": label})
    position = (complaint.findings.order_by("-position").values_list("position", flat=True)
                .first() or 0) + 1
    return Finding.objects.create(office_id=complaint.office_id, complaint=complaint,
                                  position=position, claim=claim, verdict=verdict,
                                  explanation=explanation, evidence=cited, created_by=by)
