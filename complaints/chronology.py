"""Assembling a complaint's chronology from the records (see complaints.collectors).

The result is a numbered list of points in plain Indonesian, each with the records it
rests on; it is pure reading and writes nothing (complaints.services.chronology stores
it).
"""

from django.utils import translation

from complaints import collectors, collectors_visit
from complaints.collectors import CaseContext, Fact
from registry.calendar import office_day_bounds
from registry.models import CaseEvent

CHRONOLOGY_LANGUAGE = "id"

# The case collectors of complaints.collectors, then those of the visit itself.
CASE_COLLECTORS = [*collectors.CASE_COLLECTORS, *collectors_visit.COLLECTORS]


def case_context(complaint) -> CaseContext:
    application = complaint.application
    events = []
    if application is not None:
        events = list(CaseEvent.objects.filter(application=application).order_by("at", "id"))
    ctx = CaseContext(office=complaint.office, application=application, complaint=complaint,
                      events=events)
    if complaint.resident_id is not None:
        # The complainant's own full NIK is never published either.
        ctx.private_terms.add(complaint.resident.nik)
    return ctx


def _visit_days(ctx: CaseContext) -> None:
    """Without queue records, the day the case was served at the counter (its move to
    in progress) is the period its central work could wait on."""
    for event in ctx.events:
        if event.kind == "application.status" and event.params.get("new") == "in_progress":
            start, end = office_day_bounds(ctx.office, ctx.local(event.at).date())
            ctx.waiting.append((start, end))


def collect_facts(complaint) -> tuple[list[Fact], CaseContext]:
    """Every fact the collectors find, in time order, and the shared context."""
    ctx = case_context(complaint)
    facts: list[Fact] = []
    with translation.override(CHRONOLOGY_LANGUAGE):
        if ctx.application is not None:
            for collect in CASE_COLLECTORS:
                facts.extend(collect(ctx))
            if not ctx.presence:
                _visit_days(ctx)
        for collect in collectors.LATE_COLLECTORS:
            if ctx.application is None and collect is not collectors.collect_complaint:
                continue
            facts.extend(collect(ctx))
    facts.sort(key=lambda fact: (fact.at, fact.order))
    return facts, ctx


def assemble(complaint) -> list[dict]:
    """The numbered points: [{"n", "at", "text", "sources": [{type, id, label}]}]."""
    facts, _ctx = collect_facts(complaint)
    return [
        {"n": number, "at": fact.at.isoformat(), "text": fact.text,
         "sources": [source.as_dict() for source in fact.sources]}
        for number, fact in enumerate(facts, start=1)
    ]


def private_terms(complaint) -> set[str]:
    """Names and numbers of people in the case's records that a public text must not
    show: other residents, recipients and proxies, and the complainant's full NIK."""
    _facts, ctx = collect_facts(complaint)
    return {term for term in ctx.private_terms if term and len(term) >= 3}


def sources_of(complaint) -> dict[tuple[str, int], str]:
    """Every record the chronology rests on, (type, id) -> label: what a finding may
    cite."""
    facts, _ctx = collect_facts(complaint)
    return {(s.type, s.id): s.label for fact in facts for s in fact.sources}

