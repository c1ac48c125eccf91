"""What one Ninox account has been shown to do: the capability profile.

Ninox's documents leave much unsaid (the change feed's reply, what a lookup
does with a key it does not know, the largest ``perPage``). ``manage.py
ninox_doctor`` settles each of these against the real account and stores its
findings as a :class:`CapabilityProfile`; the client, the sync engine and the
write-back then use only what the profile shows to work. With no stored
profile they use :data:`CONSERVATIVE`: no change feed, ``records?sinceSq=``,
and a write-back that confirms its row with an NX query and reads it back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONSERVATIVE",
    "DOCUMENTED_PAGE_SIZE",
    "LOOKUP_FORMS",
    "CapabilityProfile",
    "Finding",
]

#: the page size Ninox's documents show as ``perPage``'s default
DOCUMENTED_PAGE_SIZE = 100

#: Lookup forms the doctor can try. Every one keys the filters by field **id**.
#: ``post-filters``: ``POST …/record {"filters": {"C": v}}`` (seed 004);
#: ``post-flat``: ``POST …/record {"C": v}`` (seed 002);
#: ``get-records-filters``: ``GET …/records?filters={"C": v}`` (seed 004's GET form).
LOOKUP_FORMS = ("post-filters", "post-flat", "get-records-filters")


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: what was checked, whether it held, what follows."""

    check: str
    ok: bool
    detail: str = ""
    action: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            check=str(data.get("check", "")),
            ok=bool(data.get("ok", False)),
            detail=str(data.get("detail", "")),
            action=str(data.get("action", "")),
        )


@dataclass(frozen=True)
class CapabilityProfile:
    """What the portal may rely on for one account. The defaults are the conservative ones."""

    #: "classic" (``/v1`` teams/databases/tables, as in the documents), "workspace", or "unknown"
    api: str = "classic"
    #: use ``…/changes?sinceSq=`` only when the doctor has seen every kind of change in it
    change_feed: bool = False
    #: a lookup form (one of :data:`LOOKUP_FORMS`) shown to return the right record, else None:
    #: then existence is decided by an NX ``query`` and every returned id is read back and verified
    lookup_form: str | None = None
    #: whether ``POST …/query`` answers (the drift check and the query-verified write-back need it)
    query: bool = True
    #: records per page to ask for; paging never stops on it, only on an empty or short page
    per_page: int = DOCUMENTED_PAGE_SIZE
    #: whether two calls in flight at once were refused (the limiter stays at one either way)
    parallel_refused: bool | None = None
    #: workspace API: whether an equality ``filter`` on a reference (a grant's lodge) returned
    #: the record that has it (None: not checked). False: a decision's read of a lodge's
    #: grants cannot be trusted, so it is refused and the decision goes to a person
    reference_filter: bool | None = None
    #: when the doctor ran, and against which base URL (never the key)
    checked_at: dt.datetime | None = None
    base_url: str = ""
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def stored(self) -> bool:
        """True for a profile the doctor made (False for the conservative default)."""
        return self.checked_at is not None

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["checked_at"] = self.checked_at.isoformat() if self.checked_at else None
        data["findings"] = [f.to_json() for f in self.findings]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> CapabilityProfile:
        """Read a stored profile; anything missing or malformed falls back to the conservative value."""
        if not data:
            return CONSERVATIVE
        default = CONSERVATIVE
        checked_at = data.get("checked_at")
        lookup_form = data.get("lookup_form")
        per_page = data.get("per_page")
        parallel = data.get("parallel_refused")
        reference_filter = data.get("reference_filter")
        return cls(
            api=str(data.get("api") or default.api),
            change_feed=data.get("change_feed") is True,
            lookup_form=lookup_form if lookup_form in LOOKUP_FORMS else None,
            query=data.get("query") is not False,
            per_page=per_page
            if isinstance(per_page, int)
            and not isinstance(per_page, bool)
            and 1 <= per_page <= 1000
            else default.per_page,
            parallel_refused=parallel if isinstance(parallel, bool) else None,
            reference_filter=reference_filter if isinstance(reference_filter, bool) else None,
            checked_at=dt.datetime.fromisoformat(checked_at)
            if isinstance(checked_at, str)
            else None,
            base_url=str(data.get("base_url") or ""),
            findings=tuple(
                Finding.from_json(f) for f in data.get("findings") or () if isinstance(f, Mapping)
            ),
        )


#: no stored profile: no change feed, query-verified write-back, the documented page size
CONSERVATIVE = CapabilityProfile()
