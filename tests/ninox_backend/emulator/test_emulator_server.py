"""The real HTTP server and the command line: sockets on 127.0.0.1 only."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ninox_backend.emulator import Emulator

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def served(emu: Emulator) -> Iterator[str]:
    base_url = emu.start_background(host="127.0.0.1", port=0)
    yield base_url
    emu.stop()


def test_the_server_answers_over_http(served: str) -> None:
    with httpx.Client(base_url=served, headers={"Authorization": "Bearer test-token"}) as client:
        assert client.get("/teams").json() == [{"id": "t1", "name": "Team One"}]
        created = client.post(
            "/teams/t1/databases/db1/tables/Lodges/records", json={"fields": {"Number": 1.25}}
        )
        assert created.json()[0]["fields"] == {"Number": 1.25}
        assert client.get("/teams/t1/databases/db1/tables/Grant%20Lines").status_code == 404


def test_the_server_takes_concurrent_connections_without_errors(served: str) -> None:
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(
            base_url=served, headers={"Authorization": "Bearer test-token"}
        ) as client:
            for _ in range(25):
                try:
                    response = client.get("/teams/t1/databases/db1/tables/Lodges/records")
                    if response.status_code != 200:
                        errors.append(str(response.status_code))
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_dropped_connection_is_closed_without_a_reply(emu: Emulator, served: str) -> None:
    emu.faults.configure("commit_then_drop=1")
    with (
        httpx.Client(base_url=served, headers={"Authorization": "Bearer test-token"}) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.post("/teams/t1/databases/db1/tables/Lodges/records", json={"fields": {}})
    emu.faults.clear()
    with httpx.Client(base_url=served, headers={"Authorization": "Bearer test-token"}) as client:
        assert len(client.get("/teams/t1/databases/db1/tables/Lodges/records").json()) == 1


def start_cli(data: Path, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "ninox_backend.emulator", "--port", "0", "--data", str(data),
         "--seed", "demo", "--token", "cli-token", "--dialect", "legacy", *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.strip())
        if line.startswith("Ctrl-C"):
            break
    return process, lines


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)


def test_the_cli_seeds_serves_and_keeps_its_data(tmp_path: Path) -> None:
    data = tmp_path / "ninox.sqlite3"
    process, lines = start_cli(data, "--lodges", "40", "--grants", "300")
    try:
        url = next(line.split(" at ")[1] for line in lines if line.startswith("Ninox emulator"))
        assert url.startswith("http://127.0.0.1:")
        assert any("team id: demo  database id: grants" in line for line in lines)
        response = httpx.get(url + "/teams", headers={"Authorization": "Bearer cli-token"})
        assert response.json() == [{"id": "demo", "name": "Demo Foundation"}]
    finally:
        stop(process)
    again, lines = start_cli(data)
    stop(again)
    assert not any(line.startswith("seeded") for line in lines)


def test_the_cli_help_documents_the_fault_spec() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ninox_backend.emulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "commit_then_fail" in result.stdout
    assert "--faults" in result.stdout
