"""The ``perPage`` cap: the first page of every mapped table asked with a size no server is
documented to give, and the next page when a short one might still be capped."""

from __future__ import annotations

from ..exceptions import NinoxError
from ..profile import DOCUMENTED_PAGE_SIZE
from .probe import Probe, Sample
from .replies import Unreadable, error_text
from .values import check_values

#: the page size the doctor asks for to find the cap
PROBE_PAGE_SIZE = 500


def check_pages_and_values(probe: Probe) -> None:
    state = probe.state
    verdict: tuple[bool, str, str] | None = None
    largest: tuple[int, str] = (0, "")
    for mapped, live in probe.mapped_tables():
        try:
            rows = probe.records(live.id, page=0, perPage=PROBE_PAGE_SIZE)
        except (NinoxError, Unreadable) as exc:
            probe.add(
                f"records {live.name}",
                False,
                f"GET …/tables/{live.id}/records answered {error_text(exc)}",
                "the portal cannot read this table",
            )
            continue
        sample = Sample(live, mapped, rows)
        state.samples.append(sample)
        probe.remember(live.id, rows)
        count = len(rows)
        if count >= PROBE_PAGE_SIZE:
            sample.more = None
            if verdict is None or not verdict[0]:
                state.per_page = PROBE_PAGE_SIZE
                verdict = (
                    True,
                    f"asked {PROBE_PAGE_SIZE} on {live.name}, {count} came back",
                    f"pages of {PROBE_PAGE_SIZE}",
                )
        elif count:
            try:
                more = probe.records(live.id, page=1, perPage=count)
            except (NinoxError, Unreadable):
                more = []
            probe.remember(live.id, more)
            sample.more = bool(more)
            if more and verdict is None:
                ok = count >= DOCUMENTED_PAGE_SIZE
                state.per_page = count
                verdict = (
                    ok,
                    f"asked {PROBE_PAGE_SIZE} on {live.name}, {count} came back and the"
                    " next page has more: capped at " + str(count),
                    f"pages of {count}"
                    + ("" if ok else f", below the documented default {DOCUMENTED_PAGE_SIZE}"),
                )
            largest = max(largest, (count, live.name))
        check_values(probe, sample)
    if verdict is None:
        size = max(DOCUMENTED_PAGE_SIZE, largest[0])
        state.per_page = size
        verdict = (
            True,
            f"no mapped table has more than {PROBE_PAGE_SIZE} records (largest: "
            f"{largest[1] or '-'}, {largest[0]}), all in one page: the cap is not reached",
            f"pages of {size}",
        )
    ok, detail, action = verdict
    probe.add("perPage", ok, detail, action + "; paging still reads until a page is empty")
