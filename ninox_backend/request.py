"""The one request path every Ninox call goes through.

Auth header, JSON both ways (``Decimal``-exact), timeouts, the parallel-call
limiter, bounded retries with exponential backoff and full jitter (idempotent
calls only), ``Retry-After``, a total time budget, error mapping and a call
hook. The API key never appears in a log line, an exception or a repr.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import httpx

from .exceptions import (
    NinoxError,
    NinoxLimiterTimeout,
    NinoxRateLimited,
    NinoxUnavailable,
    error_for_status,
)
from .limiter import InProcessLimiter, Limiter, limiter_key
from .types import dumps, loads

__all__ = ["CallCounter", "CallInfo", "Requester", "RetryPolicy"]

logger = logging.getLogger("ninox_backend")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_MAX_MESSAGE = 500


@dataclass(frozen=True)
class CallInfo:
    """What one client call cost, handed to the ``on_call`` hook after it ends."""

    method: str
    #: e.g. ``/teams/{team}/databases/{db}/tables/{table}/records``
    path_template: str
    #: the same with the ids filled in (never the host or the key)
    path: str
    #: the last HTTP status, ``None`` when no reply came
    status: int | None
    #: seconds from the first attempt to the end, waits included
    duration: float
    #: HTTP requests sent (each counts against the monthly quota)
    attempts: int
    bytes_sent: int = 0
    bytes_received: int = 0
    #: the exception's class name when the call failed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def bytes(self) -> int:
        return self.bytes_sent + self.bytes_received


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries for idempotent calls: full-jitter exponential backoff, capped by a budget."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 20.0
    #: seconds for the whole call, all attempts and waits included
    total_budget: float = 60.0
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry ``retry_number`` (0-based): uniform in [0, base·2ⁿ], capped."""
        return rng.uniform(0, min(self.backoff_max, self.backoff_base * 2**retry_number))


@dataclass
class CallCounter:
    """Counts HTTP requests sent while it is active (see :meth:`Requester.counting`)."""

    calls: int = 0
    log: list[CallInfo] = field(default_factory=list)


@dataclass
class _Call:
    """One client call in progress: its attempts so far, and what :class:`CallInfo` will say."""

    method: str
    template: str
    path: str
    #: ``clock()`` at the first attempt; the retry budget and the duration count from it
    started: float
    attempts: int = 0
    #: the last HTTP status, ``None`` while no reply has come
    status: int | None = None
    bytes_sent: int = 0
    bytes_received: int = 0

    def info(self, now: float, error: NinoxError | None) -> CallInfo:
        return CallInfo(
            method=self.method,
            path_template=self.template,
            path=self.path,
            status=self.status,
            duration=max(0.0, now - self.started),
            attempts=self.attempts,
            bytes_sent=self.bytes_sent,
            bytes_received=self.bytes_received,
            error=type(error).__name__ if error is not None else None,
        )


_COUNTERS: contextvars.ContextVar[tuple[CallCounter, ...]] = contextvars.ContextVar(
    "ninox_call_counters", default=()
)


def _parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def error_message(response: httpx.Response) -> str:
    """The server's words: JSON ``message``, JSON ``error.message``, or the text."""
    text = response.text.strip()
    try:
        data = loads(text) if text else None
    except ValueError:
        data = None
    message: Any = None
    if isinstance(data, Mapping):
        message = data.get("message")
        error = data.get("error")
        if message is None and isinstance(error, Mapping):
            message = error.get("message")
        elif message is None and isinstance(error, str):
            message = error
        message = message if message is not None else (text or None)
    elif isinstance(data, str):
        message = data
    else:
        message = text
    message = str(message or response.reason_phrase or "").strip()
    return message[:_MAX_MESSAGE]


