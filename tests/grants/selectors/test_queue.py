"""The queue's filters: "decided by" reads the decision in force."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from grants.models import Application, Decision
from grants.selectors.queue import queue_filters
from tests.factories import ApplicationFactory, DecisionFactory

pytestmark = pytest.mark.django_db


def decided(application: Application, kind: str, minutes_ago: int, *, undone: bool = False) -> None:
    made = DecisionFactory.create(
        application=application, kind=kind, undone_at=timezone.now() if undone else None
    )
    Decision.objects.filter(pk=made.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def decided_by(kind: str) -> set[str]:
    return {a.reference for a in queue_filters(QueryDict(f"status=&kind={kind}")).qs}


def test_decided_by_reads_the_newest_decision_not_undone() -> None:
    by_a_reviewer = ApplicationFactory.create(needs_review=True)
    decided(by_a_reviewer, "auto", 30)
    decided(by_a_reviewer, "review", 20)
    undone_by_a_reviewer = ApplicationFactory.create(needs_review=True)
    decided(undone_by_a_reviewer, "auto", 30)
    decided(undone_by_a_reviewer, "review", 10, undone=True)
    assert decided_by("review") == {by_a_reviewer.reference}
    assert decided_by("auto") == {undone_by_a_reviewer.reference}
