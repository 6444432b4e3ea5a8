"""Switch the simulated central server for an office (development and demos):

    manage.py central_simulator 3275 --down      the link is down
    manage.py central_simulator 3275 --up        back, fast and reliable
    manage.py central_simulator 3275 --latency 5000 --failure-rate 0.3
    manage.py central_simulator --received       what it was sent
"""

from django.core.management.base import BaseCommand

from registry.central.simulator import ANY_OFFICE, SimulatedCentralClient


class Command(BaseCommand):
    help = "Switch the simulated central server down, up, slow or flaky for an office."

    def add_arguments(self, parser):
        parser.add_argument("office", nargs="?", default=ANY_OFFICE,
                            help="Region code of the office (default: every office).")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--down", action="store_true")
        state.add_argument("--up", action="store_true")
        parser.add_argument("--latency", type=int, help="Milliseconds before each answer.")
        parser.add_argument("--failure-rate", type=float, help="Share of calls that fail.")
        parser.add_argument("--received", action="store_true", help="List the jobs received.")

    def handle(self, *args, office, down, up, latency, failure_rate, received, **options):
        if received:
            for row in SimulatedCentralClient.received(None if office == ANY_OFFICE else office):
                self.stdout.write(f"{row['office']} {row['kind']} {row['application']} "
                                  f"{row['job_id']} x{row['times']}")
            return
        changes = {"latency_ms": latency, "failure_rate": failure_rate}
        if down:
            changes["down"] = True
        if up:
            changes.update(down=False, latency_ms=latency or 0, failure_rate=failure_rate or 0)
        state = SimulatedCentralClient.configure(office, **changes)
        self.stdout.write(f"{office}: {'down' if state['down'] else 'up'}, "
                          f"{state['latency_ms']} ms, failure rate {state['failure_rate']}")
