"""Fault injection: the failures production brings, on demand and repeatable.

A spec is a comma-separated list of ``key=value`` items, for example
``"503=0.2,502=0.1,latency=50ms,429every=5,retry_after=1,commit_then_fail=0.3"``:

=====================  ==================================================================
``503=R`` ``502=R``    answer that status to a fraction R (0..1) of calls, before doing
``500=R``              anything
``drop=R``             drop the connection (no reply) for a fraction R of calls, before
                       doing anything
``latency=D``          add D to every call (``50ms``, ``0.2s``, a bare number is ms)
``429every=N``         answer 429 to every Nth call, with ``Retry-After``
``retry_after=S``      the ``Retry-After`` seconds of injected 429s (default 1)
``commit_then_fail=R`` a fraction R of successful writes is committed, then answered 500
``commit_then_drop=R`` same, but the connection is dropped instead of answered
``parallel_limit=N``   answer 429 when more than N calls overlap (Ninox allows one)
``quota=N``            a monthly quota of N calls; beyond it every call is refused
``quota_status=S``     the status for an exhausted quota: 429 (default) or 403
``seed=N``             seed of the random draws (default 0), so runs repeat exactly
``changes_404``        every ``/changes`` endpoint answers 404 (no change feed here)
``dates_epoch_ms``     date fields go out as epoch milliseconds (UTC midnight), not text
``query_refused``      ``/query`` and ``/exec`` answer 403 with a plain-text body
``filter_ignored``     ``workspace``: the records' ``filter`` is ignored (every record matches)
``filter_ref_unmatched`` ``workspace``: a ``filter`` on a reference field matches nothing
                       (a server that reads a link as something other than the record id)
=====================  ==================================================================

The last five are switches, in any dialect: a bare ``changes_404`` (or
``changes_404=1``) turns one on, ``=0`` leaves it off.

Rates are drawn from ``random.Random(seed)``: the same calls in the same order get
the same faults. ``injected`` counts what was injected, by the key above.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .wire import ConnectionDropped, Response

_RATES = ("503", "502", "500", "drop", "commit_then_fail", "commit_then_drop")
_INTS = ("429every", "parallel_limit", "quota", "quota_status", "seed")
SWITCHES = (
    "changes_404",
    "dates_epoch_ms",
    "query_refused",
    "filter_ignored",
    "filter_ref_unmatched",
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def parse_duration(text: str) -> float:
    """Seconds from ``50ms``, ``0.2s`` or a bare number of milliseconds."""
    text = text.strip().lower()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    return float(text) / 1000


def parse_spec(spec: str) -> dict[str, Any]:
    """Settings from a spec string; ``ValueError`` naming a bad item."""
    settings: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if key in SWITCHES:
            flag = value.strip().lower() if sep else "1"
            if flag not in _TRUE + _FALSE:
                raise ValueError(f"fault {item!r}: a switch is on (1) or off (0)")
            if flag in _TRUE:
                settings[key] = True
            continue
        if not sep:
            raise ValueError(f"fault {item!r}: expected key=value")
        try:
            if key in _RATES:
                rate = float(value)
                if not 0 <= rate <= 1:
                    raise ValueError("a rate is between 0 and 1")
                settings[key] = rate
            elif key in _INTS:
                settings[key] = int(value)
            elif key == "latency":
                settings[key] = parse_duration(value)
            elif key == "retry_after":
                settings[key] = float(value)
            else:
                raise ValueError("unknown fault")
        except ValueError as exc:
            raise ValueError(f"fault {item!r}: {exc}") from None
    return settings


class Faults:
    """The fault settings of one emulator, its random source and its counters."""

    def __init__(
        self, spec: str | None = None, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.settings: dict[str, Any] = {}
        self.injected: Counter[str] = Counter()
        self.in_flight = 0
        self.quota_used = 0
        self._quota_month = ""
        self._count = 0
        self._rng = random.Random(0)
        if spec:
            self.configure(spec)

    def configure(self, spec: str | None = None, **settings: Any) -> None:
        """Replace the settings with a spec string and/or keyword settings.

        Keywords use the spec's keys; those that are not identifiers can be passed
        as ``**{"503": 0.2}`` or with an ``s`` prefix: ``s503=0.2``, ``every429=5``.
        """
        parsed = parse_spec(spec) if spec else {}
        for key, value in settings.items():
            key = {"every429": "429every"}.get(key, key)
            key = key[1:] if key[:1] == "s" and key[1:].isdigit() else key
            parsed.update(parse_spec(f"{key}={value}"))
        with self._lock:
            self.settings = parsed
            self._rng = random.Random(parsed.get("seed", 0))
            self._count = 0

    def clear(self) -> None:
        """No faults from now on; counters and quota usage are reset too."""
        with self._lock:
            self.settings = {}
            self.injected.clear()
            self._count = 0
            self.quota_used = 0

    @property
    def active(self) -> bool:
        return bool(self.settings)

    def strikes(self, switch: str) -> bool:
        """True (and counted in ``injected``) when the switch ``switch`` is on."""
        if not self.settings.get(switch):
            return False
        with self._lock:
            self.injected[switch] += 1
        return True

    def _hit(self, key: str) -> bool:
        rate = float(self.settings.get(key) or 0)
        return rate > 0 and self._rng.random() < rate

    # -- hooks called by the app ----------------------------------------------
    def enter(self) -> bool:
        """Count a call in flight; False when it exceeds the parallel limit."""
        with self._lock:
            limit = self.settings.get("parallel_limit")
            if limit is not None and self.in_flight >= limit:
                self.injected["parallel_limit"] += 1
                return False
            self.in_flight += 1
            return True

    def exit(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def parallel_response(self) -> Response:
        return self._too_many("too many parallel calls: wait for the answer before the next")

    def before(self) -> Response | None:
        """Faults that strike before the call does anything, or None."""
        if not self.settings:
            return None
        latency = self.settings.get("latency")
        if latency:
            self.injected["latency"] += 1
            time.sleep(latency)
        with self._lock:
            self._count += 1
            if self._hit("drop"):
                self.injected["drop"] += 1
                raise ConnectionDropped("fault: connection dropped")
            for status in ("503", "502", "500"):
                if self._hit(status):
                    self.injected[status] += 1
                    return Response.error(int(status), f"fault: injected {status}")
            every = self.settings.get("429every")
            if every and self._count % every == 0:
                self.injected["429every"] += 1
                return self._too_many("rate limited: too many requests")
            quota = self.settings.get("quota")
            if quota is not None:
                month = self._clock().strftime("%Y-%m")
                if month != self._quota_month:
                    self._quota_month, self.quota_used = month, 0
                if self.quota_used >= quota:
                    self.injected["quota"] += 1
                    refusal = int(self.settings.get("quota_status", 429))
                    return Response.error(
                        refusal, f"monthly API quota of {quota} calls exceeded ({month})"
                    )
                self.quota_used += 1
        return None

    def after(self, response: Response, wrote: bool) -> Response:
        """Faults that strike after a committed write."""
        if not wrote or not self.settings or response.status >= 300:
            return response
        with self._lock:
            if self._hit("commit_then_drop"):
                self.injected["commit_then_drop"] += 1
                raise ConnectionDropped("fault: write committed, then connection dropped")
            if self._hit("commit_then_fail"):
                self.injected["commit_then_fail"] += 1
                return Response.error(500, "fault: write committed, then the reply failed")
        return response

    def _too_many(self, message: str) -> Response:
        response = Response.error(429, message)
        retry_after = self.settings.get("retry_after", 1)
        response.headers.append(("Retry-After", f"{retry_after:g}"))
        return response
