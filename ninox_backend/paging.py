"""Paging with ``page``/``perPage`` that cannot loop forever and never stops on a guess."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .exceptions import NinoxPagingError
from .profile import DOCUMENTED_PAGE_SIZE

__all__ = ["iter_pages", "short_page_size"]


def _ids(page: Sequence[Any]) -> list[Any]:
    return [item.get("id") if isinstance(item, dict) else item for item in page]


def short_page_size(per_page: int, server_cap: int | None = None) -> int:
    """A page shorter than this is the last one.

    Ninox documents only the default ``perPage`` (100), not its largest value, so a
    server may send fewer than asked on every page. A page is taken as the last one
    only when it is shorter than the asked size, the size the server has been shown
    to send (the capability profile's ``per_page``) and the documented default.
    """
    return min(per_page, server_cap or per_page, DOCUMENTED_PAGE_SIZE)


def iter_pages(
    fetch: Callable[[int], Any],
    per_page: int,
    *,
    server_cap: int | None = None,
    method: str = "GET",
    path: str = "",
) -> Iterator[list[Any]]:
    """Yield pages ``fetch(0)``, ``fetch(1)``, … until an empty or short page.

    Short means shorter than :func:`short_page_size` (at most 100): a server that
    caps ``perPage`` at 250 when 500 were asked still gets read to the end, at the
    price of one empty page when a table holds an exact multiple.

    Raises :class:`NinoxPagingError` when a page repeats the previous one's
    record ids: a server that ignores ``page`` would otherwise loop forever.
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    short = short_page_size(per_page, server_cap)
    previous: list[Any] | None = None
    page_number = 0
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
        if len(page) < short:
            return
        previous = ids
        page_number += 1
