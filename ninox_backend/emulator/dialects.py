"""Dialects: which reading of Ninox's API the emulator answers in.

``docs``
    What Ninox's documents show (the seeds quoted in ``ninox-api.md``), and where
    they are silent the least convenient plausible reading: lookups keyed by field
    id only (unknown keys ignored, so an unrecognised lookup answers the table's
    first record), ``GET …/records?filters=`` answers one record, ``/changes`` is a
    bare list of changed records (no table, no operation, deletes invisible),
    ``perPage`` capped at 100, plain-text errors, seed 002's type names in
    ``/tables`` (a reference has no type there) and the base names of recorded
    Ninox schemas in the database schema (``string``, ``ref``, ``link`` for URLs,
    fractional ``formWidth``).
``legacy``
    The emulator as it was before the dialects: the same guesses the client was
    written from (lookups by name or id, ``{"seq", "changes"}``, JSON errors).
``workspace``
    Not the classic API at all but Ninox's newer workspace API, as its public
    OpenAPI description shows it (see :mod:`.workspace`): routes under
    ``/api/v1/workspace/{workspaceId}/modules/{module}``, ``{"data", "page_info"}``
    replies, ``limit`` 1-100 with ``offset``, a JSON ``filter`` by field name,
    ``PATCH`` updates, ``{"error": {"message"}}`` errors; ``/v1`` answers 404.

The command line serves ``docs`` unless told otherwise. In-process emulators (the
test helpers, :class:`~ninox_backend.emulator.Emulator` without ``dialect``) use
:data:`DEFAULT_TEST_DIALECT`, overridden by ``NINOX_EMULATOR_DIALECT`` in the
environment.
"""

from __future__ import annotations

import os

from .schema import FIELD_TYPES

DOCS = "docs"
LEGACY = "legacy"
WORKSPACE = "workspace"
DIALECTS = (DOCS, LEGACY, WORKSPACE)
#: the dialects that speak the classic v1 API (teams, databases, ``sinceSq``, NX)
CLASSIC_DIALECTS = (DOCS, LEGACY)

#: What ``python -m ninox_backend.emulator`` (and ``make run``) serve by default.
DEFAULT_SERVER_DIALECT = DOCS

#: What in-process emulators speak when no dialect is given: the documents' reading, as
#: for the server; tests of the old behaviour ask for ``legacy`` by name.
DEFAULT_TEST_DIALECT = DOCS

#: Environment variable that overrides :data:`DEFAULT_TEST_DIALECT`.
DIALECT_ENV_VAR = "NINOX_EMULATOR_DIALECT"


def check_dialect(name: str) -> str:
    """The dialect's canonical name; ``ValueError`` naming the choices otherwise."""
    key = str(name).strip().lower()
    if key not in DIALECTS:
        raise ValueError(f"unknown emulator dialect {name!r}: use one of {', '.join(DIALECTS)}")
    return key


def default_dialect() -> str:
    """The in-process default: ``NINOX_EMULATOR_DIALECT`` if set, else the constant."""
    return check_dialect(os.environ.get(DIALECT_ENV_VAR) or DEFAULT_TEST_DIALECT)


def resolve_dialect(name: str | None) -> str:
    """``name`` checked, or the in-process default when it is None."""
    return default_dialect() if name is None else check_dialect(name)


#: ``GET …/tables`` in ``docs``: seed 002's type table. A type it does not name
#: (reference, file, image, formula) is left out: the field has no ``type`` key.
SEED_002_TYPES = frozenset(FIELD_TYPES) - {"reference", "file", "image", "formula"}

#: The database schema's ``base`` in ``docs``: the names of recorded Ninox schemas.
SCHEMA_BASE_NAMES = {
    "text": "string",
    "email": "email",
    "phone": "phone",
    "url": "link",
    "html": "html",
    "number": "number",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "timeinterval": "timeinterval",
    "appointment": "appointment",
    "boolean": "boolean",
    "choice": "choice",
    "multi": "multi",
    "location": "location",
    "reference": "ref",
    "file": "file",
    "image": "image",
    "formula": "any",
}
