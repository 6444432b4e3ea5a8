"""Run the retention sweep now, or show what it would remove (--dry-run)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from registry.services import retention


def _day(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "-"


class Command(BaseCommand):
    help = ("Remove personal data past its limit in settings.RETENTION (files, message "
            "texts, old records); with --dry-run, only show what would be removed.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what is due, with its oldest and newest dates; "
                                 "change nothing.")

    def handle(self, *args, dry_run=False, **options):
        now = timezone.now()
        if dry_run:
            run = retention.retention_sweep(now=now, dry_run=True)
            self.stdout.write(f"Dry run at {now:%Y-%m-%d %H:%M} UTC: nothing is removed.")
            for report in run.reports:
                self.stdout.write(
                    f"{report.name}: {report.count} would be removed "
                    f"(older than {report.days} days; oldest {_day(report.oldest)}, "
                    f"newest {_day(report.newest)})")
        else:
            run = retention.retention_sweep(now=now)
            days = {rule.name: run.days[rule.limit] for rule in retention.retention_rules()}
            for name, count in run.counts.items():
                self.stdout.write(f"{name}: {count} removed (older than {days[name]} days)")
        self.stdout.write(f"Recorded as retention run {run.pk}.")
