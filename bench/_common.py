"""Helpers shared by the benches: a throwaway redis-server, free ports, result files."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str | None]:
    """A ``redis-server`` on a free 127.0.0.1 port without persistence; yields its URL.

    Yields ``None`` when redis-server is not installed or does not start.
    """
    executable = shutil.which("redis-server")
    if executable is None:
        yield None
        return
    import redis

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as directory:
        args = f"--port {port} --bind 127.0.0.1 --appendonly no --dir {directory}".split()
        process = subprocess.Popen(
            [executable, *args, "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        try:
            probe = redis.Redis.from_url(url, socket_connect_timeout=0.2)
            deadline = time.monotonic() + 10
            started = False
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    started = bool(probe.ping())
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            probe.close()
            yield url if started else None
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``bench/results/<name>.json`` (creating the folder); returns the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def shown(path: Path) -> str:
    """``path`` relative to the current folder when it is inside it."""
    cwd = Path.cwd()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)
