"""System checks of this project's own settings (`manage.py check`)."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

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
