"""The parallel-call limit across OS processes, against the emulator as a real HTTP server.

Worker processes (``python -c``, not threads) share one API key and call the emulator
in its ``parallel_limit=1`` fault mode, where any overlap is answered 429. Each worker
records when it held the slot (``time.monotonic`` is system-wide on Linux, so the
intervals of all processes can be compared). Without a shared limiter the same setup
collects 429s, which shows the test can see an overlap.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ninox_backend.emulator import Emulator
from ninox_backend.limiter import limiter_key
from tests.redis_service import redis_server

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "process-test-token"
WORKERS = 4
CALLS_EACH = 15

# Runs in each worker: build the limiter, say "ready", wait for "go", call, report JSON.
WORKER = r"""
import json, sys, time
from ninox_backend import FileLockLimiter, Lease, NinoxClient, NinoxError, NullLimiter
from ninox_backend.limiter import RedisLimiter

cfg = json.loads(sys.argv[1])
if cfg["limiter"] == "file":
    inner = FileLockLimiter(cfg["directory"])
elif cfg["limiter"] == "redis":
    inner = RedisLimiter(cfg["redis_url"], lease=cfg["lease"])
else:
    inner = NullLimiter()
held = []

class Recording:
    def acquire(self, key, timeout=None):
        lease = inner.acquire(key, timeout)
        start = time.monotonic()
        def release():
            held.append((start, time.monotonic()))
            lease.release()
        return Lease(release)

if cfg.get("hold"):
    # Take the slot and keep it until killed; say when it asked and when it had it.
    asked = time.monotonic()
    inner.acquire(cfg["key"], timeout=5)
    print(json.dumps({"asked": asked, "holding": time.monotonic()}), flush=True)
    time.sleep(120)
    sys.exit(0)

client = NinoxClient(token=cfg["token"], base_url=cfg["base_url"], limiter=Recording(),
                     limiter_timeout=cfg["limiter_timeout"], max_retries=0, timeout=10)
print("ready", flush=True)
sys.stdin.readline()
ok, statuses, errors = 0, {}, []
for _ in range(cfg["calls"]):
    try:
        client.teams()
        ok += 1
    except NinoxError as exc:
        statuses[str(exc.status)] = statuses.get(str(exc.status), 0) + 1
        errors.append(type(exc).__name__)
