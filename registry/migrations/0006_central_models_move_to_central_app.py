"""The central link's models now belong to the central app (its migration 0001 takes
them over, tables unchanged): they leave the registry core's state."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('deliveries', '0003_handover_card_from_central_app'),
        ('registry', '0005_phone_binding_and_token_revocation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are; only Django's picture of them moves.
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='cardstock',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='cardstockmovement',
                    name='by',
                ),
                migrations.RemoveField(
                    model_name='cardstockmovement',
                    name='job',
                ),
                migrations.RemoveField(
                    model_name='cardstockmovement',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='centraljob',
                    name='after',
                ),
                migrations.RemoveField(
                    model_name='centraljob',
                    name='application',
                ),
                migrations.RemoveField(
                    model_name='centraljob',
                    name='noted_outage',
                ),
                migrations.RemoveField(
                    model_name='centraljob',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='centraljobattempt',
                    name='job',
                ),
                migrations.RemoveField(
                    model_name='centraljobattempt',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='centrallink',
                    name='office',
                ),
                migrations.RemoveField(
                    model_name='centraloutage',
                    name='declared_by',
                ),
                migrations.RemoveField(
                    model_name='centraloutage',
                    name='ended_by',
                ),
                migrations.RemoveField(
                    model_name='centraloutage',
                    name='office',
                ),
                migrations.DeleteModel(
                    name='Card',
                ),
                migrations.DeleteModel(
                    name='CardStock',
                ),
                migrations.DeleteModel(
                    name='CardStockMovement',
                ),
                migrations.DeleteModel(
                    name='CentralJob',
                ),
                migrations.DeleteModel(
                    name='CentralJobAttempt',
                ),
                migrations.DeleteModel(
                    name='CentralLink',
                ),
                migrations.DeleteModel(
                    name='CentralOutage',
                ),
            ],
        ),
    ]
