"""NIKs and phones encrypted at rest (issue 17): the hash and last-4 columns, the columns
widened to hold ciphertext, then every existing row converted in batches (plaintext ->
ciphertext + hashes), and only then the NIK's uniqueness moved to its hash."""

import registry.encryption
from django.db import migrations
from registry.encryption import ColumnSpec, encrypt_columns

COLUMNS = [
    ColumnSpec("registry_resident", "nik", "nik", "nik_hash", "nik_last4"),
    ColumnSpec("registry_resident", "phone", "phone", "phone_hash"),
    ColumnSpec("registry_otpchallenge", "nik", "nik", "nik_hash"),
    ColumnSpec("registry_otpchallenge", "phone", "phone", "phone_hash"),
    ColumnSpec("registry_notificationdelivery", "address", "address"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0011_retention_run'),
    ]

    operations = [
        migrations.AddField(
            model_name='otpchallenge',
            name='nik_hash',
            field=registry.encryption.LookupHashField(db_index=True, max_length=64, source='nik'),
        ),
        migrations.AddField(
            model_name='otpchallenge',
            name='phone_hash',
            field=registry.encryption.LookupHashField(db_index=True, max_length=64, source='phone'),
        ),
        migrations.AddField(
            model_name='resident',
            name='nik_hash',
            field=registry.encryption.LookupHashField(max_length=64, source='nik'),
        ),
        migrations.AddField(
            model_name='resident',
            name='nik_last4',
            field=registry.encryption.Last4Field(db_index=True, max_length=4, source='nik'),
        ),
        migrations.AddField(
            model_name='resident',
            name='phone_hash',
            field=registry.encryption.LookupHashField(db_index=True, max_length=64, source='phone'),
        ),
        migrations.AlterField(
            model_name='notificationdelivery',
            name='address',
            field=registry.encryption.EncryptedCharField(blank=True, max_length=254, normalizer='address', verbose_name='address'),
        ),
        migrations.AlterField(
            model_name='otpchallenge',
            name='nik',
            field=registry.encryption.EncryptedCharField(hash_field='nik_hash', max_length=16, normalizer='nik'),
        ),
        migrations.AlterField(
            model_name='otpchallenge',
            name='phone',
            field=registry.encryption.EncryptedCharField(hash_field='phone_hash', max_length=20, normalizer='phone'),
        ),
        migrations.AlterField(
            model_name='resident',
            name='nik',
            field=registry.encryption.EncryptedCharField(hash_field='nik_hash', max_length=16, normalizer='nik', verbose_name='NIK'),
        ),
        migrations.AlterField(
            model_name='resident',
            name='phone',
            field=registry.encryption.EncryptedCharField(blank=True, hash_field='phone_hash', max_length=20, normalizer='phone', verbose_name='phone'),
        ),
        encrypt_columns(*COLUMNS),
        migrations.AlterField(
            model_name='resident',
            name='nik_hash',
            field=registry.encryption.LookupHashField(max_length=64, source='nik', unique=True),
        ),
    ]
