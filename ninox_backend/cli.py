"""``python -m ninox_backend``: look at a Ninox account from a terminal, without Django.

Reads the API key from ``NINOX_API_KEY`` and the base URL from ``NINOX_BASE_URL``
(default ``https://api.ninox.com/v1``). ``NINOX_API=workspace`` speaks Ninox's workspace
API instead (``NINOX_BASE_URL`` is then the host): ``modules WORKSPACE`` lists a
workspace's modules, and ``tables``/``records`` take the workspace id and the module in
place of the team and the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .client import DEFAULT_BASE_URL, NinoxClient
from .exceptions import NinoxError, NinoxUnsupported
from .types import Appointment, Location, Record, dumps, to_ninox
from .workspace import WorkspaceClient

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ninox_backend",
        description="Read a Ninox account: teams, databases, tables, records, NX queries. "
        "The API key comes from NINOX_API_KEY, the base URL from NINOX_BASE_URL; "
        "NINOX_API=workspace speaks the workspace API (TEAM is then the workspace id, "
        "DATABASE the module).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("teams", help="list the teams the key can see")
    databases = commands.add_parser("databases", help="list a team's databases")
    databases.add_argument("team")
    modules = commands.add_parser("modules", help="list a workspace's modules (workspace API)")
    modules.add_argument("workspace")
    tables = commands.add_parser("tables", help="list a database's tables and fields")
    tables.add_argument("team")
    tables.add_argument("database")
    records = commands.add_parser("records", help="print a table's records")
    records.add_argument("team")
    records.add_argument("database")
    records.add_argument("table", help="table name or id")
    records.add_argument("--json", action="store_true", help="one JSON object per line")
    records.add_argument("--limit", type=int, default=None, help="stop after N records")
    query = commands.add_parser("query", help="evaluate a read-only NX expression")
    query.add_argument("team")
    query.add_argument("database")
    query.add_argument("expr", help='e.g. "count(select Grants)"')
    return parser


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime | dt.date | dt.time | dt.timedelta | Appointment | Location):
        return str(to_ninox(value))
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _record_json(record: Record) -> str:
    data = {
        "id": record.id,
        "sequence": record.sequence,
        "fields": {k: to_ninox(v) for k, v in record.fields.items()},
    }
    return dumps(data)


def run(args: argparse.Namespace, client: NinoxClient, out: Any) -> None:
    if args.command == "teams":
        for team in client.teams():
            print(f"{team.id}\t{team.name}", file=out)
    elif args.command == "modules":
        if not isinstance(client, WorkspaceClient):
            raise NinoxUnsupported("modules are the workspace API's (set NINOX_API=workspace)")
        for name in client.modules(args.workspace):
            print(name, file=out)
    elif args.command == "databases":
        for database in client.databases(args.team):
            print(f"{database.id}\t{database.name}", file=out)
    elif args.command == "tables":
        for info in client.database(args.team, args.database).schema().tables:
            print(f"{info.id}\t{info.name}", file=out)
            for field in info.fields:
                extra = []
                if field.required:
                    extra.append("required")
                if field.ref_table:
                    extra.append(f"→ {field.ref_table}")
                if field.choices:
                    extra.append("choices: " + ", ".join(field.choices.values()))
                if field.formula:
                    extra.append(f"= {field.formula}")
                note = f"  ({'; '.join(extra)})" if extra else ""
                print(f"  {field.id}\t{field.name}: {field.type}{note}", file=out)
    elif args.command == "records":
        table = client.database(args.team, args.database).table(args.table)
        for count, record in enumerate(table.iter_records(), start=1):
            if args.json:
                print(_record_json(record), file=out)
            else:
                values = "  ".join(f"{k}={_text(v)}" for k, v in record.fields.items())
                print(f"#{record.id}  {values}", file=out)
            if args.limit is not None and count >= args.limit:
                break
    elif args.command == "query":
        result = client.database(args.team, args.database).query(args.expr)
        print(dumps(result) if isinstance(result, list | dict) else _text(result), file=out)


def main(argv: Sequence[str] | None = None, *, client: NinoxClient | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 Ninox error, 2 usage)."""
    args = build_parser().parse_args(argv)
    if client is None:
        token = os.environ.get("NINOX_API_KEY", "")
        if not token:
            print("NINOX_API_KEY is not set", file=sys.stderr)
            return 2
        api = os.environ.get("NINOX_API", "classic").strip().lower()
        if api not in ("classic", "workspace"):
            print("NINOX_API must be classic or workspace", file=sys.stderr)
            return 2
        base_url = os.environ.get("NINOX_BASE_URL")
        if api == "workspace":
            if not base_url:
                print("NINOX_BASE_URL (the workspace API's host) is not set", file=sys.stderr)
                return 2
            client = WorkspaceClient(token=token, base_url=base_url)
        else:
            client = NinoxClient(token=token, base_url=base_url or DEFAULT_BASE_URL)
    try:
        run(args, client, sys.stdout)
    except NinoxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0
