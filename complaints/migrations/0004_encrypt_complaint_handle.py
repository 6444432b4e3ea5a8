"""The complainant's account or contact (a phone number for SMS and WhatsApp) encrypted at
rest (issue 17)."""

import registry.encryption
from django.db import migrations
from registry.encryption import ColumnSpec, decrypt_column, reencrypt_column

COLUMN = ColumnSpec("complaints_complaint", "handle")


def encrypt_rows(apps, schema_editor):
    reencrypt_column(schema_editor.connection, COLUMN, plaintext_ok=True)


def decrypt_rows(apps, schema_editor):
    decrypt_column(schema_editor.connection, COLUMN)


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0003_ikm_survey'),
    ]

    operations = [
        migrations.AlterField(
            model_name='complaint',
            name='handle',
            field=registry.encryption.EncryptedCharField(blank=True, max_length=200, verbose_name='account or contact'),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
