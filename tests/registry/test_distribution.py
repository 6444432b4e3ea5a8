"""Every tenant-owned row carries its office, so the tables can be partitioned by office
and distributed by it (Citus, README "Scaling") without a change of schema.

A new model either has a non-null `office` foreign key or is named below, with why it
is shared by every office (a reference table under Citus) or why its office may be
empty. The test fails for a model that is neither, so the choice is made when the
model is added, not when the deployment outgrows one database server.
"""

from django.apps import apps

OUR_APPS = {"registry", "appointments", "central", "deliveries", "queues", "complaints"}

# Shared by every office: small, read everywhere; Citus reference tables.
SHARED = {
    "registry.Office": "the offices themselves",
    "registry.Resident": "a resident (NIK) is national; their rows in an office carry it",
    "registry.OtpChallenge": "sign-in codes, before any office is known",
    "registry.StaffTokenState": "a staff account's token state, across its offices",
    "registry.IdempotencyRecord": "API retries, keyed by the client's key",
    "registry.AccessLogResident": "the residents of an access-log row (its own office)",
    "registry.RetentionRun": "one national retention sweep per night",
}
# Rows that belong to an office when there is one: a provincial view, a change to a
# staff account, a breach across offices, an SMS from an unknown number.
OFFICE_WHEN_KNOWN = {
    "registry.AccessLog", "registry.AuditEntry", "registry.BreachIncident",
    "appointments.SmsInbound",
}


def _our_models():
    return [model for model in apps.get_models() if model._meta.app_label in OUR_APPS]


def test_every_tenant_owned_model_carries_a_non_null_office():
    missing, nullable = [], []
    for model in _our_models():
        label = model._meta.label
        if label in SHARED:
            continue
        fields = {field.name: field for field in model._meta.concrete_fields}
        office = fields.get("office")
        if office is None or office.related_model._meta.label != "registry.Office":
            missing.append(label)
        elif office.null and label not in OFFICE_WHEN_KNOWN:
            nullable.append(label)
    assert missing == [], "give these an office foreign key, or name them in SHARED"
    assert nullable == [], "make office required, or name these in OFFICE_WHEN_KNOWN"


def test_the_exceptions_name_only_models_that_exist_and_need_it():
    labels = {model._meta.label: model for model in _our_models()}
    assert set(SHARED) <= set(labels)
    assert set(labels) >= OFFICE_WHEN_KNOWN
    for label in SHARED:
        assert "office" not in {f.name for f in labels[label]._meta.concrete_fields}, label
    for label in OFFICE_WHEN_KNOWN:
        assert labels[label]._meta.get_field("office").null, label
