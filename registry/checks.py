"""System checks of this project's own settings (`manage.py check`)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from registry.encryption import parse_keys
from registry.notify.backends import LogBackend, SimulatedGateway


@checks.register(checks.Tags.security, deploy=True)
def check_notification_backends(app_configs=None, **kwargs):
    """Production sends messages through real gateways: on the log backend (or the
    gateway simulator) a resident gets no sign-in code, no reminder and no card notice.
    Push needs no gateway: it is the app's inbox."""
    warnings = []
    for channel, path in sorted(settings.NOTIFICATION_BACKENDS.items()):
        if channel == "push":
            continue
        try:
            backend = import_string(path)
        except ImportError as exc:
            warnings.append(checks.Error(
                f"The {channel!r} notification backend {path} cannot be imported: {exc}",
                id="registry.E001"))
            continue
        if isinstance(backend, type) and issubclass(backend, LogBackend | SimulatedGateway):
            warnings.append(checks.Warning(
                f"The {channel!r} notification channel uses {path}: messages go to the "
                f"log or a simulator, not to the residents.",
                hint=f"Set NOTIFY_{channel.upper()}_BACKEND to the channel's gateway "
                     f"backend (README, Running in production).",
                id="registry.W001",
            ))
    return warnings


@checks.register(checks.Tags.security, deploy=True)
def check_sms_gateway_secret(app_configs=None, **kwargs):
    """The SMS gateway's webhook (replies to offers of free times) is authenticated by
    its signature alone: without a secret (production has no development default) every
    reply is refused."""
    secret = settings.SMS_GATEWAY_INBOUND_SECRET
    if not secret:
        return [checks.Warning(
            "SMS_GATEWAY_INBOUND_SECRET is not set: replies by SMS (1 or 2 to an offer "
            "of free times) are refused.",
            hint="Set SMS_GATEWAY_INBOUND_SECRET to the secret the SMS gateway signs "
                 "its webhook with (README, Running in production).",
            id="registry.W002")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_field_encryption_keys(app_configs=None, **kwargs):
    """NIKs and phones are encrypted at rest with keys from the environment
    (registry.encryption); production has no development default, and without them
    nothing holding a NIK or a phone can be read or written."""
    try:
        parse_keys(settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_LOOKUP_KEY)
    except ImproperlyConfigured as exc:
        return [checks.Error(
            f"The keys that encrypt NIKs and phone numbers are missing or wrong: {exc}",
            hint="Set EOPEN_FIELD_KEYS (\"k1:<base64 of 32 random bytes>\", the current "
                 "key first) and EOPEN_LOOKUP_KEY (base64 of 32 other random bytes); "
                 "README, Running in production.",
            id="registry.E002")]
    return []
