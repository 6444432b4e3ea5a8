"""The NIKs of a hand-over's proxy and receiver encrypted at rest (issue 17)."""

import registry.encryption
from django.db import migrations
from registry.encryption import ColumnSpec, encrypt_columns

COLUMNS = [
    ColumnSpec("deliveries_handover", "proxy_nik", "nik"),
    ColumnSpec("deliveries_handover", "collected_by_nik", "nik"),
]


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
        encrypt_columns(*COLUMNS),
    ]
