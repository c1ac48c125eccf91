"""Twenty simultaneous applications for one lodge never approve more than the cap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from grants.models import Application, Lodge
from grants.services.submit import application_submit
from tests.grants.conftest import as_cleaned, valid_body
from tests.servers import listening_socket, start_gunicorn
from tests.threads import run_together

ROOT = Path(__file__).resolve().parents[2]
APPLICANTS = 20
AMOUNT = "500.00"


@pytest.mark.db_engine
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repetition", range(20))
def test_twenty_threads_never_approve_more_than_the_cap_on_postgresql(
    repetition: int, fresh_lodge: Lodge
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("runs in CI's PostgreSQL pass (DATABASE_URL=postgres://…)")
    results = run_together(
        APPLICANTS,
        lambda i: (
            application_submit(
                cleaned=as_cleaned(
                    valid_body(fresh_lodge.number, amount_raised=AMOUNT, amount_requested=AMOUNT)
                ),
                source="web",
            ).status
        ),
    )
    assert all(isinstance(r, str) for r in results), results
    assert results.count("approved") == 8
    assert results.count("rejected") == 12
    approved = Application.objects.filter(lodge=fresh_lodge, status="approved")
    assert sum((a.amount_requested for a in approved), Decimal("0")) == Decimal("4000.00")


@pytest.fixture
def portal_server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """gunicorn with 4 workers on a SQLite file, the emulator as a real server, an API token."""
    from ninox_backend.emulator import Emulator

    emulator = Emulator(token="emu-token")
    emulator.seed_demo(seed=7)
    ninox_url = emulator.start_background()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))
        },
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "concurrency-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "NINOX_BASE_URL": ninox_url,
        "NINOX_API_KEY": "emu-token",
        "CELERY_BROKER_URL": "memory://",
        "EMAIL_URL": "dummymail://",
        "PORTAL_API_RATE_PER_MINUTE": "100000",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    subprocess.run(
        [*manage, "ninox_sync", "--full"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    token = (
        subprocess.run(
            [*manage, "create_api_token", "load test"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    # The port is bound here and handed to gunicorn: no other process can take it first.
    with listening_socket() as sock:
        server = start_gunicorn(
            sock,
            ["-w", "4", "--timeout", "120"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    deadline = time.monotonic() + 180  # bounds a hang; a loaded machine boots workers slowly
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=10)
            break
        except OSError:  # refused while starting, or slow on a loaded machine
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail(
            f"gunicorn did not start: {server.stderr.read().decode() if server.stderr else ''}"
        )
    try:
        yield {"base": base, "token": token, "env": env, "emulator": emulator}
    finally:
        server.terminate()
        server.wait(timeout=30)
        emulator.stop()


def fresh_lodge_number(base: str, token: str, emulator: Any) -> int:
    """An active demo lodge with no grant in this fiscal year, asked of the emulator itself."""
    from datetime import UTC, datetime

    from grants.fiscal_year import fiscal_year

    fy = fiscal_year(datetime.now(UTC))  # the portal's zone decides, not this machine's
    used = emulator.query(
        "demo",
        "grants",
        f"(select Grants where 'Grant Date' >= date({fy.start.year}, {fy.start.month}, {fy.start.day})).Lodge.Number",
    )
    numbers = emulator.query("demo", "grants", "(select Lodges where Active).Number")
    taken = {int(Decimal(str(n))) for n in (used or [])}
    return min(int(Decimal(str(n))) for n in numbers if int(Decimal(str(n))) not in taken)


@pytest.mark.slow
def test_twenty_http_requests_never_approve_more_than_the_cap_on_sqlite(
    portal_server: dict[str, Any],
) -> None:
    base, token = portal_server["base"], portal_server["token"]
    number = fresh_lodge_number(base, token, portal_server["emulator"])
    body = json.dumps(
        {
            **valid_body(number, amount_raised=AMOUNT, amount_requested=AMOUNT),
            "lodge_number": number,
        }
    ).encode()

    def post(_: int) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{base}/api/v1/applications",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as reply:
            assert reply.status == 201
            return dict(json.loads(reply.read()))

    results = run_together(APPLICANTS, post)
    assert all(isinstance(r, dict) for r in results), results
    statuses = [r["status"] for r in results]
    assert statuses.count("approved") == 8, statuses
    assert statuses.count("rejected") == 12


@pytest.mark.db_engine
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repetition", range(3))
def test_twenty_reviewers_approving_at_once_never_approve_more_than_the_cap_on_postgresql(
    repetition: int, fresh_lodge: Lodge, reviewer: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("runs in CI's PostgreSQL pass (DATABASE_URL=postgres://…)")
    from django.contrib.auth.models import Group

    from grants.services.review import application_decide
    from portal import roles
    from portal.lib.errors import PortalError
    from tests.factories import ApplicationFactory

    # A transactional test's flush drops the migrations' groups: give the reviewer the role again.
    reviewer.groups.add(Group.objects.get_or_create(name=roles.REVIEWER)[0])
    waiting = [
        ApplicationFactory.create(
            lodge=fresh_lodge,
            reference=f"MG-2099-{i:05d}",
            needs_review=True,
            amount_raised=Decimal(AMOUNT),
            amount_requested=Decimal(AMOUNT),
        )
        for i in range(APPLICANTS)
    ]

    def approve(i: int) -> str:
        try:
            application_decide(
                application=waiting[i], actor=reviewer, outcome="approved", message="Checked"
            )
        except PortalError as exc:
            return exc.message
        return "approved"

    results = run_together(APPLICANTS, approve)
    assert results.count("approved") == 8, results
    assert all(
        r == "approved" or r.startswith("Approving over the remaining budget needs the Admin role")
        for r in results
    ), results
    approved = Application.objects.filter(lodge=fresh_lodge, status="approved")
    assert sum((a.amount_requested for a in approved), Decimal("0")) == Decimal("4000.00")
