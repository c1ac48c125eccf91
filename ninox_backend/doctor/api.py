"""Which API answers: Ninox's classic API (``GET /teams`` is a list holding the team), or
the newer workspace API, or none; nothing else is checked unless it is the classic one."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from ..exceptions import NinoxAuthError, NinoxError
from .probe import Probe
from .replies import error_text, shape_of, short


def check_api(probe: Probe) -> bool:
    state = probe.state
    base = probe.database.client.base_url
    workspace_hint = (
        "this portal needs Ninox's classic API (https://api.ninox.com/v1 with a personal"
        " API key) for now"
    )
    if "/workspace" in urlsplit(base).path:
        state.api = "workspace"
        probe.add(
            "api",
            False,
            "the base URL is Ninox's newer workspace API (/api/v1/workspace/…)",
            workspace_hint + "; nothing else was checked",
        )
        return False
    try:
        teams = probe.database.client.request("GET", "/teams")
    except NinoxAuthError as exc:
        probe.add(
            "api",
            False,
            f"GET /teams refused the key ({exc.status} {short(exc)})",
            "check NINOX_API_KEY (a personal key from Ninox's settings); nothing else checked",
        )
        return False
    except NinoxError as exc:
        probe.add(
            "api",
            False,
            f"GET /teams answered {error_text(exc)}: no classic Ninox API at this base URL",
            "if your account is on Ninox's newer workspace API, " + workspace_hint,
        )
        return False
    if isinstance(teams, Mapping) and ("data" in teams or "page_info" in teams):
        state.api = "workspace"
        probe.add(
            "api",
            False,
            "GET /teams answers {data, page_info}: this is Ninox's newer workspace API",
            workspace_hint,
        )
        return False
    if not isinstance(teams, list):
        probe.add(
            "api",
            False,
            f"GET /teams answers {shape_of(teams)}, not the classic API's list of teams",
            workspace_hint + " (is NINOX_BASE_URL right?)",
        )
        return False
    state.api = "classic"
    ids = {str(t.get("id")): str(t.get("name", "")) for t in teams if isinstance(t, Mapping)}
    team = probe.database.team_id
    if team not in ids:
        probe.add(
            "api",
            False,
            f"classic v1 (GET /teams answers a list of {len(ids)}), but team {team!r} is not in it",
            "set NINOX_TEAM_ID to one of: " + ", ".join(sorted(ids)) if ids else "",
        )
        return False
    probe.add(
        "api",
        True,
        f"classic v1: GET /teams answers a list; team {team!r} ({ids[team]}) is in it",
        "the portal speaks this API",
    )
    return True
