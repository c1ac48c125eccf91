"""Running work in threads released together (the concurrency tests)."""

from __future__ import annotations

import threading
from typing import Any


def run_together(count: int, work: Any) -> list[Any]:
    """Start ``count`` threads, release them together with a barrier, collect results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
