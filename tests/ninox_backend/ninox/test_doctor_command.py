"""``manage.py ninox_doctor``: one line per check, the profile stored (or forgotten), and the
portal syncing with what it stored."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import httpx
import pytest
from django.core.management import CommandError, call_command

from grants.models import Lodge, NinoxGrant
from ninox_backend.ninox.connection import build_client, use_client
from ninox_backend.ninox.profile_store import load_profile


@pytest.mark.django_db
@pytest.mark.parametrize("ninox_dialect", ["legacy", "docs"])
def test_the_command_prints_one_line_per_check_and_saves_the_profile(
    ninox: Any, ninox_dialect: str
) -> None:
    out = StringIO()
    call_command("ninox_doctor", stdout=out)
    text = out.getvalue()
    assert text.startswith(
        "Ninox doctor: http://ninox.test/v1, team demo, database grants (read-only)"
    )
    assert '✓ lookup post-filters: POST …/tables/B/record {"filters": {"B": ' in text
    assert "→ write-back uses it" in text
    flat = "✓ lookup post-flat:" if ninox_dialect == "docs" else "✗ lookup post-flat:"
    assert flat in text
    assert "Profile saved (" in text
    assert "  lookup: post-filters" in text
    assert ninox.token not in text
    profile = load_profile()
    assert profile.stored
    assert profile.lookup_form == "post-filters"
    assert profile.per_page == (100 if ninox_dialect == "docs" else 500)
    assert profile.change_feed is False


@pytest.mark.django_db
@pytest.mark.parametrize("ninox_dialect", ["legacy"])
def test_the_command_write_test_turns_a_readable_feed_on(ninox: Any) -> None:
    out = StringIO()
    call_command("ninox_doctor", "--write-test", "Grants", stdout=out)
    assert "✓ change feed (write test): create: op 'create' with the new record;" in out.getvalue()
    assert load_profile().change_feed is True


@pytest.mark.django_db
@pytest.mark.parametrize("ninox_dialect", ["legacy"])
def test_a_feed_a_write_test_turned_on_stays_on_while_its_shape_holds(ninox: Any) -> None:
    call_command("ninox_doctor", "--write-test", "Grants", stdout=StringIO())
    out = StringIO()
    call_command("ninox_doctor", stdout=out)
    assert "stays on: the write test of " in out.getvalue()
    assert load_profile().change_feed is True
    ninox.emulator.faults.configure("changes_404")
    call_command("ninox_doctor", stdout=StringIO())
    assert load_profile().change_feed is False


@pytest.mark.django_db
@pytest.mark.parametrize("ninox_dialect", ["docs"])
def test_the_command_write_test_leaves_a_bare_feed_off(ninox: Any) -> None:
    out = StringIO()
    call_command("ninox_doctor", "--write-test", "Grants", stdout=out)
    assert "✗ change feed (write test): create: a record without table or operation;" in (
        out.getvalue()
    )
    assert load_profile().change_feed is False


@pytest.mark.django_db
def test_the_command_fails_when_the_write_test_is_refused(ninox: Any) -> None:
    with pytest.raises(CommandError, match="no table 'Invoices'"):
        call_command("ninox_doctor", "--write-test", "Invoices", stdout=StringIO())


@pytest.mark.django_db
def test_the_command_forgets_the_stored_profile(ninox: Any) -> None:
    call_command("ninox_doctor", stdout=StringIO())
    assert load_profile().stored
    calls = ninox.emulator.calls
    out = StringIO()
    call_command("ninox_doctor", "--forget", stdout=out)
    assert "conservative defaults" in out.getvalue()
    assert not load_profile().stored
    assert ninox.emulator.calls == calls


@pytest.mark.django_db
def test_the_command_stores_nothing_with_no_save(ninox: Any) -> None:
    out = StringIO()
    call_command("ninox_doctor", "--no-save", stdout=out)
    assert "Profile (not saved)" in out.getvalue()
    assert not load_profile().stored


@pytest.mark.django_db
def test_the_command_fails_on_an_account_that_is_not_the_classic_api(
    ninox: Any, settings: Any
) -> None:
    workspace = httpx.Response(200, json={"data": [], "page_info": {"has_more": False}})
    client = build_client(transport=httpx.MockTransport(lambda request: workspace), token="k-1")
    out = StringIO()
    with use_client(client), pytest.raises(CommandError, match="Set NINOX_API=workspace"):
        call_command("ninox_doctor", stdout=out)
    assert "✗ api: GET /teams answers {data, page_info}" in out.getvalue()
    assert "k-1" not in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("ninox_dialect", ["legacy", "docs"])
def test_the_portal_syncs_with_the_profile_the_doctor_stored(
    ninox: Any, ninox_dialect: str
) -> None:
    call_command("ninox_doctor", "--write-test", "Grants", stdout=StringIO())
    out = StringIO()
    call_command("ninox_sync", stdout=out)
    assert Lodge.objects.count() == 120
    assert NinoxGrant.objects.count() == 1500  # the scratch record came and went before
    with ninox.client() as http:
        grant = http.get("/teams/demo/databases/grants/tables/B/records/7").json()
        http.put(
            "/teams/demo/databases/grants/tables/B/records/7",
            json={"fields": {"Amount": 1234.5}},
        ).raise_for_status()
    call_command("ninox_sync", stdout=StringIO())
    assert NinoxGrant.objects.get(ninox_id=7).amount == Decimal("1234.50")
    assert grant["fields"]["Amount"] != 1234.5
