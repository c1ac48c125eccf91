"""A Ninox REST API (classic v1) emulator: SQLite state, an NX interpreter, faults.

Pure Python (stdlib plus httpx for the in-process transport); it imports neither
Django nor the portal. See :class:`Emulator` and ``python -m ninox_backend.emulator``.
"""

from .core import Emulator
from .faults import Faults

__all__ = ["Emulator", "Faults"]
