"""``python -m ninox_backend``: readable output of teams, databases, tables, records, queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from ninox_fakes import DB, TOKEN, FakeNinox, record, reply

from ninox_backend.cli import main


def run(fake: FakeNinox, *argv: str) -> int:
    return main(list(argv), client=fake.client())


def test_teams_prints_id_and_name(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNinox().add("GET", "/teams", reply(200, [{"id": "t1", "name": "Grand Lodge"}]))
    assert run(fake, "teams") == 0
    assert capsys.readouterr().out == "t1\tGrand Lodge\n"


def test_databases_prints_a_teams_databases(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNinox().add("GET", "/teams/t1/databases", reply(200, [{"id": "db1", "name": "G"}]))
    assert run(fake, "databases", "t1") == 0
    assert capsys.readouterr().out == "db1\tG\n"


def test_tables_prints_fields_with_types_references_and_formulas(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(FakeNinox(), "tables", "t1", "db1") == 0
    out = capsys.readouterr().out
    assert "A\tLodges\n" in out
    assert "  A\tNumber: number  (required)\n" in out
    assert "  C\tLodge: reference  (→ A)\n" in out
    assert "Status: choice  (choices: Open, Paid)" in out
    assert "Total: formula  (= Amount * 2)" in out


def test_records_prints_one_line_per_record(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNinox().add(
        "GET",
        DB + "/tables/B/records",
        reply(200, [record(1, Amount=Decimal("5.50"), **{"Grant Date": "2026-05-01"})]),
    )
    assert run(fake, "records", "t1", "db1", "Grants") == 0
    assert capsys.readouterr().out == "#1  Amount=5.50  Grant Date=2026-05-01\n"


def test_records_as_json_lines_keep_exact_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNinox().add(
        "GET", DB + "/tables/B/records", reply(200, [record(1, 9, Amount=Decimal("5.50"))])
    )
    assert run(fake, "records", "t1", "db1", "Grants", "--json") == 0
    line = capsys.readouterr().out.strip()
    assert json.loads(line, parse_float=Decimal) == {
        "id": 1,
        "sequence": 9,
        "fields": {"Amount": Decimal("5.50")},
    }
    assert '"Amount":5.50' in line


def test_query_prints_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNinox().add("POST", DB + "/query", reply(200, Decimal("1234.50")))
    assert run(fake, "query", "t1", "db1", "sum((select Grants).Amount)") == 0
    assert capsys.readouterr().out == "1234.50\n"


def test_a_ninox_error_is_one_line_and_exit_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeNinox().add("GET", "/teams", reply(401, {"message": "bad key"}))
    assert run(fake, "teams") == 1
    err = capsys.readouterr().err
    assert err == "error: GET /teams: 401 bad key\n"
    assert TOKEN not in err


def test_without_a_key_the_cli_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NINOX_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "ninox_backend", "teams"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert "NINOX_API_KEY" in done.stderr


# ---- the workspace API ------------------------------------------------------------------------


def test_on_the_workspace_api_it_lists_modules_tables_and_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ninox_backend.testing import demo_ninox

    with demo_ninox(seed=42, dialect="workspace") as ninox:
        assert main(["modules", "demo"], client=ninox.api_client()) == 0
        assert capsys.readouterr().out == "grants\n"
        assert main(["tables", "demo", "grants"], client=ninox.api_client()) == 0
        tables = capsys.readouterr().out
        assert "Grants\tGrants\n" in tables
        assert "  Amount\tAmount: number\n" in tables
        argv = ["records", "demo", "grants", "Grants", "--limit", "2"]
        assert main(argv, client=ninox.api_client()) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == ["#1", "#2"]


def test_on_the_workspace_api_a_query_is_an_error_naming_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ninox_backend.testing import demo_ninox

    with demo_ninox(seed=42, dialect="workspace") as ninox:
        assert main(["query", "demo", "grants", "1"], client=ninox.api_client()) == 1
    assert "no NX query" in capsys.readouterr().err


def test_modules_on_the_classic_api_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(FakeNinox(), "modules", "demo") == 1
    assert "NINOX_API=workspace" in capsys.readouterr().err


def test_the_workspace_api_needs_its_host(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NINOX_API_KEY", "k")
    monkeypatch.setenv("NINOX_API", "workspace")
    monkeypatch.delenv("NINOX_BASE_URL", raising=False)
    assert main(["modules", "demo"]) == 2
    assert "NINOX_BASE_URL" in capsys.readouterr().err
