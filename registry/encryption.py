"""NIKs and phone numbers encrypted at rest (UU PDP 27/2022, issue 17).

A value is stored as `<key id>$<base64url(nonce + AES-256-GCM ciphertext and tag)>`: the
key id says which of the configured keys (settings.FIELD_ENCRYPTION_KEYS, the first is
the current one) decrypts it, so keys rotate without a flag day: new writes use the
current key, old rows stay readable until `manage.py rotate_field_keys` moves them. The
key id is the cipher's associated data, so a row relabelled with another id fails.

Ciphertext cannot be searched, so each searchable column has a keyed hash beside it (a
"blind index": HMAC-SHA256 under a separate lookup key of the normalised value): exact
lookups and uniqueness go through it. `Resident.objects.filter(nik=...)` and the admin's
`=nik` search keep working: the `exact`, `iexact` and `in` lookups of an encrypted field
compare its hash column instead; every other lookup (contains, startswith, ordering by
content) is refused rather than silently matching nothing.

Why not a library: django-fernet-encrypted-fields (and its older cousins) encrypt a
column but have no key id in the stored text and no lookup hash, so neither exact search
nor uniqueness nor a bounded rotation is possible with them; none of the maintained
packages offers key-id rotation together with a blind index.

An empty value is stored empty: "no phone" stays visible to constraints and to SQL
(`COALESCE(phone, '') <> ''`) and reveals nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django import forms
from django.conf import settings
from django.core import validators
from django.core.exceptions import EmptyResultSet, FieldError, ImproperlyConfigured
from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import Col

from registry.errors import DomainError
from registry.validators import normalize_phone

KEY_ID_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")
_TOKEN_RE = re.compile(r"^([A-Za-z0-9]{1,16})\$([A-Za-z0-9_\-]+={0,2})$")
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value that cannot be decrypted: an unknown key id, a wrong key, or a
    value changed in the database. Never swallowed: a row that cannot be read is a fault
    to fix (a key missing from the environment), not an empty field."""


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: dict[str, bytes]
    lookup_key: bytes


def _b64_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} is not valid base64.") from exc
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} must be 32 bytes (base64), not {len(key)}.")
    return key


def parse_keys(field_keys: str, lookup_key: str) -> KeyRing:
    """`"k2:<base64 32 bytes>,k1:<...>"` (the first encrypts) and the lookup key."""
    keys: dict[str, bytes] = {}
    current = ""
    for item in (part.strip() for part in (field_keys or "").split(",")):
        if not item:
            continue
        key_id, sep, value = item.partition(":")
        if not sep or not KEY_ID_RE.match(key_id):
            raise ImproperlyConfigured(
                "EOPEN_FIELD_KEYS: each key is <id>:<base64 32 bytes>, the id letters "
                "and digits (at most 16).")
        if key_id in keys:
            raise ImproperlyConfigured(f"EOPEN_FIELD_KEYS: key id {key_id!r} twice.")
        keys[key_id] = _b64_key(value, f"EOPEN_FIELD_KEYS key {key_id!r}")
        current = current or key_id
    if not keys:
        raise ImproperlyConfigured("EOPEN_FIELD_KEYS is not set.")
    if not lookup_key:
        raise ImproperlyConfigured("EOPEN_LOOKUP_KEY is not set.")
    lookup = _b64_key(lookup_key, "EOPEN_LOOKUP_KEY")
    if lookup in keys.values():
        raise ImproperlyConfigured("EOPEN_LOOKUP_KEY must differ from the encryption keys.")
    return KeyRing(current=current, keys=keys, lookup_key=lookup)


_ring_cache: dict[tuple[str, str], KeyRing] = {}


def key_ring() -> KeyRing:
    """The keys of the settings (parsed once per distinct value: tests override them)."""
    cache_key = (settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_LOOKUP_KEY)
    ring = _ring_cache.get(cache_key)
    if ring is None:
        ring = _ring_cache[cache_key] = parse_keys(*cache_key)
    return ring


def is_ciphertext(value: str) -> bool:
    return bool(value) and _TOKEN_RE.match(value) is not None


