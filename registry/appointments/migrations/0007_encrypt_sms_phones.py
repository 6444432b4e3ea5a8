"""The phones of SMS offers and replies encrypted at rest (issue 17)."""

import registry.encryption
from django.db import migrations
from registry.encryption import ColumnSpec, encrypt_columns

COLUMNS = [
    ColumnSpec("appointments_smsoffer", "phone", "phone", "phone_hash"),
    ColumnSpec("appointments_smsinbound", "sender", "phone"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('appointments', '0006_document_file_removed_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='smsoffer',
            name='phone_hash',
            field=registry.encryption.LookupHashField(db_index=True, max_length=64, source='phone'),
        ),
        migrations.AlterField(
            model_name='smsinbound',
            name='sender',
            field=registry.encryption.EncryptedCharField(max_length=32, normalizer='phone', verbose_name='from'),
        ),
        migrations.AlterField(
            model_name='smsoffer',
            name='phone',
            field=registry.encryption.EncryptedCharField(hash_field='phone_hash', max_length=20, normalizer='phone', verbose_name='sent to'),
        ),
        encrypt_columns(*COLUMNS),
    ]
