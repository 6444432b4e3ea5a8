"""Records of processing (UU 27/2022 on personal-data protection, art. 31).

Each model holding personal data declares, next to its fields, what it holds and why:

    class Resident(models.Model):
        ...
        personal_data = PersonalData(data=[...], purpose=..., legal_basis=..., ...)

`processing_records()` gathers the declarations of every installed model, and the
admin page "Records of processing" (registry.admin_processing) is drawn from them, so the
record cannot drift from the code. `personal_data_fields()` says mechanically which
fields of a model hold personal data; a test fails when such a model has no declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Legal bases, in the terms of Indonesian law, shared by the declarations.
ADMINDUK = _("Legal obligation and public task (UU 27/2022 art. 20 (2) c and e): "
             "population administration under UU 23/2006 jo. UU 24/2013")
PUBLIC_SERVICE = _("Public task (UU 27/2022 art. 20 (2) e): public service under "
                   "UU 25/2009 on Public Services")
COMPLAINTS = _("Legal obligation (UU 27/2022 art. 20 (2) c): handling complaints under "
               "UU 25/2009 on Public Services and Perpres 76/2013")
SECURITY = _("Legal obligation (UU 27/2022 art. 35 and 39): keeping personal data "
             "secure and accountable")
BREACH_DUTY = _("Legal obligation (UU 27/2022 art. 46): telling the data subjects of a "
                "failure to protect their personal data")
CONSENT = _("Consent (UU 27/2022 art. 20 (2) a): given by the resident when answering")

# What the retention column says when no figure of settings.RETENTION applies.
CIVIL_REGISTRY_RETENTION = _("Kept as the civil-registry law requires")

# Field names that hold a person's data wherever they appear. A model with such a field,
# a file, or a link to a resident holds personal data and must declare it.
PERSONAL_FIELD_NAMES = frozenset({
    "nik", "proxy_nik", "collected_by_nik", "name", "proxy_name", "collected_by_name",
    "recipient_name", "complainant_name", "birth_date", "sex", "phone", "email", "address",
    "latitude", "longitude", "sender", "handle", "registration", "kelurahan", "kecamatan",
})
# Models whose fields of those names describe an office or a catalogue, not a person.
NOT_PERSONAL = frozenset({
    "registry.office", "registry.lane", "registry.service", "registry.requirement",
    "queues.counter", "queues.pausereason",
})
# The apps of this project (Django's and third-party models are not ours to declare).
# A link to a resident or to a resident's case file makes a row about that person.
ABOUT_A_RESIDENT = frozenset({"registry.resident", "registry.application"})
PROJECT_APPS = frozenset({"registry", "appointments", "central", "deliveries", "queues",
                          "complaints"})


@dataclass(frozen=True)
class PersonalData:
    """A model's entry in the records of processing.

    `data`: what personal data it holds (labels); `purpose`: why; `legal_basis`: on what
    ground (UU 27/2022 art. 20); `retention`: a key of settings.RETENTION, or None when
    the civil-registry law decides; `retention_note`: when the period starts, say;
    `roles`: the staff roles (registry.models.Role values) that may see it; `fields`:
    the fields that hold it, when not all those found by `personal_data_fields`.
    """

    data: list
    purpose: Promise | str
    legal_basis: Promise | str
    roles: list
    retention: str | None = None
    retention_note: Promise | str = ""
    fields: tuple[str, ...] = field(default=())

    def retention_days(self) -> int | None:
        if self.retention is None:
            return None
        return settings.RETENTION[self.retention]


def is_project_model(model) -> bool:
    return model._meta.app_label in PROJECT_APPS and not model._meta.proxy


def personal_data_fields(model) -> list[str]:
    """The fields of `model` that hold personal data, found mechanically: a link to a
    resident or a case file, a file, or a field named like a person's data
    (PERSONAL_FIELD_NAMES)."""
    if model._meta.label_lower in NOT_PERSONAL:
        return []
    found = []
    for model_field in model._meta.concrete_fields:
        if ((model_field.is_relation
             and model_field.related_model._meta.label_lower in ABOUT_A_RESIDENT)
                or isinstance(model_field, models.FileField)
                or model_field.name in PERSONAL_FIELD_NAMES):
            found.append(model_field.name)
    return found


@dataclass(frozen=True)
class ProcessingRecord:
    model: type
    declaration: PersonalData
    fields: list[str]

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def title(self) -> str:
        return str(self.model._meta.verbose_name_plural)

    def field_names(self) -> list[str]:
        """The fields holding the data, by their verbose names."""
        names = []
        for name in self.fields:
            names.append(str(self.model._meta.get_field(name).verbose_name))
        return names

    def retention_text(self) -> str:
        days = self.declaration.retention_days()
        if days is None:
            text = str(CIVIL_REGISTRY_RETENTION)
        else:
            text = str(_("%(days)d days") % {"days": days})
        if self.declaration.retention_note:
            text = f"{text} ({self.declaration.retention_note})"
        return text


def processing_records() -> list[ProcessingRecord]:
    """Every installed model's declaration, by app and model name."""
    records = []
    for model in apps.get_models():
        declaration = getattr(model, "personal_data", None)
        if not isinstance(declaration, PersonalData):
            continue
        fields = list(declaration.fields) or personal_data_fields(model)
        records.append(ProcessingRecord(model=model, declaration=declaration, fields=fields))
    return sorted(records, key=lambda record: record.label)


def undeclared_models() -> list[str]:
    """The project's models holding personal data with no declaration."""
    return sorted(model._meta.label_lower for model in apps.get_models()
                  if is_project_model(model) and personal_data_fields(model)
                  and not isinstance(getattr(model, "personal_data", None), PersonalData))
