"""The requirement pre-check: the documents a resident declares for the services of a
visit, checked against their requirements for the visit's date before a place is taken.

A document declared lost (`{"requirement": "KTP_LAMA", "lost": true}`) whose loss
changes the service answers the problem `lost` with what to book instead: the
lost-card replacement beside the services asked for, its requirements, and that the
police letter must still be valid on the visit day.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _

from registry.appointments.services.notices import date_text
from registry.calendar import (
    office_today,
)
from registry.errors import DomainError, NotFound
from registry.models import (
    Office,
    Requirement,
)
from registry.service_sets import ServiceSet, service_set_get


@dataclass(frozen=True)
class DeclaredDocument:
    requirement: Requirement
    issued_on: date | None
    lost: bool = False


def requirement_last_valid_day(requirement: Requirement, issued_on: date) -> date:
    """A document valid N days from issue is valid on the day of issue and the N-1
    days after it."""
    return issued_on + timedelta(days=requirement.valid_days - 1)


def requirement_first_valid_issue(requirement: Requirement, visit_date: date) -> date:
    """The earliest date of issue that keeps a document valid on `visit_date`."""
    return visit_date - timedelta(days=requirement.valid_days - 1)


def requirement_dict(requirement: Requirement) -> dict:
    return {"code": requirement.code, "name": requirement.name,
            "valid_days": requirement.valid_days, "how_to_obtain": requirement.how_to_obtain}


def _lost_problem(*, requirement: Requirement, service_set: ServiceSet,
                  visit_date: date) -> dict:
    """A lost document whose loss changes the service: book the replacing service
    beside the others, with its requirements and the validity each must have on the
    visit day."""
    instead_service = requirement.lost_instead
    office = service_set.primary.office
    codes = [instead_service.code, *[c for c in service_set.codes if c != instead_service.code]]
    instead = service_set_get(office=office, codes=codes, active_only=False)
    needed = instead.requirements()
    lines = []
    for needed_requirement in needed:
        line = str(needed_requirement.name)
        if needed_requirement.valid_days:
            line = str(_("%(document)s, still valid on the visit day %(visit)s (issued on "
                         "%(earliest)s or later)") % {
                "document": needed_requirement.name, "visit": date_text(visit_date),
                "earliest": date_text(requirement_first_valid_issue(needed_requirement,
                                                                    visit_date))})
        lines.append(line)
    hints = " ".join(r.how_to_obtain for r in needed
                     if r.valid_days and r.how_to_obtain)
    message = _("Your %(document)s is lost, so this visit becomes %(service)s. Book "
                "%(services)s in one visit and bring: %(needed)s.") % {
        "document": requirement.name, "service": instead_service.name,
        "services": instead.name, "needed": "; ".join(lines)}
    if hints:
        message = f"{message} {hints}"
    return {"requirement": requirement.code, "code": "lost", "message": message,
            "instead": {"service": instead_service.code, "services": instead.codes,
                        "requirements": [requirement_dict(r) for r in needed]}}


def requirement_problems(*, service_set: ServiceSet, visit_date: date, today: date,
                         documents: list[DeclaredDocument]) -> list[dict]:
    """Every requirement of the visit that stops it from succeeding on `visit_date`:
    `lost` (with what to book instead), `missing`, `expired` (already, today) or
    `expires_before_visit`. Each problem has a message in the current language saying
    what to do."""
    declared = {doc.requirement.code: doc for doc in documents}
    problems = []
    for requirement in service_set.requirements():
        doc = declared.get(requirement.code)
        hint = requirement.how_to_obtain
        if doc is not None and doc.lost and requirement.lost_instead_id:
            problems.append(_lost_problem(requirement=requirement, service_set=service_set,
                                          visit_date=visit_date))
            continue
        if doc is None or doc.lost:
            message = (_("%(document)s is missing.") if doc is None
                       else _("%(document)s is lost: get a new one before the visit.")) % {
                "document": requirement.name}
            code = "missing"
        elif requirement.valid_days and doc.issued_on is None:
            message = _("%(document)s is valid for %(days)s days: give its date of issue.") % {
                "document": requirement.name, "days": requirement.valid_days}
            code = "missing"
        elif requirement.valid_days:
            last = requirement_last_valid_day(requirement, doc.issued_on)
            if last < today:
                code = "expired"
                message = _("%(document)s expired on %(date)s.") % {
                    "document": requirement.name, "date": date_text(last)}
            elif last < visit_date:
                code = "expires_before_visit"
                message = _("%(document)s is valid until %(date)s, before your visit on "
                            "%(visit)s.") % {"document": requirement.name,
                                             "date": date_text(last),
                                             "visit": date_text(visit_date)}
            else:
                continue
        else:
            continue
        if hint:
            message = f"{message} {hint}"
        problems.append({"requirement": requirement.code, "code": code, "message": message})
    return problems


def documents_declare(*, service_set: ServiceSet, documents: list[dict]
                      ) -> list[DeclaredDocument]:
    """Turn `[{requirement: CODE, issued_on} or {requirement: CODE, lost: true}]` into
    declared documents of the visit, refusing unknown codes, repeats and dates of issue
    in the future. A document the set itself replaces (the old KTP-el beside KTP-el
    hilang) may be declared lost; it is then left out."""
    by_code = {r.code: r for r in service_set.requirements()}
    replaced = service_set.replaced_codes()
    today = office_today(service_set.primary.office)
    seen, declared = set(), []
    for doc in documents:
        code = str(doc.get("requirement", ""))
        requirement = by_code.get(code)
        if requirement is None and code in replaced and doc.get("lost"):
            continue
        if requirement is None:
            raise DomainError(_("%(code)s is not a requirement of this service.")
                              % {"code": code[:40]}, "requirement_unknown")
        if code in seen:
            raise DomainError(_("%(document)s is listed twice.") % {"document": requirement.name},
                              "requirement_repeated")
        seen.add(code)
        lost = bool(doc.get("lost"))
        issued_on = None if lost else doc.get("issued_on")
        if issued_on is not None and issued_on > today:
            raise DomainError(_("The date of issue of %(document)s is in the future.")
                              % {"document": requirement.name}, "issued_on_future")
        declared.append(DeclaredDocument(requirement, issued_on, lost))
    return declared


def requirement_check(*, office: Office, service_set: ServiceSet, visit_date: date,
                      documents: list[dict]) -> list[dict]:
    """The pre-check of POST /requirement-checks/: the problems, empty when none."""
    if any(s.office_id != office.id or not s.is_active for s in service_set.services):
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    today = office_today(office)
    if visit_date < today:
        raise DomainError(_("The visit date is in the past."), "visit_date_past")
    return requirement_problems(service_set=service_set, visit_date=visit_date, today=today,
                                documents=documents_declare(service_set=service_set,
                                                            documents=documents))


def requirement_problems_raise(problems: list[dict]) -> None:
    if problems:
        raise DomainError(_("Some requirements are not met; see the problems."),
                          "requirements_not_met", extra={"problems": problems})