def key_id_of(value: str) -> str:
    match = _TOKEN_RE.match(value or "")
    return match.group(1) if match else ""


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    ring = key_ring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current]).encrypt(
        nonce, plaintext.encode(), ring.current.encode())
    return f"{ring.current}${base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    if not token:
        return ""
    match = _TOKEN_RE.match(token)
    if match is None:
        raise DecryptionError("The stored value is not ciphertext (<key id>$<data>).")
    key_id, data = match.groups()
    key = key_ring().keys.get(key_id)
    if key is None:
        raise DecryptionError(f"No key with id {key_id!r} is configured (EOPEN_FIELD_KEYS).")
    try:
        raw = base64.urlsafe_b64decode(data)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                   key_id.encode()).decode()
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise DecryptionError(
            f"The value under key {key_id!r} fails authentication: wrong key or "
            f"changed in the database.") from exc


# --- Normalisation and the lookup hash --------------------------------------------------

def _normalize_nik(value: str) -> str:
    return re.sub(r"\s", "", str(value))


def _normalize_phone(value: str) -> str:
    try:
        return normalize_phone(str(value))
    except DomainError:
        return re.sub(r"[\s\-().]", "", str(value))


def _normalize_address(value: str) -> str:
    value = str(value).strip()
    return value.lower() if "@" in value else _normalize_phone(value)


NORMALIZERS = {"nik": _normalize_nik, "phone": _normalize_phone,
               "address": _normalize_address, "text": lambda value: str(value)}


def lookup_hash(value: str, *, normalizer: str = "text") -> str:
    """HMAC-SHA256 of the normalised value under the lookup key, base64url (43
    characters; hex would show a run of 16 decimal digits in about one hash in fifty,
    which a scan for NIKs could not tell from one); "" for ""."""
    normalized = NORMALIZERS[normalizer](value) if value else ""
    if not normalized:
        return ""
    digest = hmac.new(key_ring().lookup_key, normalized.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# --- Model fields -----------------------------------------------------------------------

class EncryptedCharField(models.TextField):
    """A short text (NIK, phone, address of a message) stored encrypted; the Python value
    is the plaintext. `hash_field` names the LookupHashField that makes it searchable
    (None: not searchable except for emptiness); `normalizer` is how both spell it."""

    description = "Text encrypted at rest (AES-256-GCM, key id)"

    def __init__(self, *args, hash_field: str | None = None, normalizer: str = "text",
                 **kwargs):
        self.hash_field = hash_field
        self.normalizer = normalizer
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        path = "registry.encryption.EncryptedCharField"
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        if self.normalizer != "text":
            kwargs["normalizer"] = self.normalizer
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def to_python(self, value):
        return "" if value is None and not self.null else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def hash_of(self, value) -> str:
        return lookup_hash(value, normalizer=self.normalizer)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": forms.CharField,
                                    "max_length": self.max_length, **kwargs,
                                    "widget": kwargs.get("widget", forms.TextInput)})

    def get_lookup(self, lookup_name):
        if lookup_name not in ("exact", "iexact", "in", "isnull"):
            return None  # "Unsupported lookup": ciphertext has no order and no parts
        return super().get_lookup(lookup_name)

    def get_transform(self, name):
        return None


