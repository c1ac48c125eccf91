"""The portal's one date format, in Python and as template filters."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.template import Context, Template
from django.test import override_settings

from portal.lib.dates import portal_date, portal_datetime


def test_it_writes_a_day_as_month_day_year() -> None:
    assert portal_date(date(2026, 3, 7)) == "Mar 7, 2026"


@override_settings(TIME_ZONE="America/Chicago")
def test_it_writes_a_moment_in_local_time_with_a_24_hour_clock() -> None:
    moment = datetime(2026, 3, 7, 2, 5, tzinfo=UTC)  # the evening before in Chicago
    assert portal_datetime(moment) == "Mar 6, 2026, 20:05"
    assert portal_date(moment) == "Mar 6, 2026"


def test_it_writes_nothing_for_no_date_and_only_the_day_for_a_bare_day() -> None:
    assert portal_date(None) == ""
    assert portal_datetime(None) == ""
    assert portal_datetime(date(2026, 3, 7)) == "Mar 7, 2026"


def test_the_template_filters_use_the_same_format() -> None:
    template = Template("{% load grants %}{{ day|portal_date }} / {{ moment|portal_datetime }}")
    moment = datetime(2026, 12, 1, 9, 30)  # naive: written as it is
    rendered = template.render(Context({"day": date(2026, 12, 1), "moment": moment}))
    assert rendered == "Dec 1, 2026 / Dec 1, 2026, 09:30"
