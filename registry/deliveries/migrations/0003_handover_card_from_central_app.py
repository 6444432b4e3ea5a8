"""The card a hand-over is for is now the central app's model (the same table)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('central', '0001_initial'),
        ('deliveries', '0002_order_by_parent_id'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are; only Django's picture of them moves.
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='handover',
                    name='card',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='handover', to='central.card', verbose_name='card'),
                ),
            ],
        ),
    ]
