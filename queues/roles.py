"""What each staff role may do in the queues; joined with the others by roles_sync.

The front desk issues tickets and checks bookings in (a kiosk device is signed in as a
front-desk account); counter operators work at counters; supervisors do both and see
the statistics; office administrators set up counters, the queue settings and the
lanes' daily walk-in quotas."""

from registry.models import Role

VIEW = [
    "queues.view_ticket",
    "queues.view_ticketevent",
    "queues.view_counter",
    "queues.view_counterlane",
    "queues.view_queuesettings",
    "queues.view_pausereason",
    "queues.view_counterevent",
    "queues.view_counteralert",
    "queues.view_lanequota",
]
SET_UP = [
    "queues.add_counter", "queues.change_counter",
    "queues.add_counterlane", "queues.change_counterlane", "queues.delete_counterlane",
    "queues.add_queuesettings", "queues.change_queuesettings",
    "queues.add_pausereason", "queues.change_pausereason",
    "queues.add_lanequota", "queues.change_lanequota", "queues.delete_lanequota",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.OFFICE_ADMIN: [*VIEW, *SET_UP, "queues.issue_ticket", "queues.view_queue_statistics"],
    Role.FRONT_DESK: ["queues.view_ticket", "queues.view_counter", "queues.issue_ticket"],
    Role.COUNTER_OPERATOR: ["queues.view_ticket", "queues.view_ticketevent",
                            "queues.view_counter", "queues.operate_counter"],
    Role.SUPERVISOR: [*VIEW, "queues.change_queuesettings", "queues.issue_ticket",
                      "queues.operate_counter", "queues.view_queue_statistics"],
    Role.COURIER: [],
    Role.PUBLIC_RELATIONS: [*VIEW, "queues.view_queue_statistics"],
    Role.PROVINCIAL_SUPERVISOR: [*VIEW, "queues.view_queue_statistics"],
}
