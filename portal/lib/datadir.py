"""The data folder (``PORTAL_DATA_DIR``): private to the account that runs the portal.

It holds the SQLite database, the broker, the cache, report exports, generated secrets
and the emulator's data. Nothing in it is for another account on the machine.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077  # new files 0600, new folders 0700


def make_private_data_dir(path: Path) -> None:
    """Create ``path`` as 0700 (or tighten it), and make new files in this process private.

    The umask is process-wide on purpose: SQLite, Celery's broker and beat, the file
    cache, XlsxWriter and the emulator (started by ``run_portal``, which inherits it) each
    create their own files, and the umask is the one setting all of them obey. Files a
    previous version left readable at the top of the folder are tightened too.
    """
    os.umask(PRIVATE_UMASK)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid != os.getuid():
        return  # not ours (a shared mount): leave its modes to its owner
    path.chmod(0o700)
    for entry in path.iterdir():
        if entry.is_symlink():
            continue
        mode = stat.S_IMODE(entry.stat().st_mode)
        if mode & 0o077:
            entry.chmod(mode & 0o700)
