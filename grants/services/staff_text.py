"""What staff type with a decision, a cancellation or a refund: cleaned, or refused with
a ``PortalError`` naming the field and the rule (the form is shown again with it)."""

from __future__ import annotations

from portal.lib.errors import PortalError

REASON_MAX = 1000  # characters, for each of the texts below


def clean_reason(reason: str) -> str:
    """A reason (a refund's, a cancellation's, an override's) on one line, required."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise PortalError("A reason is required.", {"reason": ["Reason: say why, in a few words."]})
    if len(reason) > REASON_MAX:
        raise PortalError(
            "The reason is too long.", {"reason": [f"Reason: at most {REASON_MAX} characters."]}
        )
    return reason


def clean_message(message: str) -> str:
    """The message to the lodge: required, one paragraph, at most ``REASON_MAX`` characters."""
    message = " ".join((message or "").split())
    if not message:
        raise PortalError(
            "A message to the lodge is required.",
            {"message": ["Message to the lodge: say why, in a few words the lodge will read."]},
        )
    if len(message) > REASON_MAX:
        raise PortalError(
            "The message is too long.",
            {"message": [f"Message to the lodge: at most {REASON_MAX} characters."]},
        )
    return message


def clean_note(note: str) -> str:
    """The internal note: optional, staff only, at most ``REASON_MAX`` characters."""
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise PortalError(
            "The internal note is too long.",
            {"internal_note": [f"Internal note: at most {REASON_MAX} characters."]},
        )
    return note