class _DerivedField(models.CharField):
    """A column computed from an encrypted field of the same row on every save (and
    bulk_create): pre_save reads the plaintext attribute. save(update_fields=...) and
    QuerySet.update()/bulk_update() keep it in step through EncryptedQuerySet and
    EncryptedModelMixin."""

    def __init__(self, *args, source: str = "", **kwargs):
        self.source = source
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key in ("editable", "blank", "default"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def derive(self, model, value) -> str:
        raise NotImplementedError

    def pre_save(self, model_instance, add):
        value = self.derive(type(model_instance), getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


class LookupHashField(_DerivedField):
    """The keyed hash of `source` (an EncryptedCharField)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "registry.encryption.LookupHashField", args, kwargs

    def derive(self, model, value) -> str:
        return model._meta.get_field(self.source).hash_of(value or "")


class Last4Field(_DerivedField):
    """The last four characters of `source`, for a partial search by the last 4 digits
    of a NIK (which a printed KTP-el shows anyway)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 4)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "registry.encryption.Last4Field", args, kwargs

    def derive(self, model, value) -> str:
        return str(value or "")[-4:]


# --- Lookups ----------------------------------------------------------------------------

class _HashedLookup(Lookup):
    prepare_rhs = False

    def _hash_column(self, compiler):
        field = self.lhs.output_field
        if not field.hash_field:
            raise FieldError(f"{field.model.__name__}.{field.name} is encrypted and has no "
                             f"lookup hash: it can be compared only with ''.")
        if not isinstance(self.lhs, Col) or hasattr(self.rhs, "resolve_expression"):
            raise FieldError(f"{field.name}: an encrypted field is compared with plain "
                             f"values only.")
        return compiler.compile(Col(self.lhs.alias, field.model._meta.get_field(
            field.hash_field)))


@EncryptedCharField.register_lookup
class HashedExact(_HashedLookup):
    lookup_name = "exact"

    def as_sql(self, compiler, connection):
        value = "" if self.rhs is None else str(self.rhs)
        if not value:
            # Emptiness is stored as is: also for constraints and Q.check().
            sql, params = self.process_lhs(compiler, connection)
            return f"{sql} = %s", (*params, "")
        sql, params = self._hash_column(compiler)
        return f"{sql} = %s", (*params, self.lhs.output_field.hash_of(value))


@EncryptedCharField.register_lookup
class HashedIExact(HashedExact):
    # The admin's "=field" search: normalisation already folds what case could differ.
    lookup_name = "iexact"


@EncryptedCharField.register_lookup
class HashedIn(_HashedLookup):
    lookup_name = "in"

    def as_sql(self, compiler, connection):
        if hasattr(self.rhs, "resolve_expression"):
            raise FieldError("An encrypted field is compared with plain values only.")
        field = self.lhs.output_field
        hashes = sorted({field.hash_of(value) for value in self.rhs if value})
        if not hashes:
            raise EmptyResultSet
        sql, params = self._hash_column(compiler)
        return f"{sql} IN ({', '.join(['%s'] * len(hashes))})", (*params, *hashes)


# --- Keeping the derived columns in step -------------------------------------------------

def derived_fields(model) -> list[_DerivedField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, _DerivedField)]


def with_derived(model, field_names) -> list[str]:
    """`field_names` plus the derived columns of any encrypted field among them."""
    names = list(field_names)
    for field in derived_fields(model):
        if field.source in names and field.name not in names:
            names.append(field.name)
    return names


def sync_derived(instance) -> None:
    for field in derived_fields(type(instance)):
        field.pre_save(instance, add=False)


class EncryptedQuerySet(models.QuerySet):
    """update() and bulk_update() write the hash and last-4 columns with the value."""

    def update(self, **kwargs):
        for field in derived_fields(self.model):
            if field.source in kwargs and field.name not in kwargs:
                value = kwargs[field.source]
                if hasattr(value, "resolve_expression"):
                    raise FieldError(f"{field.source} is encrypted: update it with a value.")
                kwargs[field.name] = field.derive(self.model, value)
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        for obj in objs:
            sync_derived(obj)
        return super().bulk_update(objs, with_derived(self.model, fields),
                                   batch_size=batch_size)


class EncryptedModelMixin:
    """save(update_fields=["phone"]) writes phone_hash too."""

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:
            update_fields = with_derived(type(self), update_fields)
        return super().save(*args, update_fields=update_fields, **kwargs)


# --- Converting and rotating stored values (migrations, rotate_field_keys) ------------

@dataclass(frozen=True)
class ColumnSpec:
    table: str
    column: str
    normalizer: str = "text"
    hash_column: str | None = None
    last4_column: str | None = None
    pk: str = "id"


