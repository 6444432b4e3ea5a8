"""The NIKs of a hand-over's proxy and receiver encrypted at rest (issue 17)."""

import registry.encryption
from django.db import migrations
from registry.encryption import ColumnSpec, decrypt_column, reencrypt_column

COLUMNS = [
    ColumnSpec("deliveries_handover", "proxy_nik", "nik"),
    ColumnSpec("deliveries_handover", "collected_by_nik", "nik"),
]


def encrypt_rows(apps, schema_editor):
    for spec in COLUMNS:
        reencrypt_column(schema_editor.connection, spec, plaintext_ok=True)


def decrypt_rows(apps, schema_editor):
    for spec in COLUMNS:
        decrypt_column(schema_editor.connection, spec)


class Migration(migrations.Migration):

    dependencies = [
        ('deliveries', '0004_attempt_photo_removed_at'),
    ]

    operations = [
        migrations.AlterField(
            model_name='handover',
            name='collected_by_nik',
            field=registry.encryption.EncryptedCharField(blank=True, max_length=16, normalizer='nik', verbose_name="receiver's NIK"),
        ),
        migrations.AlterField(
            model_name='handover',
            name='proxy_nik',
            field=registry.encryption.EncryptedCharField(blank=True, max_length=16, normalizer='nik', verbose_name="proxy's NIK"),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
