"""A client for the Ninox REST API: typed records, retries, a parallel-call limit, NX builder.

>>> from ninox_backend import NinoxClient
>>> client = NinoxClient(token="...")
>>> client.database("team", "db").table("Grants").all()

The core imports neither Django nor the portal's apps; its Django half (models,
migrations, commands, tasks, the process's connection) is ``ninox_backend.ninox``.
"""

from . import exceptions, nx
from .changes import Change, ChangeSet
from .client import DEFAULT_BASE_URL, DatabaseInfo, NinoxClient, Team
from .database import Database
from .exceptions import *  # noqa: F403  (the whole tree: exceptions.__all__)
from .limiter import FileLockLimiter, InProcessLimiter, Lease, Limiter, NullLimiter
from .request import CallInfo, RetryPolicy
from .schema import Schema, TableSchema
from .table import Table
from .types import Appointment, Field, FieldType, FileInfo, Location, Record

__all__ = [
    "DEFAULT_BASE_URL",
    "Appointment",
    "CallInfo",
    "Change",
    "ChangeSet",
    "Database",
    "DatabaseInfo",
    "Field",
    "FieldType",
    "FileInfo",
    "FileLockLimiter",
    "InProcessLimiter",
    "Lease",
    "Limiter",
    "Location",
    "NinoxClient",
    "NullLimiter",
    "Record",
    "RetryPolicy",
    "Schema",
    "Table",
    "TableSchema",
    "Team",
    "nx",
]
__all__ += exceptions.__all__
