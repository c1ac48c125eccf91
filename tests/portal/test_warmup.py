"""A web worker does at start what its first requests would otherwise all do at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from portal.warmup import warm_up

ROOT = Path(__file__).resolve().parents[2]

SHOW = (
    "import portal.wsgi, sys; "
    "from django.core.validators import EmailValidator; "
    "from django.utils.functional import empty; "
    "from portal.celery import app; "
    "print(EmailValidator.domain_regex._wrapped is not empty, app.finalized, "
    "'grants.views.api' in sys.modules)"
)


def test_loading_the_wsgi_module_compiles_the_email_patterns_and_finalizes_celery(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]


def test_a_failing_warm_up_is_logged_and_the_worker_starts(monkeypatch: Any, caplog: Any) -> None:
    def broken() -> None:
        raise RuntimeError("no URLconf")

    monkeypatch.setattr("django.urls.get_resolver", broken)
    warm_up()
    assert "Warming up the web worker failed" in caplog.text
