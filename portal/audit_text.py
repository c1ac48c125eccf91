"""The audit log read as sentences: "ada deactivated Dave Mills", "Lodge 26 paid $1,250.00 by card".

Each app registers, in ``ready()``, a phrase per action it records (``register_phrase``)
and, where a sentence needs more than the event holds, a loader that fetches the objects
of one type for a whole page at once (``register_loader``: a fixed number of queries per
page, however many rows). An action nobody phrased still reads as a sentence of sorts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from portal.models import AuditEvent


@dataclass
class Names:
    """What phrases need beyond the event: people's names and the objects events are about."""

    people: dict[str, str] = field(default_factory=dict)  # username -> full name
    objects: dict[tuple[str, str], Any] = field(default_factory=dict)

    def person(self, username: str) -> str:
        return self.people.get(username) or username

    def actor(self, event: AuditEvent) -> str:
        """The one who acted: a person's full name, or the system actor's own name."""
        return self.person(event.actor_name) if event.actor_id else event.actor_name

    def object(self, event: AuditEvent) -> Any:
        return self.objects.get((event.object_type, event.object_id))

    def subject(self, event: AuditEvent) -> str:
        """The event's object in words (a user's full name, else its label or id)."""
        if event.object_type == "auth.user":
            return self.person(event.object_id)
        return event.object_label or event.object_id or "something"


Phrase = Callable[[AuditEvent, Names], str | None]  # None: not a row of its own
Loader = Callable[[Sequence[str]], dict[str, Any]]

_PHRASES: dict[str, Phrase] = {}
_LOADERS: dict[str, Loader] = {}


def register_phrase(action: str, phrase: Phrase) -> None:
    _PHRASES[action] = phrase


def register_loader(object_type: str, loader: Loader) -> None:
    """``loader(ids)`` returns {id: object} for the events of ``object_type`` on one page."""
    _LOADERS[object_type] = loader


def _fallback(event: AuditEvent, names: Names) -> str:
    what = event.action.replace("_", " ").replace(".", ": ", 1)
    about = names.subject(event) if (event.object_id or event.object_label) else ""
    return f"{names.actor(event)}: {what}" + (f" ({about})" if about else "")


def names_for(events: Iterable[AuditEvent]) -> Names:
    """People and objects for ``events``: one query per object type, one for people."""
    events = list(events)
    usernames = {e.actor_name for e in events if e.actor_id}
    usernames |= {e.object_id for e in events if e.object_type == "auth.user"}
    people = {
        username: f"{first} {last}".strip()
        for username, first, last in get_user_model()
        .objects.filter(username__in=usernames)
        .values_list("username", "first_name", "last_name")
    }
    wanted: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.object_type in _LOADERS and event.object_id:
            wanted[event.object_type].add(event.object_id)
    objects = {
        (object_type, object_id): found
        for object_type, ids in wanted.items()
        for object_id, found in _LOADERS[object_type](sorted(ids)).items()
    }
    return Names(people=people, objects=objects)


def sentence(event: AuditEvent, names: Names) -> str | None:
    """The event as one sentence, or None when another row already says it."""
    phrase = _PHRASES.get(event.action, _fallback)
    said = phrase(event, names)
    return None if said is None else said[:1].upper() + said[1:]


@dataclass(frozen=True)
class AuditLine:
    event: AuditEvent
    sentence: str


def audit_lines(events: Iterable[AuditEvent]) -> list[AuditLine]:
    events = list(events)
    names = names_for(events)
    lines = []
    for event in events:
        said = sentence(event, names)
        if said is not None:
            lines.append(AuditLine(event, said))
    return lines


# ---- the portal's own actions ---------------------------------------------------------


def _roles(value: Any) -> str:
    names = list((value or {}).get("roles") or [])
    return ", ".join(names) if names else "no role"


def _portal_phrases() -> dict[str, Phrase]:
    def actor(e: AuditEvent, n: Names) -> str:
        return n.actor(e)

    return {
        "auth.login": lambda e, n: f"{actor(e, n)} signed in",
        "auth.logout": lambda e, n: f"{actor(e, n)} signed out",
        "auth.login_failed": lambda e, n: f"A sign-in as {e.object_label or e.object_id} failed",
        "auth.backup_codes_renewed": lambda e, n: f"{actor(e, n)} made new backup codes",
        # Role changes made outside the portal's own pages (the Django admin, a shell).
        "auth.roles_add": lambda e, n: f"{n.subject(e)} was given the role {_roles(e.after)}",
        "auth.roles_remove": lambda e, n: f"{n.subject(e)} lost the role {_roles(e.after)}",
        "auth.roles_clear": lambda e, n: f"{n.subject(e)} lost every role",
        "user.invited": lambda e, n: f"{actor(e, n)} invited {n.subject(e)} as {_roles(e.after)}",
        "user.roles_changed": lambda e, n: (
            f"{actor(e, n)} changed {n.subject(e)}'s roles "
            f"from {_roles(e.before)} to {_roles(e.after)}"
        ),
        "user.deactivated": lambda e, n: f"{actor(e, n)} deactivated {n.subject(e)}",
        "user.reactivated": lambda e, n: f"{actor(e, n)} reactivated {n.subject(e)}",
        "user.second_factor_reset": lambda e, n: (
            f"{actor(e, n)} reset {n.subject(e)}'s two-factor sign-in"
        ),
    }


def register_portal_phrases() -> None:
    """Called from ``PortalConfig.ready()``."""
    for action, phrase in _portal_phrases().items():
        register_phrase(action, phrase)
