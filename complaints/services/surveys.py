"""The community satisfaction survey (IKM, PermenPANRB 14/2017): the resident's answer
after a served visit, the invitation to give it, and a low score's comment taken in
as a complaint by staff.

Rules kept here:
- One answer per case (the unique constraint survey_answer_one_per_application is
  the last line of defence against two at once); a second one is refused 409.
- Only the resident's own case that was served at a counter may be rated; any other
  answers 404, the same for "does not exist" and "not yours".
- Each of the nine elements U1..U9 is scored 1 to 4, every one of them.
- The answer records the lane, service and counter of the visit (the case's last
  served ticket), so the IKM can be reported per lane, service and counter.
"""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from complaints import lock_objects
from complaints.models import (
    SCORE_MAX,
    SCORE_MIN,
    SURVEY_ELEMENTS,
    Category,
    Complaint,
    SurveyAnswer,
)
from complaints.selectors import surveys_pending_for_resident
from complaints.services.handling import HANDLING_ROLES
from complaints.services.intake import complaint_from_survey
from queues.selectors import application_last_served_ticket
from registry import tenancy
from registry.errors import Conflict, DomainError, NotFound, violated_constraint
from registry.models import Application, Office, PhoneType, Resident
from registry.services.notifications import notification_send

COMMENT_MAX = 2000
# An element scored at most this ("not satisfied" or "less satisfied") is a low score.
LOW_SCORE = 2
# The category a complaint from the survey starts with, by its lowest element (staff
# may classify it again).
ELEMENT_CATEGORY = {"U1": Category.REQUIREMENTS, "U3": Category.WAITING_TIME,
                    "U6": Category.STAFF_CONDUCT, "U7": Category.STAFF_CONDUCT}


def scores_clean(scores) -> dict[str, int]:
    """The nine scores, each an integer 1..4; refused when one is missing, out of
    range or an unknown element is given."""
    if not isinstance(scores, dict):
        raise DomainError(_("Give a score for each of U1 to U9."), "scores_invalid")
    missing = [e for e in SURVEY_ELEMENTS if e not in scores]
    if missing:
        raise DomainError(_("Give a score for %(elements)s.")
                          % {"elements": ", ".join(missing)}, "score_missing",
                          extra={"elements": missing})
    unknown = sorted(str(k) for k in scores if k not in SURVEY_ELEMENTS)
    if unknown:
        raise DomainError(_("Only the elements U1 to U9 are scored."), "element_unknown",
                          extra={"elements": unknown})
    clean = {}
    for element in SURVEY_ELEMENTS:
        value = scores[element]
        if isinstance(value, bool) or not isinstance(value, int) or not (
                SCORE_MIN <= value <= SCORE_MAX):
            raise DomainError(_("Each score is a whole number from 1 to 4."),
                              "score_out_of_range", extra={"elements": [element]})
        clean[element] = value
    return clean


def survey_application_get(*, resident: Resident, application_id: int):
    """The resident's case that may be rated and its last served ticket; NotFound for
    another resident's case (or none) and for a case never served at a counter."""
    application = (Application.objects.filter(pk=application_id, resident=resident)
                   .select_related("office").first())
    if application is None:
        raise NotFound(_("This case was not found."), "application_not_found")
    ticket = application_last_served_ticket(application=application)
    if ticket is None:
        raise NotFound(_("This case has not been served yet; rate it after your visit."),
                       "application_not_completed")
    return application, ticket


@transaction.atomic
def survey_answer_submit(*, resident: Resident, application_id: int, scores,
                         comment: str = "") -> SurveyAnswer:
    """The resident rates the served visit of one of their cases, once."""
    clean = scores_clean(scores)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(_("The comment is too long (at most 2000 characters)."),
                          "comment_too_long")
    application, ticket = survey_application_get(resident=resident,
                                                 application_id=application_id)
    if SurveyAnswer.objects.filter(application=application).exists():
        raise Conflict(_("You already rated this visit. Thank you!"), "survey_answered")
    answer = SurveyAnswer(
        office_id=application.office_id, application=application, resident=resident,
        lane_id=ticket.lane_id, service_id=ticket.service_id, counter_id=ticket.counter_id,
        comment=comment, answered_at=timezone.now(),
        **{element.lower(): value for element, value in clean.items()})
    try:
        with transaction.atomic():
            answer.save()
    except IntegrityError as error:
        if violated_constraint(error, SurveyAnswer) == "survey_answer_one_per_application":
            raise Conflict(_("You already rated this visit. Thank you!"),
                           "survey_answered") from error
        raise
    return answer


