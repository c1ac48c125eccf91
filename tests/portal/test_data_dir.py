"""The data folder is private (issue 16, finding 5): 0700, and every file in it 0600.

Run as the portal starts in production, in a fresh process whose umask is the usual
022, so the test sees what a real start leaves on disk.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WRITE_AN_EXPORT = (
    "from grants.reports.export_jobs import exports_dir; "
    "(exports_dir() / 'ledger.csv').write_text('reference\\n')"
)


def manage_with_umask_022(args: list[str], data: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(data.parent),
        "PORTAL_ENV_FILE": "",
        "PORTAL_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "true",
        "EMAIL_URL": "consolemail://",
    }
    command = ["sh", "-c", 'umask 022; exec "$0" manage.py "$@"', sys.executable, *args]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr + result.stdout


def modes(data: Path) -> dict[str, int]:
    return {
        str(path.relative_to(data)): stat.S_IMODE(path.stat().st_mode)
        for path in [data, *data.rglob("*")]
        if not path.is_symlink()
    }


def test_the_data_folder_its_database_and_exports_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    manage_with_umask_022(["migrate", "--no-input", "-v", "0"], data)
    manage_with_umask_022(["shell", "-c", WRITE_AN_EXPORT], data)
    found = modes(data)
    assert found["."] == 0o700
    assert found["portal.sqlite3"] == 0o600
    assert found["exports"] == 0o700
    assert found["exports/ledger.csv"] == 0o600
    assert found["dev-secret-key"] == 0o600
    readable_by_others = {name: oct(mode) for name, mode in found.items() if mode & 0o077}
    assert readable_by_others == {}


def test_a_folder_left_readable_by_an_older_version_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    old_db = data / "portal.sqlite3"
    old_db.write_bytes(b"")
    old_db.chmod(0o644)
    manage_with_umask_022(["check"], data)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(old_db.stat().st_mode) == 0o600
