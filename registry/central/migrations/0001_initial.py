"""The central link's models, made by registry's migrations 0002 and 0003, become the
central app's: the same tables (Meta.db_table), their content types and so their
permissions renamed from registry to central."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MODELS = ["centrallink", "centraloutage", "centraljob", "centraljobattempt", "cardstock",
          "cardstockmovement", "card"]


def content_types_to_central(apps, schema_editor):
    # Permissions point at content types: renaming these keeps every grant (and admin
    # log entry) of the existing rows. A new database has none yet.
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="registry", model__in=MODELS).update(
        app_label="central")


def content_types_to_registry(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="central", model__in=MODELS).update(
        app_label="registry")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('registry', '0005_phone_binding_and_token_revocation'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are; only Django's picture of them moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='CentralJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('data_change', 'Data change'), ('card_print', 'Card print')], max_length=16, verbose_name='kind')),
                        ('key', models.UUIDField(editable=False, unique=True, verbose_name='job id')),
                        ('status', models.CharField(choices=[('blocked', 'Waiting for the previous step'), ('pending', 'Waiting to be sent'), ('sending', 'Being sent'), ('waiting_stock', 'Waiting for blank cards'), ('done', 'Done'), ('rejected', 'Rejected by the central server')], default='pending', max_length=16, verbose_name='status')),
                        ('payload', models.JSONField(blank=True, default=dict, verbose_name='payload')),
                        ('attempts', models.PositiveIntegerField(default=0, verbose_name='attempts')),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt')),
                        ('lease_until', models.DateTimeField(blank=True, null=True, verbose_name='sending until')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                        ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='done')),
                        ('central_ref', models.CharField(blank=True, max_length=120, verbose_name='central reference')),
                        ('last_error', models.CharField(blank=True, max_length=300, verbose_name='last error')),
                        ('after', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='followers', to='central.centraljob', verbose_name='after')),
                        ('application', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='central_jobs', to='registry.application', verbose_name='application')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.office', verbose_name='office')),
                    ],
                    options={
                        'verbose_name': 'central job',
                        'verbose_name_plural': 'central jobs',
                        'db_table': 'registry_centraljob',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='CardStockMovement',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                        ('change', models.IntegerField(verbose_name='change')),
                        ('balance', models.IntegerField(verbose_name='balance after')),
                        ('reason', models.CharField(choices=[('received', 'Blank cards received'), ('printed', 'Used for a print'), ('print_failed', 'Returned after a failed print'), ('correction', 'Count corrected')], max_length=16, verbose_name='reason')),
                        ('note', models.CharField(blank=True, max_length=300, verbose_name='note')),
                        ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by staff')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.office', verbose_name='office')),
                        ('job', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='central.centraljob', verbose_name='job')),
                    ],
                    options={
                        'verbose_name': 'card stock movement',
                        'verbose_name_plural': 'card stock movements',
                        'db_table': 'registry_cardstockmovement',
                        'ordering': ['-at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='CentralLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('last_checked_at', models.DateTimeField(blank=True, null=True, verbose_name='last checked')),
                        ('last_ok_at', models.DateTimeField(blank=True, null=True, verbose_name='last answered')),
                        ('failing_since', models.DateTimeField(blank=True, null=True, verbose_name='failing since')),
                        ('consecutive_failures', models.PositiveIntegerField(default=0, verbose_name='failures in a row')),
                        ('last_error', models.CharField(blank=True, max_length=300, verbose_name='last error')),
                        ('office', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='central_link', to='registry.office', verbose_name='office')),
                    ],
                    options={
                        'verbose_name': 'central link',
                        'verbose_name_plural': 'central links',
                        'db_table': 'registry_centrallink',
                    },
                ),
                migrations.CreateModel(
                    name='CentralOutage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('started_at', models.DateTimeField(verbose_name='started')),
                        ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='ended')),
                        ('detection', models.CharField(choices=[('health_check', 'Health check'), ('send_failure', 'Failed transmission'), ('staff', 'Declared by staff')], max_length=16, verbose_name='detected by')),
                        ('cause', models.CharField(blank=True, max_length=300, verbose_name='cause')),
                        ('message', models.TextField(blank=True, verbose_name='message to residents')),
                        ('expected_back', models.DateTimeField(blank=True, null=True, verbose_name='expected back')),
                        ('end_detection', models.CharField(blank=True, choices=[('health_check', 'Health check'), ('send_failure', 'Failed transmission'), ('staff', 'Declared by staff')], max_length=16, verbose_name='end detected by')),
                        ('residents_told', models.PositiveIntegerField(default=0, verbose_name='residents told')),
                        ('declared_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='declared by')),
                        ('ended_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='ended by')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='central_outages', to='registry.office', verbose_name='office')),
                    ],
                    options={
                        'verbose_name': 'central-link outage',
                        'verbose_name_plural': 'central-link outages',
                        'db_table': 'registry_centraloutage',
                        'ordering': ['-started_at', '-id'],
                    },
                ),
                migrations.AddField(
                    model_name='centraljob',
                    name='noted_outage',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='central.centraloutage'),
                ),
                migrations.CreateModel(
                    name='CardStock',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('on_hand', models.IntegerField(default=0, verbose_name='blank cards in stock')),
                        ('alert_below', models.PositiveIntegerField(default=50, help_text='Supervisors are alerted when the stock falls below this number.', verbose_name='alert below')),
                        ('low_alert_sent_at', models.DateTimeField(blank=True, null=True, verbose_name='low-stock alert sent')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('office', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='card_stock', to='registry.office', verbose_name='office')),
                    ],
                    options={
                        'verbose_name': 'blank card stock',
                        'verbose_name_plural': 'blank card stock',
                        'db_table': 'registry_cardstock',
                        'constraints': [models.CheckConstraint(condition=models.Q(('on_hand__gte', 0)), name='card_stock_not_negative')],
                    },
                ),
                migrations.CreateModel(
                    name='Card',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('receipt_code', models.CharField(max_length=9, verbose_name='receipt code')),
                        ('printed_at', models.DateTimeField(blank=True, null=True, verbose_name='printed')),
                        ('application', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='card', to='registry.application', verbose_name='application')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.office', verbose_name='office')),
                        ('print_job', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='card', to='central.centraljob', verbose_name='print job')),
                    ],
                    options={
                        'verbose_name': 'card',
                        'verbose_name_plural': 'cards',
                        'db_table': 'registry_card',
                        'ordering': ['-id'],
                        'constraints': [models.UniqueConstraint(fields=('office', 'receipt_code'), name='card_receipt_code_per_office')],
                    },
                ),
                migrations.CreateModel(
                    name='CentralJobAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField(verbose_name='attempt')),
                        ('started_at', models.DateTimeField(verbose_name='started')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                        ('outcome', models.CharField(blank=True, choices=[('accepted', 'Accepted'), ('link_down', 'Link down'), ('rejected', 'Rejected'), ('abandoned', 'No answer recorded (the sender stopped)')], max_length=16, verbose_name='outcome')),
                        ('error', models.CharField(blank=True, max_length=300, verbose_name='error')),
                        ('central_ref', models.CharField(blank=True, max_length=120, verbose_name='central reference')),
                        ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sends', to='central.centraljob', verbose_name='job')),
                        ('office', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.office', verbose_name='office')),
                    ],
                    options={
                        'verbose_name': 'central job attempt',
                        'verbose_name_plural': 'central job attempts',
                        'db_table': 'registry_centraljobattempt',
                        'ordering': ['job_id', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('job', 'number'), name='central_attempt_number')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='centraloutage',
                    constraint=models.UniqueConstraint(condition=models.Q(('ended_at__isnull', True)), fields=('office',), name='central_outage_one_open_per_office'),
                ),
                migrations.AddConstraint(
                    model_name='centraloutage',
                    constraint=models.CheckConstraint(condition=models.Q(('ended_at__isnull', True), ('ended_at__gte', models.F('started_at')), _connector='OR'), name='central_outage_ends_after_start'),
                ),
                migrations.AddIndex(
                    model_name='centraljob',
                    index=models.Index(fields=['status', 'next_attempt_at'], name='central_job_due'),
                ),
                migrations.AddIndex(
                    model_name='centraljob',
                    index=models.Index(fields=['office', 'status'], name='central_job_office_status'),
                ),
                migrations.AddConstraint(
                    model_name='centraljob',
                    constraint=models.UniqueConstraint(fields=('application', 'kind'), name='central_job_once_per_application'),
                ),
            ],
        ),
        migrations.RunPython(content_types_to_central, content_types_to_registry),
    ]
