"""Load the demo data of the core and of every app. Safe to run again."""

import time

from django.core.management.base import BaseCommand

from registry import demo, demo_history, demo_national, extensions
from registry.demo import DEMO_PASSWORD, ROLE_USERNAMES

# Days of past work the demo offices get, ending yesterday: every chart has a shape.
HISTORY_DAYS = 60


class Command(BaseCommand):
    help = "Load demo offices, staff, residents and the data of every app (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the logins.")
        parser.add_argument(
            "--history-days", type=int, default=None,
            help=f"Days of past work to write, ending yesterday (default {HISTORY_DAYS}; "
                 "0 for none). Written once: a second run adds only the days since.")
        parser.add_argument(
            "--national", type=int, nargs="?", const=demo_national.NATIONAL_OFFICES,
            metavar="OFFICES",
            help="Instead: a national deployment of OFFICES offices (default "
                 f"{demo_national.NATIONAL_OFFICES}, every regency and city) with their last "
                 "working day (--history-days, default 1 here) and a live day with due work "
                 "for every periodic task (registry.demo_national).")

    def handle(self, *args, quiet=False, history_days=None, national=None, **options):
        if national:
            self._national(national, 1 if history_days is None else history_days, quiet)
            return
        history_days = HISTORY_DAYS if history_days is None else history_days
        result = demo.seed(stdout=self.stdout)
        # Each app's demo data, as it registered its seeder (registry.extensions.DEMO).
        for seed in extensions.registered(extensions.DEMO):
            seed(offices=result["offices"], stdout=self.stdout)
        # Then the weeks before today, by each app's registry.extensions.HISTORY part.
        if history_days > 0:
            demo_history.history_seed(offices=list(result["offices"].values()),
                                      days=history_days, stdout=None if quiet else self.stdout)
        if quiet:
            return
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin                 superuser, every office")
        self.stdout.write("  jabar.supervisor      provincial supervisor, both offices")
        for prefix, office in result["offices"].items():
            names = ", ".join(f"{prefix}.{suffix}" for suffix in ROLE_USERNAMES.values())
            self.stdout.write(f"  {office.name}: {names}")

    def _national(self, count: int, history_days: int, quiet: bool) -> None:
        started = time.monotonic()
        result = demo_national.national_seed(count=count, history_days=history_days,
                                             stdout=None if quiet else self.stdout)
        if quiet:
            return
        history, live = result["history"], result["live"]
        self.stdout.write(self.style.SUCCESS(
            f"{len(result['offices'])} offices ({result['made']} made now) in "
            f"{time.monotonic() - started:.0f} s; live day {result['day']:%d-%m-%Y} seen at "
            f"{result['moment']:%H:%M %Z}; history {sum(history.values()):,} rows, live day "
            f"{sum(live.values()):,} rows."))
        for label, rows in sorted({**history, **{f"{k} (live)": v for k, v in live.items()}}
                                  .items()):
            self.stdout.write(f"  {rows:>9,}  {label}")
