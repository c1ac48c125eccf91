"""Servers the tests start on a port the OS picks at bind time.

Picking a "free" port, closing it, and telling a server to bind it races every other
process on the machine (another suite's server can take it in between). Here the test
process binds port 0 itself, listens, and hands the listening socket to the server
(gunicorn's ``--bind fd://N``): the port is ours from the start, and connections made
before the server is ready wait in the backlog instead of being refused.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

BACKLOG = 128


def listening_socket() -> socket.socket:
    """A TCP socket listening on 127.0.0.1 at a port the OS chose (``getsockname()[1]``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def start_gunicorn(
    sock: socket.socket,
    options: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout: IO[Any] | int | None = None,
    stderr: IO[Any] | int | None = None,
) -> subprocess.Popen[bytes]:
    """``gunicorn portal.wsgi`` serving on ``sock`` (which the caller may close afterwards)."""
    fd = sock.fileno()
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"fd://{fd}", *options],
        cwd=cwd,
        env=dict(env),
        stdout=stdout,
        stderr=stderr,
        pass_fds=(fd,),
    )
