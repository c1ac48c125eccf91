"""Errors of NX programs: all are answered as 400 with the message."""

from __future__ import annotations


class NxError(Exception):
    """A program that cannot run: an unknown name, a type mismatch, a write in a query."""

    def __init__(self, message: str, source: str | None = None, pos: int | None = None) -> None:
        if source is not None and pos is not None:
            line = source.count("\n", 0, pos) + 1
            column = pos - (source.rfind("\n", 0, pos) + 1) + 1
            message = f"{message} (line {line}, column {column})"
        super().__init__(message)
        self.message = message
        self.pos = pos


class NxSyntaxError(NxError):
    """Text that is not NX, or NX the emulator does not support."""
