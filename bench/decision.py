"""How long a decision takes, with its one Ninox call to the emulator over HTTP.

Prints p50/p95 of ``application_submit`` (validation, mirror refresh, the locked
budget check, the decision, the audit) and the Ninox calls per decision.
Usage: python bench/decision.py [--decisions 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from bench._django import percentile, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=200)
    args = parser.parse_args()
    setup_django("decision")

    from django.conf import settings
    from django.utils import timezone

    from grants.models import Lodge
    from grants.services.submit import application_submit
    from ninox_backend.emulator import Emulator
    from ninox_backend.ninox.connection import build_client, use_client
    from ninox_backend.ninox.mirror import sync_mirror

    emulator = Emulator(token="bench-token")
    emulator.seed_demo(seed=3)
    base_url = emulator.start_background()
    settings.NINOX_TEAM_ID, settings.NINOX_DATABASE_ID = "demo", "grants"
    client = build_client(base_url=base_url, token="bench-token")
    timings: list[float] = []
    with use_client(client):
        sync_mirror(full=True)
        lodges = list(Lodge.objects.filter(active=True).order_by("number"))
        outcomes: dict[str, int] = {}
        calls_before = emulator.calls
        for index in range(args.decisions):
            lodge = lodges[index % len(lodges)]
            body = {
                "lodge_number": str(lodge.number),
                "contact_name": "Bench",
                "contact_email": "bench@example.org",
                "charity_name": "Food bank",
                "purpose": "Benchmark",
                "amount_raised": "25.00",
                "amount_requested": "25.00",
                "event_date": timezone.localdate().isoformat(),
            }
            started = time.perf_counter()
            application = application_submit(data=body, lenient=False, source="api")
            timings.append(time.perf_counter() - started)
            status = str(application.status)
            outcomes[status] = outcomes.get(status, 0) + 1
        calls = emulator.calls - calls_before
    emulator.stop()
    result = {
        "decisions": args.decisions,
        "p50_ms": round(percentile(timings, 0.5) * 1000, 2),
        "p95_ms": round(percentile(timings, 0.95) * 1000, 2),
        "ninox_calls_per_decision": round(calls / args.decisions, 3),
        "outcomes": outcomes,
    }
    print(f"decisions: {args.decisions}  outcomes: {outcomes}")
    print(
        f"p50 {result['p50_ms']} ms   p95 {result['p95_ms']} ms   Ninox calls per decision: {result['ninox_calls_per_decision']}"
    )
    print(f"wrote {write_results('decision', result)}")


if __name__ == "__main__":
    main()
