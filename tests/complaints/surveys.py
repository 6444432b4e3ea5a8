"""A served visit to rate: a walk-in ticket called, identified and finished as served."""

from queues.models import Counter
from queues.services.calling import ticket_call_next, ticket_finish, ticket_start
from queues.services.counters import counter_create
from queues.services.issuing import ticket_identify, ticket_issue_walk_in
from registry.models import Lane, Role, Service

ALL = dict.fromkeys(("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"), 4)


def scores(value=4, **overrides) -> dict:
    return {**dict.fromkeys(ALL, value), **overrides}


def served_visit(office, resident, make_staff, *, counter_number=1, outcome="served"):
    """The resident's ticket in lane C served at counter `counter_number`; the ticket."""
    lane = Lane.objects.get(office=office, letter="C")
    counter = (Counter.objects.filter(office=office, number=counter_number).first()
               or counter_create(office=office, number=counter_number, lanes=[lane]))
    operator = make_staff(office, Role.COUNTER_OPERATOR,
                          username=f"op-{office.code}-{counter_number}-{resident.id}")
    service = Service.objects.get(office=office, code="KTP_TTD_FOTO")
    ticket = ticket_issue_walk_in(office=office, service=service, limits=False)
    ticket_call_next(counter=counter, by=operator)
    ticket_identify(counter=counter, resident=resident, by=operator)
    ticket_start(counter=counter, by=operator)
    ticket = ticket_finish(counter=counter, by=operator, outcome=outcome)
    ticket.refresh_from_db()
    return ticket
