"""Shared fixtures: the cast of users, and the rule for tests that need a real service."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from portal import roles
from portal.middleware import SESSION_TOUCHED_KEY
from tests.factories import PASSWORD as PASSWORD
from tests.factories import UserFactory

# CI (HYPOTHESIS_PROFILE=ci): no deadline (a loaded 2-core machine is slow), and the same
# examples on every run, whatever the test order or pytest-randomly's seed.
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
# Elsewhere: new examples on every run, to find what CI's fixed ones never draw; a failure
# prints the @reproduce_failure blob that replays it.
hypothesis_settings.register_profile("default", deadline=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """After a failure, say how to run the tests again in the same (pytest-randomly) order.

    The seed is also in the header, which ``-q`` leaves out.
    """
    seed = getattr(config.option, "randomly_seed", None)
    if exitstatus not in (0, 5) and isinstance(seed, int):
        reorganized = getattr(config.option, "randomly_reorganize", False)
        terminalreporter.write_line(
            f"pytest-randomly seed {seed}: run again with -p randomly --randomly-seed={seed}"
            + (" for the same test order" if reorganized else "")
        )


@pytest.fixture(autouse=True)
def session_touch_once_a_day(settings: Any) -> None:
    """Pages save an active session once a minute (``SessionIdleMiddleware``): not in tests.

    Otherwise a page whose queries a test counts could, on a slow machine, be the one that
    falls a minute after the last save and make three more. The touch itself is tested in
    ``tests/portal/test_login.py``, which sets the minute back.
    """
    settings.PORTAL_SESSION_TOUCH_SECONDS = 24 * 3600


def require_service(reason: str) -> None:
    """Skip with ``reason``; fail instead under REQUIRE_SERVICES=1 (CI), where it is a defect."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    def make(username: str, *role_names: str, **extra: Any) -> Any:
        return UserFactory.create(username=username, roles=role_names, **extra)

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., Any]) -> Any:
    return make_user("ada", roles.ADMIN)


@pytest.fixture
def reviewer(make_user: Callable[..., Any]) -> Any:
    return make_user("rita", roles.REVIEWER)


@pytest.fixture
def finance(make_user: Callable[..., Any]) -> Any:
    return make_user("fin", roles.FINANCE)


@pytest.fixture
def outsider(make_user: Callable[..., Any]) -> Any:
    """A staff account with no role."""
    return make_user("otto")


def client_for(user: Any) -> Client:
    """A client signed in as ``user``, as the login page leaves it (the session touched)."""
    client = Client()
    if user is not None:
        client.force_login(user)
        session = client.session
        session[SESSION_TOUCHED_KEY] = int(timezone.now().timestamp())
        session.save()
    return client


@pytest.fixture
def cast(admin_user: Any, reviewer: Any, finance: Any, outsider: Any) -> dict[str, Any]:
    return {
        "anonymous": None,
        "reviewer": reviewer,
        "finance": finance,
        "admin": admin_user,
        "outsider": outsider,
    }


@pytest.fixture
def ninox_dialect() -> str:
    """The emulator dialect of ``ninox``: the test default (``NINOX_EMULATOR_DIALECT``
    overrides it); a test picks one with ``@pytest.mark.parametrize("ninox_dialect", …)``."""
    from ninox_backend.testing import default_dialect

    return default_dialect()


@pytest.fixture
def ninox(settings: Any, ninox_dialect: str) -> Any:
    """The demo Ninox database in an in-process emulator, wired as the portal's connection."""
    from ninox_backend.ninox.connection import build_client, use_client
    from ninox_backend.testing import demo_ninox

    with demo_ninox(seed=42, dialect=ninox_dialect) as emulated:
        settings.NINOX_TEAM_ID = emulated.team_id
        settings.NINOX_DATABASE_ID = emulated.database_id
        settings.NINOX_API = emulated.api
        settings.NINOX_WORKSPACE_ID = emulated.team_id
        settings.NINOX_MODULE = emulated.database_id
        client = build_client(
            transport=emulated.transport, base_url=emulated.base_url, token=emulated.token
        )
        with use_client(client):
            yield emulated
        client.close()
