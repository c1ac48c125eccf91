"""A throwaway ``redis-server`` for the tests that need a real one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.conftest import require_service

PORT_ATTEMPTS = 5


def free_port() -> int:
    """A port the OS has just handed out (and taken back) on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A ``redis-server`` on 127.0.0.1 (no persistence) that is ours; yields its URL.

    The port comes from the OS, but it is free only until redis binds it: another process
    may take it in between (on a machine running several test suites, another redis). So
    the server counts as started only when the one answering on the port reports our
    process id; when ours could not bind, the OS is asked for another port.
    """
    executable = shutil.which("redis-server")
    if executable is None:
        require_service("redis-server is not installed")
    assert executable is not None
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [executable, "--port", str(port), *options, "--dir", str(directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
        if _answers_as(process, url):
            break
        _stop(process)
    else:
        require_service(f"redis-server did not start on any of {PORT_ATTEMPTS} free ports")
    try:
        yield url
    finally:
        _stop(process)


def _answers_as(process: subprocess.Popen[bytes], url: str, seconds: float = 20) -> bool:
    """Whether ``process`` itself answers at ``url`` (False once it has exited: port taken)."""
    probe = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=2)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                return int(probe.info("server")["process_id"]) == process.pid
            except redis.ConnectionError:
                time.sleep(0.05)
        return False
    finally:
        probe.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
