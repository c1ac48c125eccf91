"""Migrations apply forwards and backwards on the engine under test (SQLite, then PostgreSQL)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = [pytest.mark.db_engine, pytest.mark.django_db(transaction=True)]


def test_there_are_no_unapplied_migrations() -> None:
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


def test_the_roles_migration_reverses_and_applies_again() -> None:
    call_command("migrate", "portal", "0001", verbosity=0)
    assert not Group.objects.filter(name__in=["Reviewer", "Finance", "Admin"]).exists()
    call_command("migrate", "portal", verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) >= {"Reviewer", "Finance", "Admin"}
