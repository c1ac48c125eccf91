"""Staff pages at 1,000 lodges / 50,000 grants: queries, p50 render time, partial vs full bytes.

The Django admin's changelist of the same applications is measured in the same run as
the baseline. Usage: python bench/pages.py [--lodges 1000 --grants 50000 --applications 5000]
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from bench._django import percentile, setup_django

RENDERS = 15


def measure(client: Any, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, headers=headers or {})  # warm
    times = []
    size = queries = 0
    for _ in range(RENDERS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, headers=headers or {})
            times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        size, queries = len(response.content), len(captured.captured_queries)
    return {"queries": queries, "p50_ms": round(percentile(times, 0.5) * 1000, 1), "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lodges", type=int, default=1000)
    parser.add_argument("--grants", type=int, default=50000)
    parser.add_argument("--applications", type=int, default=5000)
    args = parser.parse_args()
    setup_django("pages")

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from grants.models import Application, Decision, Lodge, Status
    from grants.rules import current_fiscal_year
    from ninox_backend.emulator import Emulator
    from ninox_backend.ninox.connection import build_client, use_client
    from ninox_backend.ninox.mirror import sync_mirror

    emulator = Emulator(token="bench-token")
    emulator.seed_demo(seed=5, lodges=args.lodges, grants=args.grants)
    settings.NINOX_TEAM_ID, settings.NINOX_DATABASE_ID = "demo", "grants"
    started = time.perf_counter()
    with use_client(
        build_client(
            transport=emulator.transport(), base_url="http://ninox.test/v1", token="bench-token"
        )
    ):
        sync_mirror(full=True)
    print(
        f"mirrored {Lodge.objects.count()} lodges and {args.grants} grants in {time.perf_counter() - started:.1f} s"
    )

    lodges = list(Lodge.objects.all())
    fy = current_fiscal_year().key
    statuses = [Status.NEEDS_REVIEW, Status.APPROVED, Status.REJECTED, Status.PAID]
    now = timezone.now()
    Application.objects.bulk_create(
        Application(
            reference=f"MG-2099-{i:05d}",
            lodge=lodges[i % len(lodges)],
            lodge_number=lodges[i % len(lodges)].number,
            contact_name="Bench",
            contact_email="bench@example.org",
            charity_name=f"Charity {i}",
            purpose="Benchmark",
            amount_raised=Decimal("100.00"),
            amount_requested=Decimal("100.00"),
            event_date=now.date(),
            status=statuses[i % len(statuses)],
            fiscal_year=fy,
            payment_token=secrets.token_urlsafe(16),
        )
        for i in range(args.applications)
    )
    Decision.objects.bulk_create(
        Decision(
            application=a, outcome="approved", decided_by_name="auto-decision", cap=Decimal("4000"),
            used_ninox=Decimal("0"), pending_portal=Decimal("0"), remaining=Decimal("4000"),
            requested=a.amount_requested, rules_version=1, explanation="bench",
        )
        for a in Application.objects.all()
    )  # fmt: skip
    user = get_user_model().objects.create_superuser(
        "bench", "bench@example.org", secrets.token_urlsafe(16)
    )
    client = Client()
    client.force_login(user)
    htmx = {"HX-Request": "true", "HX-Target": "results"}
    results = {
        "review_queue": measure(client, "/queue/"),
        "review_queue_partial": measure(client, "/queue/", htmx),
        "review_queue_search": measure(client, "/queue/?q=Charity+12&status=needs_review", htmx),
        "lodge_list": measure(client, "/lodges/"),
        "lodge_list_partial": measure(client, "/lodges/", htmx),
        "dashboard": measure(client, "/"),
        "django_admin_changelist": measure(client, "/django-admin/grants/application/"),
    }
    print(f"{'page':<26}{'queries':>8}{'p50 ms':>10}{'bytes':>10}")
    for name, figures in results.items():
        print(f"{name:<26}{figures['queries']:>8}{figures['p50_ms']:>10}{figures['bytes']:>10}")
    ratio = results["review_queue"]["bytes"] / max(1, results["review_queue_partial"]["bytes"])
    print(f"full page / HTMX partial bytes: {ratio:.2f}x")
    write_results(
        "pages",
        {
            "lodges": args.lodges,
            "grants": args.grants,
            "applications": args.applications,
            "renders": RENDERS,
            **results,
        },
    )


if __name__ == "__main__":
    main()
