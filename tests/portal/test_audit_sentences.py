"""The audit log reads as sentences, one row per action, the raw change behind a toggle."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from portal import roles
from portal.models import AuditEvent
from portal.services.users import user_deactivate, user_invite, user_roles_set
from tests.audit_log import audit_sentences
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def dave(make_user: Any) -> Any:
    return make_user("dmills", roles.REVIEWER, first_name="Dave", last_name="Mills")


def audit_page(admin_user: Any, **query: str) -> str:
    return client_for(admin_user).get("/manage/audit/", query).content.decode()


def test_deactivating_a_user_reads_as_who_did_what_to_whom(admin_user: Any, dave: Any) -> None:
    user_deactivate(user=dave, actor=admin_user)
    html = audit_page(admin_user, action="user.")
    assert audit_sentences(html)[0].startswith("Ada deactivated Dave Mills")
    assert "{'is_active': True}" not in audit_sentences(html)[0]


def test_the_raw_before_and_after_sit_behind_a_details_toggle(admin_user: Any, dave: Any) -> None:
    user_deactivate(user=dave, actor=admin_user)
    html = audit_page(admin_user, action="user.")
    toggle = re.search(r"<details class=\"audit-raw\">(.*?)</details>", html, re.S)
    assert toggle is not None
    assert "<summary>Details</summary>" in toggle.group(1)
    assert "user.deactivated" in toggle.group(1)
    assert "is_active" in toggle.group(1)


def test_a_role_change_on_the_manage_page_is_one_row(admin_user: Any, dave: Any) -> None:
    before = AuditEvent.objects.count()
    user_roles_set(user=dave, role_names=[roles.FINANCE], actor=admin_user)
    [event] = AuditEvent.objects.all()[: AuditEvent.objects.count() - before]
    assert event.action == "user.roles_changed"
    assert audit_sentences(audit_page(admin_user, object="dmills"))[0] == (
        "Ada changed Dave Mills's roles from Reviewer to Finance"
    )


def test_an_invitation_is_one_row_naming_the_roles(admin_user: Any) -> None:
    user_invite(
        email="nia@example.org", username="nia", role_names=[roles.REVIEWER], actor=admin_user
    )
    actions = list(AuditEvent.objects.filter(object_id="nia").values_list("action", flat=True))
    assert actions == ["user.invited"]
    assert audit_sentences(audit_page(admin_user, object="nia")) == ["Ada invited nia as Reviewer"]


def test_a_role_change_made_outside_the_portals_pages_is_still_recorded(
    admin_user: Any, dave: Any
) -> None:
    from django.contrib.auth.models import Group

    dave.groups.add(Group.objects.get(name=roles.FINANCE))
    assert audit_sentences(audit_page(admin_user, object="dmills"))[0] == (
        "Dave Mills was given the role Finance"
    )


def test_each_date_stays_on_one_line(admin_user: Any, dave: Any) -> None:
    user_deactivate(user=dave, actor=admin_user)
    html = audit_page(admin_user)
    assert re.search(r'<td class="audit-when"><time datetime="[^"]+">\w{3} \d+, \d{4}, ', html)
    css = (Path(settings.BASE_DIR) / "static" / "portal" / "portal.css").read_text()
    assert re.search(r"\.audit-when[^{]*\{[^}]*white-space: nowrap", css)
    # On a phone the date moves above the sentence, still on one line.
    assert re.search(r'<th scope="row"[^>]*><time class="audit-when-inline" datetime="', html)
    assert re.search(r"\.audit-when-inline \{ display: block; white-space: nowrap;", css)


def test_an_action_nobody_phrased_still_reads_plainly(admin_user: Any) -> None:
    from portal.audit import audit_record

    audit_record(actor=admin_user, action="widget.polished", object_id="W-1")
    assert audit_sentences(audit_page(admin_user, action="widget"))[0] == (
        "Ada: widget: polished (W-1)"
    )
