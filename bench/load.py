"""Load: the public API and the staff pages under 10, 25 and 50 concurrent clients.

Starts everything on 127.0.0.1 only: a throwaway PostgreSQL cluster (or DATABASE_URL),
a redis-server, the Ninox emulator as a server, and gunicorn. Each level runs for a
bounded time; prints throughput, p50/p95/p99 latency and errors, then checks that no
lodge ended above its cap. Usage: python bench/load.py [--seconds 60] [--levels 10,25,50]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import free_port, redis_server, write_results
from bench._django import percentile

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "load-test-password-1"


@contextmanager
def postgres() -> Iterator[str | None]:
    """DATABASE_URL if it is PostgreSQL, else a throwaway cluster (needs the postgresql package)."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        yield os.environ["DATABASE_URL"]
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not bins or os.geteuid() != 0 or shutil.which("su") is None:
        yield None
        return
    pgbin = bins[-1].parent
    work = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    shutil.chown(work, "postgres")
    port = free_port()

    def run(cmd: str) -> None:
        subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", cmd], check=True, capture_output=True
        )

    run(f"{pgbin}/initdb -D {work}/data -A trust -U postgres")
    run(
        f"{pgbin}/pg_ctl -D {work}/data -o '-p {port} -k {work} -c listen_addresses=127.0.0.1 "
        f"-c fsync=off -c max_connections=200' -l {work}/log -w start"
    )
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/portal"
    finally:
        subprocess.run(
            [
                "su",
                "postgres",
                "-s",
                "/bin/sh",
                "-c",
                f"{pgbin}/pg_ctl -D {work}/data -m fast stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(work, ignore_errors=True)


def create_database(url: str) -> None:
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS portal")
        conn.execute("CREATE DATABASE portal")


def lodge_numbers(emulator: Any) -> list[int]:
    numbers = emulator.query("demo", "grants", "(select Lodges where Active).Number")
    return [int(str(n).split(".")[0]) for n in numbers]


def run_level(
    base: str, token: str, numbers: list[int], clients: int, seconds: float
) -> dict[str, Any]:
    """``clients`` threads: 3 in 4 post applications, 1 in 4 reads staff pages, for ``seconds``."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors: dict[str, int] = {}
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def staff_session() -> httpx.Client:
        # Production cookies are Secure; over loopback HTTP the bench carries them by hand.
        jar: dict[str, str] = {}

        def keep(response: httpx.Response) -> None:
            for header in response.headers.get_list("set-cookie"):
                name, _, rest = header.partition("=")
                jar[name.strip()] = rest.split(";", 1)[0]
            session.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())

        session = httpx.Client(base_url=base, timeout=60)
        keep(session.get("/login/"))
        keep(
            session.post(
                "/login/",
                data={
                    "username": "reviewer",
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": jar["csrftoken"],
                },
                headers={"Referer": f"{base}/login/"},
            )
        )
        if "sessionid" not in jar:
            raise RuntimeError("the reviewer could not sign in")
        return session

    def worker(index: int) -> None:
        rng = random.Random(index)
        api = httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"})
        staff = staff_session() if index % 4 == 0 else None
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if staff is not None:
                    path = rng.choice(["/queue/", "/lodges/", "/queue/?status=needs_review", "/"])
                    response = staff.get(path)
                    ok = response.status_code == 200
                else:
                    amount = f"{rng.choice([50, 120, 250, 400, 750])}.00"
                    body = {
                        "lodge_number": rng.choice(numbers),
                        "contact_name": "Load",
                        "contact_email": "load@example.org",
                        "charity_name": "Food bank",
                        "purpose": "Load test",
                        "amount_raised": amount,
                        "amount_requested": amount,
                        "event_date": date.today().isoformat(),
                    }
                    response = api.post("/api/v1/applications", json=body)
                    ok = response.status_code == 201
                    if ok:
                        with lock:
                            status = response.json()["status"]
                            statuses[status] = statuses.get(status, 0) + 1
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors[str(response.status_code)] = (
                            errors.get(str(response.status_code), 0) + 1
                        )
            except httpx.HTTPError as exc:
                with lock:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "decisions": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--levels", default="10,25,50")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]

    from ninox_backend.emulator import Emulator

    with postgres() as database_url, redis_server() as redis_url:
        if database_url is None or redis_url is None:
            print(
                "load: NOT RUN - needs PostgreSQL (or DATABASE_URL) and redis-server on this machine"
            )
            return
        create_database(database_url)
        data = Path(tempfile.mkdtemp(prefix="bench-load-"))
        emulator = Emulator(token="load-token")
        emulator.seed_demo(seed=11)
        ninox_url = emulator.start_background()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))},
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_ENV_FILE": "",
            "DEBUG": "false",
            "SECRET_KEY": "load-bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-0123",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "PORTAL_DATA_DIR": str(data),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "NINOX_BASE_URL": ninox_url,
            "NINOX_API_KEY": "load-token",
            "EMAIL_URL": "dummymail://",
            "PORTAL_API_RATE_PER_MINUTE": "1000000",
            "PORTAL_REQUIRE_2FA": "false",
            "DEMO_PASSWORD": PASSWORD,
        }
        manage = [sys.executable, "manage.py"]
        setup = (
            ["migrate", "--no-input", "-v", "0"],
            ["collectstatic", "--no-input", "-v", "0"],
            ["ninox_sync", "--full"],
            ["demo_setup"],
        )
        for command in setup:
            subprocess.run(
                [*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600
            )
        token = (
            subprocess.run(
                [*manage, "create_api_token", "load"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "-w", str(args.workers), "--threads", "4",
             "-b", f"127.0.0.1:{port}", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        numbers = lodge_numbers(emulator)
        results = []
        try:
            print(
                f"{'clients':>8}{'requests':>10}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
            )
            for clients in levels:
                level = run_level(base, token, numbers, clients, args.seconds)
                results.append(level)
                print(
                    f"{level['clients']:>8}{level['requests']:>10}{level['throughput_rps']:>8}{level['p50_ms']:>9}"
                    f"{level['p95_ms']:>9}{level['p99_ms']:>9}{level['errors']:>8}  {level['decisions']}"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
            emulator.stop()
        over_cap = (
            subprocess.run(
                [*manage, "shell", "-c", OVER_CAP_CHECK],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        print(f"lodges above their cap after the run: {over_cap}")
        write_results(
            "load",
            {
                "seconds_per_level": args.seconds,
                "levels": results,
                "lodges_over_cap": int(over_cap),
            },
        )


OVER_CAP_CHECK = """
from grants.selectors.budgets import lodges_with_budget
from grants.rules import current_fiscal_year, rules_in_force
cap = rules_in_force().annual_cap
print(lodges_with_budget(current_fiscal_year().key, cap).filter(used__gt=cap).count())
"""


if __name__ == "__main__":
    main()
