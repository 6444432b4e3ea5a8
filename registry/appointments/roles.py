"""What each staff role may do in appointments; joined with the others by roles_sync.

The front desk books on residents' behalf, reviews documents sent ahead and cancels
with a reason; office administrators also set the slots; supervisors see everything.
"""

from registry.models import Role

VIEW = ["appointments.view_booking", "appointments.view_slot",
        "appointments.view_bookingdocument", "appointments.view_appointmentsettings",
        "appointments.view_laneschedule", "appointments.view_smsoffer",
        "appointments.view_smsinbound"]
DESK = ["appointments.add_booking", "appointments.change_booking",
        "appointments.change_bookingdocument"]
SET_UP = ["appointments.change_appointmentsettings", "appointments.change_laneschedule",
          "appointments.add_laneschedule"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICE_ADMIN: [*VIEW, *DESK, *SET_UP],
    Role.FRONT_DESK: [*VIEW, *DESK],
    Role.COUNTER_OPERATOR: ["appointments.view_booking", "appointments.view_bookingdocument"],
    Role.SUPERVISOR: [*VIEW, *DESK, *SET_UP],
    Role.COURIER: [],
    Role.PUBLIC_RELATIONS: ["appointments.view_booking"],
    Role.PROVINCIAL_SUPERVISOR: [*VIEW],
}