print(json.dumps({"ok": ok, "statuses": statuses, "errors": errors, "held": held}), flush=True)
"""


@dataclass
class Outcome:
    ok: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    held: list[tuple[float, float]] = field(default_factory=list)

    def add(self, report: dict[str, Any]) -> None:
        self.ok += report["ok"]
        for status, count in report["statuses"].items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.errors += report["errors"]
        self.held += [tuple(pair) for pair in report["held"]]

    def most_in_flight(self) -> int:
        """The most slot-holding intervals that overlap at any moment."""
        events = sorted([(s, 1) for s, _ in self.held] + [(e, -1) for _, e in self.held])
        # At equal times an exit sorts before an entry (-1 < 1): touching is not overlapping.
        current = most = 0
        for _, step in events:
            current += step
            most = max(most, current)
        return most


def spawn(config: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(config)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Workers:
    """``count`` worker processes, started and ready, calling once :meth:`go` is sent."""

    def __init__(self, config: dict[str, Any], count: int = WORKERS) -> None:
        self.processes = [spawn(config) for _ in range(count)]
        for process in self.processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.strip() == "ready", process.stderr.read() if process.stderr else line

    def go(self) -> None:
        for process in self.processes:  # all start calling at once
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()

    def gather(self) -> Outcome:
        outcome = Outcome()
        for process in self.processes:
            stdout, stderr = process.communicate(timeout=60)
            assert process.returncode == 0, stderr
            outcome.add(json.loads(stdout.strip().splitlines()[-1]))
        return outcome

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def run_workers(config: dict[str, Any], count: int = WORKERS) -> Outcome:
    """Start ``count`` workers, release them together, and gather their reports."""
    workers = Workers(config, count)
    try:
        workers.go()
        return workers.gather()
    finally:
        workers.stop()


@pytest.fixture
def emulator() -> Iterator[tuple[Emulator, str]]:
    """The emulator as a real server on 127.0.0.1, refusing overlapping calls with 429."""
    emu = Emulator(token=TOKEN, faults="parallel_limit=1,latency=5ms")
    emu.add_team("t", name="Team")
    base_url = emu.start_background(host="127.0.0.1", port=0)
    yield emu, base_url
    emu.close()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def config(base_url: str, limiter: str, **extra: Any) -> dict[str, Any]:
    return {
        "token": TOKEN,
        "base_url": base_url,
        "limiter": limiter,
        "calls": CALLS_EACH,
        "limiter_timeout": 20,
        "lease": 60,
        **extra,
    }


def assert_one_call_at_a_time(emu: Emulator, outcome: Outcome) -> None:
    assert outcome.statuses == {}, outcome.errors
    assert outcome.ok == WORKERS * CALLS_EACH
    assert emu.faults.injected["parallel_limit"] == 0
    assert emu.calls == WORKERS * CALLS_EACH
    assert outcome.most_in_flight() == 1


def test_without_a_shared_limiter_processes_overlap_and_get_429s(
    emulator: tuple[Emulator, str],
) -> None:
    emu, base_url = emulator
    outcome = run_workers(config(base_url, "none"))
    assert outcome.statuses.get("429", 0) > 0
    assert emu.faults.injected["parallel_limit"] == outcome.statuses["429"]
    assert outcome.most_in_flight() > 1


def test_file_locks_keep_processes_to_one_call_at_a_time(
    emulator: tuple[Emulator, str], tmp_path: Path
) -> None:
    emu, base_url = emulator
    outcome = run_workers(config(base_url, "file", directory=str(tmp_path)))
    assert_one_call_at_a_time(emu, outcome)


@pytest.mark.services
def test_the_redis_semaphore_keeps_processes_to_one_call_at_a_time(
    emulator: tuple[Emulator, str], redis_url: str
) -> None:
    emu, base_url = emulator
    outcome = run_workers(config(base_url, "redis", redis_url=redis_url))
    assert_one_call_at_a_time(emu, outcome)


class Holder:
    """A process that takes the workers' slot and keeps it until it is killed."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.process = spawn({**config, "hold": True, "key": limiter_key(TOKEN)})
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, self.process.stderr.read() if self.process.stderr else "no output"
        report = json.loads(line)
        #: when it asked for the slot, and when it had it (monotonic, like the workers' records)
        self.asked, self.since = float(report["asked"]), float(report["holding"])

    def kill(self) -> float:
        """SIGKILL it (no cleanup runs); returns when."""
        killed_at = time.monotonic()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=5)
        assert self.process.returncode == -signal.SIGKILL
        return killed_at

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def run_with_a_killed_holder(config: dict[str, Any]) -> tuple[Outcome, Holder, float]:
    """Workers wait for a slot a holder has; the holder is killed; the workers then run."""
    workers = Workers(config)
    holder = Holder(config)
    try:
        workers.go()
        time.sleep(0.2)  # the workers are now waiting for the holder's slot
        killed_at = holder.kill()
        return workers.gather(), holder, killed_at
    finally:
        holder.stop()
        workers.stop()


@pytest.mark.services
def test_a_killed_redis_holder_blocks_the_others_only_until_its_lease_ends(
    emulator: tuple[Emulator, str], redis_url: str
) -> None:
    emu, base_url = emulator
    lease = 6.0  # the kill, 0.2 s after the workers start, falls inside it even on a busy machine
    outcome, holder, killed_at = run_with_a_killed_holder(
        config(base_url, "redis", redis_url=redis_url, lease=lease)
    )
    assert_one_call_at_a_time(emu, outcome)
    first_call = min(start for start, _ in outcome.held)
    assert killed_at < holder.since + lease  # killed while its lease still ran
    # Nobody got in while it held the slot: its lease began after it asked (a millisecond
    # for Redis's clock, in ms, against this one).
    assert first_call >= holder.asked + lease - 0.01
    # And the slot was free once the lease ended: long before the workers' own 20 s wait ran
    # out (a bound on a hang, not on speed).
    assert first_call < holder.since + lease + 10


def test_a_killed_file_lock_holder_frees_the_slot_at_once(
    emulator: tuple[Emulator, str], tmp_path: Path
) -> None:
    emu, base_url = emulator
    outcome, _, killed_at = run_with_a_killed_holder(
        config(base_url, "file", directory=str(tmp_path))
    )
    assert_one_call_at_a_time(emu, outcome)
    first_call = min(start for start, _ in outcome.held)
    # Blocked until the kill, then free without any lease to wait out: well before the
    # workers' own 20 s wait (a bound on a hang, not on speed).
    assert killed_at <= first_call < killed_at + 10
