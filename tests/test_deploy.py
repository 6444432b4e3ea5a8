"""Production settings pass Django's deployment checks, and ours (registry.checks)."""

import os
import subprocess
import sys

from django.conf import settings

GATEWAYS = {
    "NOTIFY_WHATSAPP_BACKEND": "registry.notify.backends.WhatsAppCloudBackend",
    "NOTIFY_SMS_BACKEND": "registry.notify.backends.SmsGatewayBackend",
    "NOTIFY_EMAIL_BACKEND": "registry.notify.backends.EmailBackend",
    "SMS_GATEWAY_INBOUND_SECRET": "9f1c2e7a4b8d3f6a0c5e1b7d9a2f4c6e",
    # The keys of NIKs and phones at rest (registry.encryption): base64 of 32 bytes.
    "EOPEN_FIELD_KEYS": "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "EOPEN_LOOKUP_KEY": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
}


def check_deploy(tmp_path, **environment):
    """`manage.py check --deploy` under README's production settings plus `environment`."""
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("PYTEST_VERSION", "DJANGO_DEBUG", *GATEWAYS)
    }
    env.update({
        "SECRET_KEY": "x7#kq2!vLr9pW0zT4mN8bY6cJ1hF3dS5gA-uE_oI+eR*tQ@wZ&yX$nM",
        "ALLOWED_HOSTS": "eopen.bekasikota.go.id",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path}/prod.sqlite3"),
        "EOPEN_VAR_DIR": str(tmp_path / "var"),
        **environment,
    })
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    result = check_deploy(tmp_path, **GATEWAYS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_of_channels_left_on_the_log_backend(tmp_path):
    result = check_deploy(tmp_path, **{**GATEWAYS,
                                       "NOTIFY_SMS_BACKEND": "registry.notify.backends.LogBackend"})
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count("registry.W001") == 1
    assert ("(registry.W001) The 'sms' notification channel uses "
            "registry.notify.backends.LogBackend") in output
    # Unset, every channel but push is on the log backend: one warning each.
    unset = check_deploy(tmp_path)
    assert unset.returncode == 1
    warned = sorted(line.split("'")[1] for line in (unset.stdout + unset.stderr).splitlines()
                    if "(registry.W001)" in line)
    assert warned == ["email", "sms", "whatsapp"]


def test_check_deploy_fails_without_the_field_encryption_keys(tmp_path):
    environment = {k: v for k, v in GATEWAYS.items() if not k.startswith("EOPEN_")}
    result = check_deploy(tmp_path, **environment)
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count("registry.E002") == 1
    assert "EOPEN_FIELD_KEYS is not set." in output
