"""Start everything the portal needs, in the foreground: ``make run`` calls this.

The web server, a Celery worker and beat, and (unless NINOX_BASE_URL points at a
real Ninox) the Ninox emulator with demo data. Ctrl-C stops all of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, Celery worker and beat, and the Ninox emulator together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-emulator", action="store_true", help="do not start the Ninox emulator"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        data = settings.PORTAL_DATA_DIR
        base = urlsplit(settings.PORTAL_BASE_URL)
        address = f"{base.hostname or '127.0.0.1'}:{base.port or 8000}"
        commands: list[tuple[str, list[str]]] = []
        if settings.NINOX_EMBEDDED and not options["no_emulator"]:
            commands.append(
                (
                    "ninox",
                    [
                        python, "-m", "ninox_backend.emulator",
                        "--host", "127.0.0.1", "--port", str(settings.NINOX_EMULATOR_PORT),
                        "--data", str(data / "ninox.sqlite3"), "--seed", "demo",
                        "--token", settings.NINOX_EMULATOR_TOKEN,
                        "--dialect", settings.NINOX_EMULATOR_DIALECT,
                    ],
                )
            )  # fmt: skip
        commands += [
            ("web", [python, "manage.py", "runserver", address, "--noreload"]),
            (
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "-l",
                    "INFO",
                    "--concurrency",
                    "2",
                ],
            ),
            ("beat", [python, "-m", "celery", "-A", "portal", "beat", "-l", "INFO"]),
        ]
        processes: list[tuple[str, subprocess.Popen[str]]] = []
        stopping = threading.Event()

        def pump(name: str, proc: subprocess.Popen[str]) -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(f"{name:>6} | {line}")
                sys.stdout.flush()

        def stop(*_: Any) -> None:
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name, argv in commands:
            proc = subprocess.Popen(  # noqa: S603 - fixed argv built above
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
                start_new_session=True,
            )
            processes.append((name, proc))
            threading.Thread(target=pump, args=(name, proc), daemon=True).start()
            if name == "ninox":
                time.sleep(1.5)  # let it seed before the first sync
                self._first_sync()

        self.stdout.write(self.style.SUCCESS(f"\nThe portal is at {settings.PORTAL_BASE_URL}/"))
        self.stdout.write(f"  apply form:  {settings.PORTAL_BASE_URL}/apply/")
        self.stdout.write(f"  staff login: {settings.PORTAL_BASE_URL}/login/")
        call_command("demo_setup", stdout=self.stdout)
        self.stdout.write("Press Ctrl-C to stop everything.\n")
        try:
            while not stopping.is_set():
                for name, proc in processes:
                    if proc.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with {proc.returncode}; stopping the rest."
                        )
                        stopping.set()
                stopping.wait(0.5)
        finally:
            for _, proc in processes:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            for _, proc in processes:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            self.stdout.write("Stopped.")

    def _first_sync(self) -> None:
        try:
            call_command("ninox_sync", stdout=self.stdout)
            from portal.tasks import ninox_probe_task

            ninox_probe_task()  # /healthz shows Ninox at once, not after beat's first minute
        except Exception as exc:
            self.stderr.write(f"First Ninox sync skipped: {type(exc).__name__}: {exc}")
