"""A real Celery worker on a real redis-server, Ninox (the emulator) failing on purpose.

The portal runs on a SQLite file shared by every process: a driver process applies and
pays through the signed webhook, workers carry out the outbox. Ninox answers 503s and
commits writes before failing them; one worker is SIGKILLed in the middle of a
write-back (Ninox holds the answer to the first committed write until the worker is
dead). Every paid application must end with exactly one Grants row in Ninox.

Every wait is on a condition, never on a guess of how long something takes: on a busy
CI machine a guess is what fails. When the test fails it says what every outbox row was
doing, which faults struck, and where the workers' whole log is kept.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.redis_service import redis_server

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
from grants.forms import ApplicationJsonForm
from grants.models import Lodge, NinoxGrant, Status
from grants.payments.provider import DevProvider, session_object
from grants.payments.webhook import webhook_receive
from grants.rules import current_fiscal_year
from grants.services.submit import application_submit
from ninox_backend.ninox.mirror import sync_mirror

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
    application = application_submit(cleaned=ApplicationJsonForm(body).application(), source="api")
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


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


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
    with closing(sqlite3.connect(db, timeout=30)) as conn, conn:
        return conn.execute(sql, args).fetchall()


def manage(env: dict[str, str], code: str) -> str:
    """Run Python in a portal process (``manage.py shell -c``); returns its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


class KillGate:
    """Ninox holds its answer to the first committed write until the test lets it go.

    The worker that made the write waits for the answer, in the middle of its write-back,
    for as long as the test needs to find it and kill it: the kill cannot come too late
    (the write-back done) or too early (nothing written yet), however slow the machine.
    """

    def __init__(self, faults: Any) -> None:
        self._after = faults.after
        self.committed = threading.Event()
        self.released = threading.Event()

    def after(self, response: Any, wrote: bool) -> Any:
        if wrote and response.status < 300 and not self.committed.is_set():
            self.committed.set()
            self.released.wait(timeout=300)
        return self._after(response, wrote)


def outbox_report(db: Path, log: Path, injected: dict[str, int]) -> str:
    """What a failure needs explained: every outbox row, the faults, the workers' errors."""
    lines = [f"faults injected: {injected}", "outbox (id kind status attempts claimed_at error):"]
    for row in rows(
        db,
        "select id, kind, status, attempts, claimed_at, last_error from grants_outboxmessage"
        " order by id",
    ):
        lines.append("  " + " | ".join(str(value)[:160] for value in row))
    text = log.read_text(errors="replace") if log.exists() else ""
    notable = [line for line in text.splitlines() if "ERROR" in line or "WARNING" in line]
    lines.append(f"worker log: {log} ({len(text.splitlines())} lines); warnings and errors:")
    lines.extend(notable[-80:])
    lines.append("its last lines:")
    lines.extend(text.splitlines()[-60:])
    return "\n".join(lines)


def test_every_paid_application_reaches_ninox_once_through_faults_and_a_killed_worker(
    tmp_path: Path,
    portal_env: dict[str, str],
    emulator: Any,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from celery import Celery

    db = tmp_path / "portal.sqlite3"
    log = tmp_path / "worker.log"
    paid = json.loads(manage(portal_env, DRIVER.format(count=PAID)).split("PAID=")[-1])
    assert len(paid) == PAID

    emulator.faults = FAULTS
    gate = KillGate(emulator.faults)
    monkeypatch.setattr(emulator.faults, "after", gate.after)
    injected: dict[str, int] = {}
    workers = [start_worker(portal_env, log)]
    try:
        # Kill the first worker while Ninox holds the answer to a committed write-back.
        assert gate.committed.wait(timeout=180), "no write reached Ninox\n" + outbox_report(
            db, log, dict(emulator.faults.injected)
        )
        victims = [
            row_id
            for (row_id,) in rows(
                db,
                "select id from grants_outboxmessage"
                " where kind = 'ninox_write_back' and status = 'sending'",
            )
        ]
        assert victims, "the held write belongs to no write-back\n" + outbox_report(
            db, log, dict(emulator.faults.injected)
        )
        kill(workers[0])
        gate.released.set()

        # What beat would do after a worker died: revive the rows it held. No worker runs
        # now, so every row still "sending" is one the dead worker held; a threshold counted
        # from the kill instead would, were the sweep late, revive rows a live worker has.
        revived = int(
            manage(
                portal_env,
                "from grants.tasks import outbox_sweep_task; print(outbox_sweep_task(0, 3600))",
            ).split()[-1]
        )
        assert revived >= len(victims), outbox_report(db, log, dict(emulator.faults.injected))
        workers.append(start_worker(portal_env, log))

        # Then, now and then, send the rows whose task was lost (the dead worker had taken
        # them from the broker). An explicit connection: this process's environment names
        # the tests' memory broker.
        sender = Celery(broker=redis_url, set_as_current=False)
        connection = sender.connection_for_write(url=redis_url)
        # Faults for a while longer, then Ninox recovers; backoff waits are then fast-forwarded
        # (the outcome is under test here, not the length of the waits).
        chaos_until = time.monotonic() + 20
        chaos = True
        deadline = time.monotonic() + 300
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
                kwargs={"lost_seconds": 1},
                queue="portal",
                connection=connection,
            )
            time.sleep(2)
        connection.close()
    finally:
        gate.released.set()
        for worker in workers:
            kill(worker, signal.SIGTERM if worker.poll() is None else signal.SIGKILL)

    if chaos:
        injected = dict(emulator.faults.injected)
        emulator.faults = None
    report = outbox_report(db, log, injected)
    statuses = dict(rows(db, "select status, count(*) from grants_outboxmessage group by status"))
    assert statuses == {"done": PAID * 5}, report
    assert injected.get("commit_then_fail", 0) > 0, report
    assert injected.get("503", 0) > 0, report
    assert injected.get("429every", 0) > 0, report
    assert injected.get("parallel_limit", 0) == 0, report  # no two calls ever overlapped
    for victim in victims:
        # The killed attempt, then the one that finished (and found the committed row).
        [(status, attempts)] = rows(
            db, "select status, attempts from grants_outboxmessage where id = ?", victim
        )
        assert (status, attempts >= 2) == ("done", True), f"victim {victim}: {attempts}\n{report}"
    for reference in paid:
        count = emulator.query(
            "demo", "grants", f'count(select Grants where Reference = "{reference}")'
        )
        assert count == 1, f"{reference}: {count} Grants rows\n{report}"
        [(status, record_id)] = rows(
            db,
            "select status, ninox_record_id from grants_application where reference = ?",
            reference,
        )
        assert status == "paid", f"{reference}: {status}\n{report}"
        assert record_id is not None, f"{reference}: no Ninox id\n{report}"
    sent = rows(
        db, "select kind, count(*) from grants_emaillog where status = 'sent' group by kind"
    )
    assert dict(sent) == {
        "email_decision": PAID,
        "email_vendor": PAID,
        "email_finance": PAID,
        "email_lodge_receipt": PAID,
    }, report
