from __future__ import annotations

from typing import Any

import pytest

from portal.audit import audit_record
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_event_records_who_what_and_the_change(reviewer: Any) -> None:
    event = audit_record(
        actor=reviewer,
        action="user.role_changed",
        obj=reviewer,
        before={"roles": []},
        after={"roles": ["Reviewer"]},
        ip="10.1.2.3",
    )
    assert event.actor_name == "rita"
    assert event.object_type == "auth.user"
    assert event.after == {"roles": ["Reviewer"]}


def test_a_system_actor_is_named() -> None:
    event = audit_record(
        actor="webhook",
        action="payment.received",
        object_type="grants.application",
        object_id="MG-2026-00001",
    )
    assert event.actor is None
    assert event.actor_name == "webhook"


def test_the_audit_log_cannot_be_changed_or_deleted(reviewer: Any) -> None:
    event = audit_record(actor=reviewer, action="x")
    event.message = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(message="x")


def test_role_changes_are_audited(reviewer: Any) -> None:
    from django.contrib.auth.models import Group

    reviewer.groups.add(Group.objects.get(name="Finance"))
    event = AuditEvent.objects.filter(action="auth.roles_add").latest("id")
    assert event.object_id == reviewer.username
    assert event.after == {"roles": ["Finance"]}
