"""Periodic checks the health page reads: the Ninox mapping against the live schema."""

from __future__ import annotations

from celery import shared_task

from ninox_backend.exceptions import NinoxError
from ninox_backend.ninox import connection
from portal.health import record_check

SCHEMA_CHECK = "ninox_schema"


def ninox_schema_check() -> str:
    """What ``manage.py ninox_check`` says, stored as the ``ninox_schema`` service check."""
    mapping = connection.mapping()
    db = connection.database()
    try:
        # A copy read within the hour (by the sync or the last check) is the live schema as
        # far as anyone can tell; reading it again would cost a second call an hour.
        schema = db.schema(refresh=not db.schema_is_fresh())
    except NinoxError as exc:
        detail = f"could not read the schema: {type(exc).__name__}: {exc}"
        record_check(SCHEMA_CHECK, ok=False, detail=detail)
        return detail
    problems = mapping.check(schema)
    if problems:
        detail = f"{len(problems)} problem(s): " + "; ".join(str(p) for p in problems)
        record_check(SCHEMA_CHECK, ok=False, detail=detail)
        return detail
    record_check(SCHEMA_CHECK, ok=True, detail="the mapping matches the live schema")
    return "ok"


@shared_task
def ninox_schema_check_task() -> str:
    """Compare NINOX_SCHEMA with the live schema (beat runs it hourly; at most one call)."""
    return ninox_schema_check()
