"""The complainant's account or contact (a phone number for SMS and WhatsApp) encrypted at
rest (issue 17)."""

import registry.encryption
from django.db import migrations
from registry.encryption import ColumnSpec, encrypt_columns

COLUMN = ColumnSpec("complaints_complaint", "handle")


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
        encrypt_columns(COLUMN),
    ]
