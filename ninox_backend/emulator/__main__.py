"""Run the Ninox API emulator as an HTTP server.

    python -m ninox_backend.emulator --host 127.0.0.1 --port 8765 \\
        --data var/ninox.sqlite3 --seed demo --token dev-token \\
        [--dialect docs|legacy] [--faults SPEC]

The demo is loaded only when the data file is new or empty; running again keeps the
data. Port 0 picks a free port (the real one is printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core import Emulator
from .demo import DATABASE_ID, TEAM_ID
from .dialects import DEFAULT_SERVER_DIALECT, DIALECTS
from .faults import __doc__ as FAULTS_DOC
from .server import make_server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ninox_backend.emulator",
        description="A Ninox REST API emulator on SQLite (classic v1, or the workspace API).",
        epilog="Fault spec:\n" + (FAULTS_DOC or "").split("\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument(
        "--data", default="var/ninox.sqlite3", help="SQLite file (':memory:' keeps nothing)"
    )
    parser.add_argument("--seed", choices=["demo", "none"], default="none", help="data to load")
    parser.add_argument("--seed-number", type=int, default=42, help="seed of the demo data")
    parser.add_argument("--lodges", type=int, default=120, help="demo lodges")
    parser.add_argument("--grants", type=int, default=1500, help="demo grants")
    parser.add_argument("--token", action="append", help="accepted API key (repeatable)")
    parser.add_argument(
        "--dialect",
        choices=DIALECTS,
        default=DEFAULT_SERVER_DIALECT,
        help="docs: as Ninox's documents show (default); legacy: the earlier guesses",
    )
    parser.add_argument(
        "--faults",
        default=None,
        help="fault spec, e.g. '503=0.1,latency=50ms' or 'changes_404,query_refused'",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.data != ":memory:":
        Path(args.data).parent.mkdir(parents=True, exist_ok=True)
    tokens = args.token or ["dev-token"]
    try:
        emu = Emulator(
            args.data, token=None, tokens=tokens, faults=args.faults, dialect=args.dialect
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.seed == "demo" and not emu.store.teams():
        info = emu.seed_demo(seed=args.seed_number, lodges=args.lodges, grants=args.grants)
        print(f"seeded demo: {info.lodges} lodges, {info.grants} grants", flush=True)
    server = make_server(emu.wsgi_app, args.host, args.port)
    host, port = server.server_address[:2]
    root = "" if args.dialect == "workspace" else "/v1"
    print(f"Ninox emulator at http://{host!s}:{port}{root}", flush=True)
    print(f"dialect: {args.dialect}", flush=True)
    teams = emu.store.teams()
    for team in teams:
        for db in emu.store.databases(team["id"]):
            names = (
                ("workspace id", "module")
                if args.dialect == "workspace"
                else ("team id", "database id")
            )
            print(f"{names[0]}: {team['id']}  {names[1]}: {db.id}  ({db.name})", flush=True)
    if not teams:
        print(f"no data yet (use --seed demo for team {TEAM_ID!r}, db {DATABASE_ID!r})")
    if args.faults:
        print(f"faults: {args.faults}", flush=True)
    print("Ctrl-C stops it.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        emu.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
