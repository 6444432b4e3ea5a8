"""Production settings pass Django's deployment checks."""

import os
import subprocess
import sys

from django.conf import settings


def test_check_deploy_reports_nothing_with_production_settings(tmp_path):
    env = {
        key: value for key, value in os.environ.items()
        if key not in ("PYTEST_VERSION", "DJANGO_DEBUG")
    }
    env.update({
        "SECRET_KEY": "x7#kq2!vLr9pW0zT4mN8bY6cJ1hF3dS5gA-uE_oI+eR*tQ@wZ&yX$nM",
        "ALLOWED_HOSTS": "eopen.bekasikota.go.id",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{tmp_path}/prod.sqlite3"),
        "EOPEN_VAR_DIR": str(tmp_path / "var"),
    })
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
