"""Start Django for a bench: a throwaway data dir and SQLite file (or DATABASE_URL), migrated."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(prefix: str) -> Path:
    """Configure and migrate a fresh portal database; returns the data dir."""
    data = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ["PORTAL_DATA_DIR"] = str(data)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{data / 'portal.sqlite3'}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
