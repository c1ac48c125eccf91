"""The errors the API answers with: each becomes ``{"message": ...}`` and a status."""

from __future__ import annotations


class ApiError(Exception):
    """An error reply: ``status`` and a message for the ``message`` key."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class NotFound(ApiError):
    status = 404


class Unprocessable(ApiError):
    status = 422
