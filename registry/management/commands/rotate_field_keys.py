"""Re-encrypt under the current key (the first of EOPEN_FIELD_KEYS) every stored NIK and
phone still under an older one, in bounded batches; safe to run again (rows under the
current key are passed over) and safe to stop: the old key stays in EOPEN_FIELD_KEYS until
a run reports 0 rows left, then it can be removed. The lookup hashes do not change."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from registry.encryption import column_specs, key_ring, reencrypt_column


class Command(BaseCommand):
    help = ("Re-encrypt stored NIKs and phone numbers under the current key of "
            "EOPEN_FIELD_KEYS, in batches; prints the rows moved per column.")

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500,
                            help="Rows per batch, each batch one transaction (default 500).")

    def handle(self, *args, batch_size, **options):
        current = key_ring().current
        total = 0
        for spec in column_specs(apps.get_models()):
            moved = 0
            while True:
                # One batch per transaction: locks stay short on a busy table.
                with transaction.atomic():
                    done = reencrypt_column(connection, spec, batch_size=batch_size,
                                            max_batches=1)
                moved += done
                if done < batch_size:
                    break
            total += moved
            self.stdout.write(f"{spec.table}.{spec.column}: {moved} re-encrypted")
        self.stdout.write(f"{total} values re-encrypted under key {current!r}.")
