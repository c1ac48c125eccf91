"""The exception tree of the Ninox client, rooted at :class:`NinoxError`.

Every error carries ``status`` (HTTP status or ``None``), ``method``, ``path``
(the request path with ids, never the host or the API key), ``message`` (the
server's own words where it gave any) and ``permanent`` (``True`` when
repeating the same call cannot help).
"""

from __future__ import annotations

__all__ = [
    "NinoxAuthError",
    "NinoxError",
    "NinoxLimiterTimeout",
    "NinoxLookupUnreliable",
    "NinoxNotFound",
    "NinoxPagingError",
    "NinoxQuotaExceeded",
    "NinoxRateLimited",
    "NinoxServerError",
    "NinoxSyncError",
    "NinoxUnavailable",
    "NinoxUnsupported",
    "NinoxValidationError",
    "error_for_status",
]


class NinoxError(Exception):
    """Base of every error raised by ``ninox_backend``."""

    #: Default for the class; an instance may override it (e.g. 501 is permanent).
    permanent: bool = True

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        method: str = "",
        path: str = "",
        permanent: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        if permanent is not None:
            self.permanent = permanent

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f"{self.status} " if self.status is not None else ""
        text = f"{status}{self.message}".strip() or type(self).__name__
        return f"{where}: {text}" if where else text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, method={self.method!r}, "
            f"path={self.path!r}, message={self.message!r}, permanent={self.permanent!r})"
        )

    # KeyError's pickling passes only args; keep the attributes across processes (Celery).
    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(cls: type[NinoxError], message: str, state: dict[str, object]) -> NinoxError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class NinoxAuthError(NinoxError):
    """401 or 403: the API key is missing, wrong, or lacks the right."""


class NinoxNotFound(NinoxError, KeyError):
    """404, or a table/field name the schema does not know. Also a ``KeyError``."""

    # KeyError.__str__ would repr() the message; keep the readable form.
    __str__ = NinoxError.__str__


class NinoxValidationError(NinoxError):
    """400 or 422: Ninox refused the request as it was sent."""


class NinoxRateLimited(NinoxError):
    """429: too many calls (or calls in parallel). ``retry_after`` is in seconds."""

    permanent = False

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = 429,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, method=method, path=path)
        self.retry_after = retry_after


class NinoxQuotaExceeded(NinoxError):
    """The monthly call quota of the plan is used up (402, or a 429 that says so)."""


class NinoxServerError(NinoxError):
    """5xx. Transient except 501 (the server does not offer the call)."""

    permanent = False


class NinoxUnavailable(NinoxError):
    """Ninox could not be reached: connection error or timeout."""

    permanent = False


class NinoxLimiterTimeout(NinoxUnavailable):
    """No parallel-call slot became free within the limiter's timeout."""


class NinoxPagingError(NinoxError):
    """The server sent a page it had already sent; paging stopped instead of looping."""


class NinoxLookupUnreliable(NinoxError):
    """A lookup answered with a record that does not carry the asked values (or an answer the
    client cannot read): this lookup form is not honoured here. Never "not found", since a
    write-back would then create a duplicate. Permanent: a person must look.
    """


class NinoxSyncError(NinoxError):
    """The change feed sent something the sync cannot apply (a change without a known table or
    an integer id, an unknown shape); the sync stops and its high-water mark stays put.
    """


class NinoxUnsupported(NinoxError):
    """The API in use has no such call (the workspace API has no NX query, change feed or
    read by id). Permanent; callers that handle a refused call handle this one alike.
    """


def error_for_status(
    status: int,
    message: str,
    *,
    method: str,
    path: str,
    retry_after: float | None = None,
) -> NinoxError:
    """Map an HTTP error status to the matching exception (not raised)."""
    cls: type[NinoxError]
    if status in (401, 403):
        cls = NinoxAuthError
    elif status == 404:
        cls = NinoxNotFound
    elif status in (400, 422):
        cls = NinoxValidationError
    elif status == 402 or (status == 429 and "quota" in message.lower()):
        cls = NinoxQuotaExceeded
    elif status == 429:
        return NinoxRateLimited(
            message, status=status, method=method, path=path, retry_after=retry_after
        )
    elif status >= 500:
        return NinoxServerError(
            message, status=status, method=method, path=path, permanent=status == 501
        )
    else:
        cls = NinoxError
    return cls(message, status=status, method=method, path=path)
