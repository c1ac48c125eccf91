"""Settings: production passes Django's deploy checks; a bad variable is named at start."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PORTAL_ENV_FILE": "",
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "grants.example.org",
    "PORTAL_BASE_URL": "https://grants.example.org",
    "DATABASE_URL": "postgres://portal:pw@127.0.0.1:5432/portal",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SECRET_KEY", "", "SECRET_KEY is required"),
        ("SECRET_KEY", "short", "SECRET_KEY is malformed"),
        ("DEBUG", "maybe", "DEBUG is malformed: true or false"),
        ("GRANT_ANNUAL_CAP", "four thousand", "GRANT_ANNUAL_CAP is malformed: a dollar amount"),
        ("GRANT_ANNUAL_CAP", "4000.001", "GRANT_ANNUAL_CAP is malformed"),
        (
            "GRANT_FISCAL_YEAR_START",
            "13-01",
            "GRANT_FISCAL_YEAR_START is malformed: a month and day",
        ),
        ("GRANT_FISCAL_YEAR_START", "02-29", "GRANT_FISCAL_YEAR_START is malformed"),
        (
            "GRANT_PAYMENT_LINK_DAYS",
            "0",
            "GRANT_PAYMENT_LINK_DAYS is malformed: a whole number from 1",
        ),
        ("GRANT_DIGEST_HOUR", "25", "GRANT_DIGEST_HOUR is malformed"),
        ("GRANT_MATCH_RATIO", "-1", "GRANT_MATCH_RATIO is malformed"),
        (
            "GRANT_VENDOR_EMAIL",
            "vendor at example",
            "GRANT_VENDOR_EMAIL is malformed: one email address",
        ),
        ("PORTAL_BASE_URL", "grants.example.org", "PORTAL_BASE_URL is malformed: an absolute URL"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL is malformed"),
        ("REDIS_URL", "http://127.0.0.1", "REDIS_URL is malformed"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE is malformed"),
        ("STRIPE_SECRET_KEY", "pk_test_123", "STRIPE_SECRET_KEY is malformed"),
        ("EMAIL_URL", "pigeon://loft", "EMAIL_URL is malformed"),
        (
            "NINOX_EMULATOR_DIALECT",
            "v2",
            "NINOX_EMULATOR_DIALECT is malformed: docs, legacy or workspace",
        ),
        ("NINOX_API", "v2", "NINOX_API is malformed: classic or workspace"),
    ],
)
def test_a_bad_setting_stops_the_start_naming_the_variable(
    name: str, value: str, expected: str, tmp_path: Path
) -> None:
    result = manage(["check"], {**PRODUCTION, name: value}, tmp_path)
    assert result.returncode != 0
    assert expected in result.stderr


def test_the_workspace_api_without_its_workspace_and_module_stops_the_start(
    tmp_path: Path,
) -> None:
    ninox = {
        "NINOX_API": "workspace",
        "NINOX_BASE_URL": "https://ninox.example.org",
        "NINOX_API_KEY": "a-workspace-key",
    }
    result = manage(["check"], {**PRODUCTION, **ninox}, tmp_path)
    assert result.returncode != 0
    assert "NINOX_API=workspace needs NINOX_WORKSPACE_ID and NINOX_MODULE" in result.stderr


def test_a_secret_in_a_malformed_url_is_not_echoed(tmp_path: Path) -> None:
    result = manage(
        ["check"], {**PRODUCTION, "DATABASE_URL": "nosuchdb://u:hunter2canary@h/db"}, tmp_path
    )
    assert result.returncode != 0
    assert "hunter2canary" not in result.stderr + result.stdout


def test_a_test_run_ignores_the_portals_configuration_in_the_shell(tmp_path: Path) -> None:
    """A developer whose shell holds production's variables runs the tests against the
    emulator, the memory mailbox and no Stripe key, not against the real services."""
    shell = {
        "NINOX_API": "workspace",
        "NINOX_BASE_URL": "https://api.ninox.com/v1",
        "NINOX_API_KEY": "real-ninox-key",
        "STRIPE_SECRET_KEY": "sk_live_real",
        "EMAIL_URL": "smtp://mail.example.org:587",
        "GRANT_ANNUAL_CAP": "9000",
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kept.sqlite3'}",
    }
    show = (
        "from django.conf import settings as s; "
        "print(s.NINOX_API, s.NINOX_API_KEY or '-', s.STRIPE_SECRET_KEY or '-', "
        "s.EMAIL_BACKEND.rsplit('.', 1)[-1], s.GRANT_ANNUAL_CAP, s.DEBUG, "
        "s.DATABASES['default']['NAME'].endswith('kept.sqlite3'))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            **shell,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The last line: Django's shell first says how many objects it imported.
    assert result.stdout.strip().splitlines()[-1].split() == [
        "classic",
        "dev-token",  # the embedded emulator's
        "-",
        "EmailBackend",
        "4000.00",
        "False",
        "True",
    ]
