"""What the apps add to the registry core.

The core never names an app. Each app registers its parts here from its
AppConfig.ready(), and the core reads them in the order of INSTALLED_APPS:

- ROLES: a role → permissions mapping (an app's roles.py ROLE_PERMISSIONS), joined by
  registry.services.staff.roles_sync;
- EVENT_KINDS: a kind → message mapping (an app's events.py EVENT_KINDS), read by
  registry.timeline;
- FIGURES: a selector `(*, office, day) -> [(label, value)]`, today's figures on the
  admin index (registry.dashboard);
- STAFF_LINKS: a function `(*, office, roles) -> [(label, url)]`, the staff start page;
- STAFF_ALERTS: a selector `(*, office, roles) -> [(text, url)]`, what needs this
  user's attention at `office` now, on the staff start page and the admin index;
- OFFICE_STATE: a selector `(*, office) -> dict`, keys added to an office's public
  detail (GET /offices/<code>/);
- TRENDS: a selector `(*, offices, period) -> {office_id: [Chart]}`, the app's charts
  over a period for the dashboard and the monthly report (registry.trends), in a
  bounded number of queries whatever the number of offices;
- REPORT_TABLES: a selector `(*, offices, period) -> {office_id: [Table]}`, the month's
  lists in the monthly report (registry.reports), such as its outages or complaints;
- DEMO: a function `(*, offices, stdout)` seeding the app's demo data on the core's
  demo offices (manage.py load_demo);
- HISTORY: a function `(*, offices, start: date, end: date, rng: random.Random,
  stdout=None)` writing the app's past records for those offices over the days
  `start`..`end` in bulk, as its services would have left them (registry.demo_history
  runs the parts in order, so an app builds on the rows of the apps before it: the demo's
  60 days, the benchmarks' year);
- NATIONAL_SETUP: a function `(*, offices)` giving new offices of the national
  deployment what the app needs to work (the queues' counters, the appointments' lane
  plans), in bulk where it can (registry.demo_national, manage.py load_demo --national);
- NATIONAL_DAY: a function `(*, office, day: date, moment: datetime, rng) ->
  {model label: rows}` writing the office's live `day` as seen at `moment`, with the
  work each of the app's periodic tasks finds due then (registry.demo_national);
- SMS_COMMANDS: a function `(*, resident, text) -> (answer, params, office) | None`
  trying a resident's SMS (from their bound phone) as one of the app's commands: the
  answer to send back (a translatable text and its parameters) and the office it is
  about, or None when the text is not the app's (the SMS webhook tries each in turn);
- RETENTION: a registry.services.retention.RetentionRule, one kind of personal data the
  app keeps (its files, its columns, its rows) and how it is removed once older than
  its limit in settings.RETENTION (the daily retention sweep, manage.py retention);
- PERSONAL_EXPORT: a pair `(section, function(resident) -> JSON-able)`, the app's part
  of a resident's own data for GET /api/v1/me/export/ (registry.personal_export): each
  function reads its section in a bounded number of queries (one per section, whatever
  the number of rows), never another resident's rows, and no staff member's name;
- BREACH_DATA: a selector `(*, kinds: set[str], start, end) -> [QuerySet]` naming the
  residents whose data of those kinds (registry.models.BreachDataKind) the app wrote
  in the period (either end None: open), each QuerySet of one column of resident ids
  (registry.breaches);
- any app may name further hooks for the apps above it (registry.central's
  OUTAGE_HOLDUPS, say): the name is the contract.
"""

from collections import defaultdict

ROLES = "roles"
EVENT_KINDS = "event_kinds"
FIGURES = "figures"
STAFF_LINKS = "staff_links"
STAFF_ALERTS = "staff_alerts"
OFFICE_STATE = "office_state"
TRENDS = "trends"
REPORT_TABLES = "report_tables"
DEMO = "demo"
HISTORY = "history"
NATIONAL_SETUP = "national_setup"
NATIONAL_DAY = "national_day"
SMS_COMMANDS = "sms_commands"
RETENTION = "retention"
PERSONAL_EXPORT = "personal_export"
BREACH_DATA = "breach_data"

_registered: dict[str, list] = defaultdict(list)


def register(hook: str, *parts) -> None:
    """Add `parts` to `hook`. Registering the same part twice keeps one (ready() can
    run more than once in tests)."""
    for part in parts:
        if part not in _registered[hook]:
            _registered[hook].append(part)


def register_app(*, roles=None, event_kinds=None, figures=None, staff_links=None,
                 staff_alerts=None, office_state=None, trends=None,
                 demo=None) -> None:
    """An app's parts for the core's hooks, each optional, in one call from its ready()."""
    for hook, part in ((ROLES, roles), (EVENT_KINDS, event_kinds), (FIGURES, figures),
                       (STAFF_LINKS, staff_links), (STAFF_ALERTS, staff_alerts),
                       (OFFICE_STATE, office_state), (TRENDS, trends), (DEMO, demo)):
        if part is not None:
            register(hook, part)


def registered(hook: str) -> list:
    """What the apps registered for `hook`, in registration order."""
    return list(_registered[hook])
