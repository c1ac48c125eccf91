"""A real Celery worker on a real redis-server, Ninox (the emulator) failing on purpose.

The portal runs on a SQLite file shared by every process: a driver process applies and
pays through the signed webhook, workers carry out the outbox. Ninox answers 503s and
commits writes before failing them; one worker is SIGKILLed in the middle of a
write-back. Every paid application must end with exactly one Grants row in Ninox.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service

pytestmark = [pytest.mark.services, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_worker_test_0123456789abcdef"
# Every fault Ninox brings at once: 503s, 429 with Retry-After, latency, a write that commits
# and then fails, and the one-call-at-a-time limit (the Redis limiter must keep it).
# Which calls draw a fault depends on timing across two worker processes, so the write
# fault is likely enough (0.5 over about ten creates) that a run without one is ~0.1%.
FAULTS = (
    "503=0.1,commit_then_fail=0.4,latency=150ms,429every=13,retry_after=1,parallel_limit=1,seed=3"
)
PAID = 10

DRIVER = """
import json
from django.conf import settings
from grants.models import Lodge, NinoxGrant, Status
from grants.payments.provider import DevProvider, session_object
from grants.payments.webhook import webhook_receive
from grants.rules import current_fiscal_year
from grants.services.submit import application_submit
from ninox_backend.mirror import sync_mirror

sync_mirror(full=True)
fy = current_fiscal_year().key
used = set(NinoxGrant.objects.filter(fiscal_year=fy).values_list("lodge_id", flat=True))
paid = []
for lodge in Lodge.objects.filter(active=True).exclude(id__in=used).order_by("number"):
    if len(paid) == {count}:
        break
    body = {{"lodge_number": str(lodge.number), "contact_name": "Jo", "contact_email": "jo@example.org",
            "charity_name": "Food bank", "purpose": "Winter", "amount_raised": "300.00",
            "amount_requested": "300.00", "event_date": __import__("datetime").date.today().isoformat()}}
    application = application_submit(data=body, lenient=False, source="api")
    if application.status != Status.APPROVED:
        continue
    session = session_object(session_id=f"cs_test_{{application.reference}}", application=application,
                             payment_status="paid")
    body, header = DevProvider().signed_event(event_type="checkout.session.completed", session=session)
    assert webhook_receive(body, header) == "paid"
    assert webhook_receive(body, header) == "duplicate event"
    paid.append(application.reference)
print("PAID=" + json.dumps(paid))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        require_service("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        require_service("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def emulator() -> Iterator[Any]:
    from ninox_backend.emulator import Emulator

    emu = Emulator(token="dev-token")
    emu.seed_demo(seed=42)
    emu.base_url = emu.start_background(host="127.0.0.1", port=0)  # type: ignore[attr-defined]
    yield emu
    emu.close()


@pytest.fixture
def portal_env(tmp_path: Path, redis_url: str, emulator: Any) -> dict[str, str]:
    """The environment of every portal process: one SQLite file, the broker, the emulator."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "worker-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "PORTAL_REQUIRE_2FA": "false",
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_URL": "dummymail://",
        "NINOX_BASE_URL": emulator.base_url,
        "NINOX_API_KEY": "dev-token",
        "NINOX_TEAM_ID": "demo",
        "NINOX_DATABASE_ID": "grants",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    env.pop("STRIPE_SECRET_KEY", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "-l", "INFO",
            "--concurrency", "2", "-Q", "portal", "--without-gossip", "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool children too
    )  # fmt: skip


def kill(worker: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        return
    worker.wait(timeout=30)


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql, args).fetchall()


def test_every_paid_application_reaches_ninox_once_through_faults_and_a_killed_worker(
    tmp_path: Path, portal_env: dict[str, str], emulator: Any, redis_url: str
) -> None:
    from celery import Celery

    db = tmp_path / "portal.sqlite3"
    driver = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", DRIVER.format(count=PAID)],
        cwd=ROOT,
        env=portal_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert driver.returncode == 0, driver.stderr[-3000:]
    paid = json.loads(driver.stdout.split("PAID=")[-1])
    assert len(paid) == PAID

    emulator.faults = FAULTS
    log = tmp_path / "worker.log"
    first = start_worker(portal_env, log)
    workers = [first]
    try:
        # Kill the first worker while a write-back is in flight.
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            found = rows(
                db,
                "select id from grants_outboxmessage where kind = 'ninox_write_back' and status = 'sending'",
            )
            victim = found[0][0] if found else None
            time.sleep(0.02)
        assert victim is not None, log.read_text()[-3000:]
        time.sleep(0.1)  # inside the write-back's Ninox calls
        kill(first)
        killed_at = time.time()
        second = start_worker(portal_env, log)
        workers.append(second)

        # What beat would do: sweep now and then, here with thresholds that know the kill.
        # An explicit connection: this process's environment names the tests' memory broker.
        sender = Celery(broker=redis_url, set_as_current=False)
        connection = sender.connection_for_write(url=redis_url)
        # Faults for a while longer, then Ninox recovers; backoff waits are then fast-forwarded
        # (the outcome is under test here, not the length of the waits).
        chaos_until = time.monotonic() + 20
        chaos = True
        injected: dict[str, int] = {}
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if chaos and time.monotonic() > chaos_until:
                injected, chaos = dict(emulator.faults.injected), False
                emulator.faults = None  # clears the faults (the object stays)
            open_rows = rows(
                db,
                "select count(*) from grants_outboxmessage where status in ('pending', 'sending')",
            )[0][0]
            if open_rows == 0:
                break
            if not chaos:
                rows(
                    db,
                    "update grants_outboxmessage set next_attempt_at = ? where status = 'pending'",
                    "2000-01-01 00:00:00",
                )
            sender.send_task(
                "grants.tasks.outbox_sweep_task",
                kwargs={"stuck_seconds": max(0.0, time.time() - killed_at), "lost_seconds": 1},
                queue="portal",
                connection=connection,
            )
            time.sleep(2)
        connection.close()
    finally:
        for worker in workers:
            kill(worker, signal.SIGTERM if worker.poll() is None else signal.SIGKILL)

    if chaos:
        injected = dict(emulator.faults.injected)
        emulator.faults = None
    statuses = dict(rows(db, "select status, count(*) from grants_outboxmessage group by status"))
    assert statuses == {"done": PAID * 5}, (statuses, log.read_text()[-3000:])
    assert injected.get("commit_then_fail", 0) > 0, injected
    assert injected.get("503", 0) > 0, injected
    assert injected.get("429every", 0) > 0, injected
    assert injected.get("parallel_limit", 0) == 0, injected  # no two calls ever overlapped
    victim_row = rows(db, "select status, attempts from grants_outboxmessage where id = ?", victim)
    assert victim_row == [("done", victim_row[0][1])]
    assert victim_row[0][1] >= 2  # the killed attempt, then the one that finished
    for reference in paid:
        count = emulator.query(
            "demo", "grants", f'count(select Grants where Reference = "{reference}")'
        )
        assert count == 1, reference
        [(status, record_id)] = rows(
            db,
            "select status, ninox_record_id from grants_application where reference = ?",
            reference,
        )
        assert status == "paid"
        assert record_id is not None
    sent = rows(
        db, "select kind, count(*) from grants_emaillog where status = 'sent' group by kind"
    )
    assert dict(sent) == {
        "email_decision": PAID,
        "email_vendor": PAID,
        "email_finance": PAID,
        "email_lodge_receipt": PAID,
    }