def reencrypt_column(connection, spec: ColumnSpec, *, batch_size: int = 500,
                     plaintext_ok: bool = False, after_pk=None,
                     max_batches: int | None = None) -> int:
    """Encrypt under the current key every non-empty value of the column not under it
    yet (plaintext too when `plaintext_ok`: the data migration), writing the derived
    columns with it, in batches of `batch_size` rows by primary key (from after
    `after_pk`). Each row is updated only if its value has not changed meanwhile.
    Returns the rows changed. An empty column needs no key (migrating a new database
    before its keys are set)."""
    qn = connection.ops.quote_name
    table, column, pk = qn(spec.table), qn(spec.column), qn(spec.pk)
    try:
        ring = key_ring()
    except ImproperlyConfigured:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE {column} <> '' LIMIT 1")  # noqa: S608
            if cursor.fetchone() is None:
                return 0
        raise
    current_prefix = f"{ring.current}$%"
    changed, last, batches = 0, after_pk, 0
    while True:
        batches += 1
        where = f"{column} <> '' AND {column} NOT LIKE %s"
        params: list = [current_prefix]
        if last is not None:
            where += f" AND {pk} > %s"
            params.append(last)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {where} "  # noqa: S608
                           f"ORDER BY {pk} LIMIT {int(batch_size)}", params)
            rows = cursor.fetchall()
            sets = [f"{column} = %s"]
            if spec.hash_column:
                sets.append(f"{qn(spec.hash_column)} = %s")
            if spec.last4_column:
                sets.append(f"{qn(spec.last4_column)} = %s")
            updates = []
            for row_pk, stored in rows:
                if is_ciphertext(stored):
                    plain = decrypt(stored)
                elif plaintext_ok:
                    plain = stored
                else:
                    raise DecryptionError(
                        f"{spec.table}.{spec.column} id {row_pk} holds plaintext.")
                values = [encrypt(plain)]
                if spec.hash_column:
                    values.append(lookup_hash(plain, normalizer=spec.normalizer))
                if spec.last4_column:
                    values.append(plain[-4:])
                updates.append([*values, row_pk, stored])
            if updates:
                # One statement per batch, each row only if unchanged meanwhile.
                cursor.executemany(f"UPDATE {table} SET {', '.join(sets)} "  # noqa: S608
                                   f"WHERE {pk} = %s AND {column} = %s", updates)
                changed += max(cursor.rowcount, 0)
        if len(rows) < batch_size or batches == max_batches:
            return changed
        last = rows[-1][0]


def decrypt_column(connection, spec: ColumnSpec, *, batch_size: int = 500) -> int:
    """The reverse of the data migration: every ciphertext of the column back to text."""
    qn = connection.ops.quote_name
    table, column, pk = qn(spec.table), qn(spec.column), qn(spec.pk)
    changed, last = 0, None
    while True:
        where = f"{column} LIKE %s"
        params: list = ["%$%"]
        if last is not None:
            where += f" AND {pk} > %s"
            params.append(last)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {where} "  # noqa: S608
                           f"ORDER BY {pk} LIMIT {int(batch_size)}", params)
            rows = cursor.fetchall()
            for row_pk, stored in rows:
                if is_ciphertext(stored):
                    cursor.execute(f"UPDATE {table} SET {column} = %s "  # noqa: S608
                                   f"WHERE {pk} = %s", [decrypt(stored), row_pk])
                    changed += 1
        if len(rows) < batch_size:
            return changed
        last = rows[-1][0]


def column_specs(models_list) -> list[ColumnSpec]:
    """One ColumnSpec per encrypted field of the given models."""
    specs = []
    for model in models_list:
        derived = derived_fields(model)
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedCharField):
                continue
            hash_col = next((d.column for d in derived
                             if isinstance(d, LookupHashField) and d.source == field.name), None)
            last4 = next((d.column for d in derived
                          if isinstance(d, Last4Field) and d.source == field.name), None)
            specs.append(ColumnSpec(table=model._meta.db_table, column=field.column,
                                    normalizer=field.normalizer, hash_column=hash_col,
                                    last4_column=last4, pk=model._meta.pk.column))
    return specs


def encrypt_columns(*specs: ColumnSpec):
    """The data migration of `specs`: existing rows encrypted (plaintext included), and
    back to text when the migration is reversed."""
    from django.db import migrations

    def forwards(apps, schema_editor):
        for spec in specs:
            reencrypt_column(schema_editor.connection, spec, plaintext_ok=True)

    def backwards(apps, schema_editor):
        for spec in specs:
            decrypt_column(schema_editor.connection, spec)

    return migrations.RunPython(forwards, backwards)
