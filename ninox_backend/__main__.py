"""``python -m ninox_backend``: see :mod:`ninox_backend.cli`."""

import sys

from .cli import main

sys.exit(main())