def survey_invite(*, application: Application) -> None:
    """Invite the resident to rate the visit that just completed their case's service
    (registry.central's VISIT_COMPLETED hook, in the counter's transaction): once per
    case, in the inbox and by the resident's channels. A resident with a feature phone
    is told how to answer by SMS (SURVEY_COMMAND); one with no phone rates at the
    counter's tablet or not at all."""
    if SurveyAnswer.objects.filter(application=application).exists():
        return
    body = _("Please rate our service for case %(number)s (nine questions, 1 to 4). "
             "Your answer is anonymous and helps us improve.")
    if application.resident.phone_type == PhoneType.FEATURE_PHONE:
        body = _("Please rate our service for case %(number)s: reply IKM and nine digits "
                 "from 1 (poor) to 4 (very good) for requirements, procedure, time, cost, "
                 "product, staff competence, staff behaviour, complaint handling and "
                 "facilities, e.g. IKM 434434443. Your answer is anonymous.")
    notification_send(
        office=application.office, resident=application.resident, kind="survey.invited",
        title=_("How was your visit to %(office)s?"), body=body,
        params={"office": application.office.name, "number": application.number},
        application=application, dedup_key=f"survey-invite:{application.id}")


# The SMS answer to the survey (registry.extensions SMS_COMMANDS): IKM, nine digits 1-4
# (U1..U9 in order), then an optional comment.
SURVEY_COMMAND = "IKM"
_SMS_ANSWER = re.compile(r"^IKM\b\s*([0-9][0-9 ,.-]*)?(.*)$", re.IGNORECASE | re.DOTALL)


def survey_answer_by_sms(*, resident: Resident, text: str):
    """`IKM 434434443 [comment]` from the resident's bound phone: their latest served
    case not rated yet is rated, as in the app. The answer to send back, its parameters
    and the case's office; None when the text is not this command."""
    match = _SMS_ANSWER.match(text.strip())
    if match is None:
        return None
    application = surveys_pending_for_resident(resident=resident).first()
    if application is None:
        return _("No visit of yours is waiting for your rating."), {}, None
    digits = re.sub(r"[^0-9]", "", match.group(1) or "")
    if len(digits) != len(SURVEY_ELEMENTS) or any(d not in "1234" for d in digits):
        return (_("Reply IKM and nine digits from 1 to 4, e.g. IKM 434434443."), {},
                application.office)
    scores = {element: int(digit) for element, digit in zip(SURVEY_ELEMENTS, digits,
                                                            strict=True)}
    try:
        survey_answer_submit(resident=resident, application_id=application.id,
                             scores=scores, comment=match.group(2).strip())
    except DomainError as exc:
        return exc.message, {}, application.office
    return (_("Thank you for rating our service for case %(number)s."),
            {"number": application.number}, application.office)


def is_low(answer: SurveyAnswer) -> bool:
    return min(answer.scores().values()) <= LOW_SCORE


@transaction.atomic
def survey_answer_escalate(*, office: Office, answer_id: int, by,
                           category: str = "") -> Complaint:
    """Staff handling complaints at the answer's office take a low-scored answer's
    comment in as a complaint, once. Another office's answer is not found."""
    if not tenancy.staff_has_role(by, office, *HANDLING_ROLES):
        raise NotFound(_("Not found."), "not_found")
    answer = lock_objects.survey_answers_for_update().filter(
        pk=answer_id, office=office).select_related("resident", "application").first()
    if answer is None:
        raise NotFound(_("Not found."), "not_found")
    if answer.complaint_id is not None:
        raise Conflict(_("This answer is already a complaint."), "survey_already_complaint")
    if not answer.comment:
        raise DomainError(_("Only an answer with a comment can become a complaint."),
                          "survey_no_comment")
    if not is_low(answer):
        raise DomainError(_("Only an answer with a low score (1 or 2) can become a "
                            "complaint."), "survey_not_low")
    if not category:
        lowest = min(SURVEY_ELEMENTS, key=lambda e: (answer.scores()[e], e))
        category = ELEMENT_CATEGORY.get(lowest, Category.OTHER)
    complaint = complaint_from_survey(office=office, by=by, text=answer.comment,
                                      category=category, resident=answer.resident,
                                      application=answer.application)
    answer.complaint = complaint
    answer.save(update_fields=["complaint"])
    return complaint
