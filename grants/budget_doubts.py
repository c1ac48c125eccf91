"""Why the mirror's figures for a lodge cannot be trusted right now.

A decision asks ``budget_doubts(lodge_id)`` under the lodge's lock; any reason sends the
application to a person instead of approving or rejecting on a figure nobody can be
sure of. The reasons come from the quarantine (Ninox values that could not be read,
``grants/quarantine.py``) and the drift check (the mirror's total disagrees with
Ninox's own arithmetic, ``grants/drift.py``).
"""

from __future__ import annotations

from grants.drift import drift_doubts, open_drift
from grants.quarantine import quarantine_doubts, quarantine_touching


def budget_doubts(lodge_id: int | None) -> list[str]:
    """Reasons, each a sentence a reviewer can act on; empty when the figures can be trusted.

    One query when there is nothing to doubt (the usual case): are there any rows at all?
    """
    if lodge_id is not None:
        rows = quarantine_touching(lodge_id).values("pk").order_by()
        rows = rows.union(open_drift(lodge_id).values("pk").order_by(), all=True)
        if not rows[:1]:
            return []
    return [*quarantine_doubts(lodge_id), *drift_doubts(lodge_id)]
