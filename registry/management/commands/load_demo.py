"""Load the demo data of every app. Safe to run again."""

from importlib import import_module

from django.core.management.base import BaseCommand

from registry.demo import DEMO_PASSWORD, ROLE_USERNAMES

DEMO_SEEDERS = [
    "registry.appointments.demo",
    "queues.demo",
    "registry.deliveries.demo",
    "complaints.demo",
]


class Command(BaseCommand):
    help = "Load demo offices, staff, residents and the data of every app (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the logins.")

    def handle(self, *args, quiet=False, **options):
        from registry import demo

        result = demo.seed(stdout=self.stdout)
        for module_path in DEMO_SEEDERS:
            import_module(module_path).seed(offices=result["offices"], stdout=self.stdout)
        if quiet:
            return
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        self.stdout.write("  admin                 superuser, every office")
        self.stdout.write("  jabar.supervisor      provincial supervisor, both offices")
        for prefix, office in result["offices"].items():
            names = ", ".join(f"{prefix}.{suffix}" for suffix in ROLE_USERNAMES.values())
            self.stdout.write(f"  {office.name}: {names}")
