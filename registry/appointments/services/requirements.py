"""The requirement pre-check: the documents a resident declares for a service, checked
against its requirements for the visit's date before a place is taken.
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
    Service,
)


@dataclass(frozen=True)
class DeclaredDocument:
    requirement: Requirement
    issued_on: date | None


def requirement_last_valid_day(requirement: Requirement, issued_on: date) -> date:
    """A document valid N days from issue is valid on the day of issue and the N-1
    days after it."""
    return issued_on + timedelta(days=requirement.valid_days - 1)


def requirement_problems(*, service: Service, visit_date: date, today: date,
                         documents: list[DeclaredDocument]) -> list[dict]:
    """Every requirement of `service` that stops a visit on `visit_date` from
    succeeding: `missing`, `expired` (already, today) or `expires_before_visit`. Each
    problem has a message in the current language saying what to do."""
    declared = {doc.requirement.id: doc for doc in documents}
    problems = []
    for requirement in service.requirements.all():
        doc = declared.get(requirement.id)
        hint = requirement.how_to_obtain
        if doc is None:
            message = _("%(document)s is missing.") % {"document": requirement.name}
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


def documents_declare(*, service: Service, documents: list[dict]) -> list[DeclaredDocument]:
    """Turn `[{requirement: CODE, issued_on}]` into declared documents of `service`,
    refusing unknown codes, repeats and dates of issue in the future."""
    by_code = {r.code: r for r in service.requirements.all()}
    today = office_today(service.office)
    seen, declared = set(), []
    for doc in documents:
        code = str(doc.get("requirement", ""))
        requirement = by_code.get(code)
        if requirement is None:
            raise DomainError(_("%(code)s is not a requirement of this service.")
                              % {"code": code[:40]}, "requirement_unknown")
        if code in seen:
            raise DomainError(_("%(document)s is listed twice.") % {"document": requirement.name},
                              "requirement_repeated")
        seen.add(code)
        issued_on = doc.get("issued_on")
        if issued_on is not None and issued_on > today:
            raise DomainError(_("The date of issue of %(document)s is in the future.")
                              % {"document": requirement.name}, "issued_on_future")
        declared.append(DeclaredDocument(requirement, issued_on))
    return declared


def requirement_check(*, office: Office, service: Service, visit_date: date,
                      documents: list[dict]) -> list[dict]:
    """The pre-check of POST /requirement-checks/: the problems, empty when none."""
    if service.office_id != office.id or not service.is_active:
        raise NotFound(_("This service is not offered by this office."), "service_not_found")
    today = office_today(office)
    if visit_date < today:
        raise DomainError(_("The visit date is in the past."), "visit_date_past")
    return requirement_problems(service=service, visit_date=visit_date, today=today,
                                documents=documents_declare(service=service,
                                                            documents=documents))


def requirement_problems_raise(problems: list[dict]) -> None:
    if problems:
        raise DomainError(_("Some requirements are not met; see the problems."),
                          "requirements_not_met", extra={"problems": problems})
