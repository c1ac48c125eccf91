"""Which API answers: Ninox's classic API (``GET /teams`` is a list holding the team), or
the newer workspace API (its list of modules, see :mod:`.workspace`), or none. The
configured one is tried first; when it does not answer, the other one's list endpoint is
tried and the finding proposes the ``NINOX_API`` to set."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from ..exceptions import NinoxAuthError, NinoxError
from ..workspace import WorkspaceDatabase
from .probe import Probe
from .replies import error_text, shape_of, short
from .workspace import check_workspace_api, host_of, suggest_workspace


def check_api(probe: Probe) -> bool:
    if isinstance(probe.database, WorkspaceDatabase):
        return check_workspace_api(probe)
    state = probe.state
    base = probe.database.client.base_url
    workspace_hint = (
        "set NINOX_API=workspace, NINOX_BASE_URL (the host, without /api/v1), "
        "NINOX_WORKSPACE_ID and NINOX_MODULE"
    )
    if "/workspace" in urlsplit(base).path:
        state.api = "workspace"
        probe.add(
            "api",
            False,
            "the base URL is Ninox's newer workspace API (/api/v1/workspace/…)",
            f"{workspace_hint}; NINOX_BASE_URL is then {host_of(base)}",
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
            suggest_workspace(probe)
            or "if your account is on Ninox's newer workspace API, " + workspace_hint,
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
