"""Paging with ``page``/``perPage`` that cannot loop forever."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .exceptions import NinoxPagingError

__all__ = ["iter_pages"]


def _ids(page: Sequence[Any]) -> list[Any]:
    return [item.get("id") if isinstance(item, dict) else item for item in page]


def iter_pages(
    fetch: Callable[[int], Any],
    per_page: int,
    *,
    method: str = "GET",
    path: str = "",
) -> Iterator[list[Any]]:
    """Yield pages ``fetch(0)``, ``fetch(1)``, … until a short (or empty) page.

    A short first page of a round size (a multiple of 50) may be the server capping
    ``perPage``; one more page is then read to tell.

    Raises :class:`NinoxPagingError` when a page repeats the previous one's
    record ids: a server that ignores ``page`` would otherwise loop forever.
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    previous: list[Any] | None = None
    page_number = 0
    page_size = per_page
    while True:
        page = fetch(page_number)
        if page is None:
            return
        if not isinstance(page, list):
            raise NinoxPagingError(
                f"expected a list of records on page {page_number}, got {type(page).__name__}",
                method=method,
                path=path,
            )
        ids = _ids(page)
        if page and previous is not None and ids == previous:
            raise NinoxPagingError(
                f"page {page_number} repeats page {page_number - 1} (the server ignores paging?)",
                method=method,
                path=path,
            )
        if page:
            yield page
        if len(page) < page_size:
            if page_number == 0 and len(page) % 50 == 0 and page:
                # A round short page may be the server's own perPage cap: the next page tells.
                page_size = len(page)
            else:
                return
        previous = ids
        page_number += 1
