"""Choosing a dialect: the in-process default, the environment, the helpers, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ninox_backend.emulator import Emulator
from ninox_backend.emulator import dialects as dialects_module
from ninox_backend.emulator.__main__ import build_parser
from ninox_backend.testing import (
    DEFAULT_TEST_DIALECT,
    EMULATOR_VARIANTS,
    EmulatorVariant,
    demo_ninox,
    emulated_ninox,
)

REPO = Path(__file__).resolve().parents[3]


def changes_shape(emu: Emulator) -> str:
    with httpx.Client(
        transport=emu.transport(),
        base_url="http://emulator/v1/teams/t/databases/d",
        headers={"Authorization": "Bearer dev-token"},
    ) as client:
        reply = client.get("/changes", params={"sinceSq": 0}).json()
    return "list" if isinstance(reply, list) else "object"


def bare_emulator(**options: object) -> Emulator:
    emu = Emulator(**options)  # type: ignore[arg-type]
    emu.add_team("t")
    emu.add_database("t", "d")
    return emu


def test_the_in_process_default_is_the_one_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NINOX_EMULATOR_DIALECT", raising=False)
    assert Emulator().dialect == DEFAULT_TEST_DIALECT
    monkeypatch.setattr(dialects_module, "DEFAULT_TEST_DIALECT", "legacy")
    assert Emulator().dialect == "legacy"


def test_the_environment_overrides_the_in_process_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("docs", "legacy"):
        monkeypatch.setenv("NINOX_EMULATOR_DIALECT", name)
        assert Emulator().dialect == name
        with emulated_ninox() as ninox:
            assert ninox.dialect == ninox.emulator.dialect == name


def test_an_explicit_dialect_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NINOX_EMULATOR_DIALECT", "legacy")
    assert Emulator(dialect="docs").dialect == "docs"


def test_an_unknown_dialect_is_refused_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValueError, match="docs, legacy"):
        Emulator(dialect="v2")
    monkeypatch.setenv("NINOX_EMULATOR_DIALECT", "doc")
    with pytest.raises(ValueError, match="'doc'"):
        Emulator()


def test_the_dialect_can_be_switched_on_a_running_emulator() -> None:
    emu = bare_emulator(dialect="legacy")
    assert changes_shape(emu) == "object"
    emu.dialect = "docs"
    assert changes_shape(emu) == "list"
    with pytest.raises(ValueError, match="unknown emulator dialect"):
        emu.dialect = "nope"


def test_the_test_helpers_take_a_dialect_and_faults() -> None:
    with emulated_ninox(dialect="docs", faults="query_refused") as ninox, ninox.client() as c:
        assert ninox.dialect == "docs"
        response = c.get(f"/teams/{ninox.team_id}/databases/{ninox.database_id}/changes")
        assert response.json() == []
        refused = c.post(f"/teams/{ninox.team_id}/databases/{ninox.database_id}/query")
        assert refused.status_code == 403
        assert ninox.emulator.faults.settings == {"query_refused": True}
    with demo_ninox(seed=1, dialect="docs", faults="changes_404") as demo, demo.client() as c:
        assert demo.emulator.dialect == "docs"
        assert c.get("/teams/demo/databases/grants/changes").status_code == 404


@pytest.mark.parametrize("variant", EMULATOR_VARIANTS, ids=lambda v: v.id)
def test_every_listed_variant_starts_the_demo_as_named(variant: EmulatorVariant) -> None:
    with demo_ninox(seed=1, dialect=variant.dialect, faults=variant.faults) as demo:
        assert demo.emulator.dialect == variant.dialect
        expected = {variant.faults: True} if variant.faults else {}
        assert demo.emulator.faults.settings == expected


def test_the_variants_cover_every_dialect_and_each_new_fault() -> None:
    assert {v.dialect for v in EMULATOR_VARIANTS} == {"docs", "legacy", "workspace"}
    assert {v.faults for v in EMULATOR_VARIANTS} >= {
        "changes_404",
        "dates_epoch_ms",
        "query_refused",
    }


def test_the_cli_serves_docs_unless_told_otherwise() -> None:
    assert build_parser().parse_args([]).dialect == "docs"
    assert build_parser().parse_args(["--dialect", "legacy"]).dialect == "legacy"


def test_the_cli_refuses_an_unknown_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--dialect", "v2"])
    assert "invalid choice" in capsys.readouterr().err


def test_the_cli_prints_its_dialect_and_takes_the_new_faults(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "ninox_backend.emulator", "--port", "0",
         "--data", str(tmp_path / "n.sqlite3"), "--seed", "demo", "--lodges", "5",
         "--grants", "10", "--token", "cli", "--faults", "query_refused,changes_404"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.strip())
            if line.startswith("Ctrl-C"):
                break
        assert "dialect: docs" in lines
        url = next(line.split(" at ")[1] for line in lines if line.startswith("Ninox emulator"))
        db = url + "/teams/demo/databases/grants"
        headers = {"Authorization": "Bearer cli"}
        refused = httpx.get(db + "/query", params={"query": "1"}, headers=headers)
        assert (refused.status_code, refused.headers["content-type"][:10]) == (403, "text/plain")
        assert httpx.get(db + "/changes", headers=headers).status_code == 404
        missing = httpx.get(db + "/tables/Nope", headers=headers)
        assert missing.headers["content-type"].startswith("text/plain")
    finally:
        process.terminate()
        process.wait(timeout=10)