class Requester:
    """Sends Ninox calls. One per client; thread-safe."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        limiter: Limiter | None = None,
        limiter_timeout: float | None = 60.0,
        transport: httpx.BaseTransport | None = None,
        on_call: Callable[[CallInfo], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] | None = None,
        rng: random.Random | None = None,
        user_agent: str = "ninox-backend (python)",
    ) -> None:
        if not token:
            raise ValueError("a Ninox API key (token) is required")
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.limiter: Limiter = limiter or InProcessLimiter(1)
        self.limiter_key = limiter_key(token)
        self.limiter_timeout = limiter_timeout
        self.on_call = on_call
        self.sleep = sleep
        self.clock = clock
        self.wall_clock = wall_clock or (lambda: dt.datetime.now(dt.UTC))
        self.rng = rng or random.Random()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": user_agent,
            },
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"Requester(base_url={self.base_url!r}, token='***')"

    def close(self) -> None:
        self._http.close()

    def redact(self, text: str) -> str:
        """``text`` with the API key blanked out (a server might echo it)."""
        return text.replace(self._token, "***") if self._token in text else text

    @contextlib.contextmanager
    def counting(self) -> Iterator[CallCounter]:
        """Count the HTTP requests this thread/context sends inside the ``with`` block."""
        counter = CallCounter()
        reset = _COUNTERS.set((*_COUNTERS.get(), counter))
        try:
            yield counter
        finally:
            _COUNTERS.reset(reset)

    def request(
        self,
        method: str,
        template: str,
        *,
        path_params: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        raw: bool = False,
    ) -> Any:
        """Send one call; return the parsed JSON (``bytes`` when ``raw``), ``None`` if empty.

        ``template`` is the path with ``{name}`` placeholders filled from
        ``path_params`` (each quoted). ``idempotent`` defaults to the method's
        nature; only idempotent calls are retried.
        """
        method = method.upper()
        path = template.format(
            **{k: quote(str(v), safe="") for k, v in (path_params or {}).items()}
        )
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        content = dumps(json).encode() if json is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        query = _query_params(params)

        def build() -> httpx.Request:
            return self._http.build_request(
                method, path, params=query, content=content, headers=headers, files=files, data=data
            )

        call = _Call(method, template, path, started=self.clock())
        while True:
            try:
                response = self._attempt(call, build)
                result = self._parse(response, raw)
            except NinoxLimiterTimeout as exc:
                exc.method, exc.path = method, path
                # No slot, nothing sent: reported as no reply and no bytes (as it always was).
                self._finish(replace(call, status=None, bytes_sent=0, bytes_received=0), exc)
                raise
            except NinoxError as error:
                wait = self._retry_wait(error, idempotent, call)
                if wait is None:
                    self._finish(call, error)
                    raise
                logger.warning(
                    "Ninox %s %s failed (%s); retry %d of %d in %.2fs",
                    method,
                    template,
                    _short(error),
                    call.attempts,
                    self.retry.max_retries,
                    wait,
                )
                self.sleep(wait)
            else:
                self._finish(call, None)
                return result

    def _attempt(self, call: _Call, build: Callable[[], httpx.Request]) -> httpx.Response:
        """Send one HTTP request under a limiter slot; a successful reply, else raise."""
        lease = self.limiter.acquire(self.limiter_key, self.limiter_timeout)
        call.attempts += 1
        self._count()
        failure: str | None = None
        try:
            request = build()
            call.bytes_sent += _request_size(request)
            response = self._http.send(request)
            response.read()
        except httpx.TimeoutException as exc:
            failure = f"timed out ({type(exc).__name__})"
        except httpx.TransportError as exc:
            failure = self.redact(f"connection failed ({type(exc).__name__}: {exc})")
        finally:
            lease.release()
        if failure is not None:
            # Raised outside the handler: httpx's exception (and its request) is not chained.
            raise NinoxUnavailable(failure, method=call.method, path=call.path)
        call.status = response.status_code
        call.bytes_received += len(response.content)
        if response.is_success:
            return response
        raise error_for_status(
            response.status_code,
            self.redact(error_message(response)),
            method=call.method,
            path=call.path,
            retry_after=_parse_retry_after(response.headers.get("Retry-After"), self.wall_clock()),
        )

    def _retry_wait(self, error: NinoxError, idempotent: bool, call: _Call) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up now."""
        retryable = isinstance(error, NinoxUnavailable) or (
            error.status in self.retry.retry_statuses and not error.permanent
        )
        if not (idempotent and retryable) or call.attempts > self.retry.max_retries:
            return None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, NinoxRateLimited) and retry_after is not None:
            wait = float(retry_after)
        else:
            wait = self.retry.backoff(call.attempts - 1, self.rng)
        if self.clock() - call.started + wait > self.retry.total_budget:
            return None
        return wait

    def _parse(self, response: httpx.Response, raw: bool) -> Any:
        if raw:
            return response.content
        if not response.content.strip():
            return None
        try:
            return loads(response.content)
        except ValueError:
            # Some replies (a DELETE's "OK") are plain text; hand the text back.
            return response.text

    def _count(self) -> None:
        for counter in _COUNTERS.get():
            counter.calls += 1

    def _finish(self, call: _Call, error: NinoxError | None) -> None:
        info = call.info(self.clock(), error)
        for counter in _COUNTERS.get():
            counter.log.append(info)
        if error is None:
            logger.debug(
                "Ninox %s %s -> %s in %.3fs (%d attempt(s))",
                call.method,
                call.template,
                call.status,
                info.duration,
                call.attempts,
            )
        else:
            logger.info("Ninox %s %s failed: %s", call.method, call.template, _short(error))
        if self.on_call is not None:
            try:
                self.on_call(info)
            except Exception:
                logger.exception("the Ninox on_call hook failed")


def _short(error: NinoxError) -> str:
    status = f"{error.status} " if error.status is not None else ""
    return f"{type(error).__name__} {status}{error.message}".strip()


def _query_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    out = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, Mapping | list | tuple):
            out[key] = dumps(value)
        else:
            out[key] = str(value)
    return out


def _request_size(request: httpx.Request) -> int:
    try:
        return len(request.content)
    except httpx.RequestNotRead:
        return int(request.headers.get("Content-Length", 0) or 0)
