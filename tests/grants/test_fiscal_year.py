"""Fiscal years: which year a date or moment belongs to, its label and its span."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.fiscal_year import FiscalYear, fiscal_year, long_date

CHICAGO = ZoneInfo("America/Chicago")

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
# Every (month, day) a year always has (the days of a common year); Feb 29 is not a valid start.
starts = st.dates(min_value=date(2001, 1, 1), max_value=date(2001, 12, 31)).map(
    lambda day: (day.month, day.day)
)
# The leap years themselves, drawn directly: filtering any year for them discards three in four
# draws, and hypothesis's health check fails the test when too many are filtered out.
leap_years = st.sampled_from([year for year in range(1901, 2200) if calendar.isleap(year)])


def test_fy_2026_27_runs_from_may_1_2026_to_april_30_2027() -> None:
    fy = fiscal_year(date(2026, 5, 1))
    assert fy == FiscalYear(date(2026, 5, 1), date(2027, 4, 30))
    assert fy.label == "FY 2026-27"
    assert str(fy) == "FY 2026-27"
    assert fy.key == 2026
    assert fy.span == "May 1, 2026 \N{EN DASH} April 30, 2027"


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 4, 30), "FY 2025-26"),
        (date(2026, 5, 1), "FY 2026-27"),
        (date(2026, 12, 31), "FY 2026-27"),
        (date(2027, 1, 1), "FY 2026-27"),
        (date(2027, 4, 30), "FY 2026-27"),
        (date(2027, 5, 1), "FY 2027-28"),
        (date(2028, 2, 29), "FY 2027-28"),
        (date(1999, 12, 31), "FY 1999-00"),
        (date(2000, 5, 1), "FY 2000-01"),
    ],
)
def test_a_date_on_either_side_of_may_1_falls_in_the_right_year(day: date, label: str) -> None:
    assert fiscal_year(day).label == label


def test_a_leap_day_belongs_to_the_year_that_started_the_may_before() -> None:
    fy = fiscal_year(date(2028, 2, 29))
    assert fy.label == "FY 2027-28"
    assert (fy.end - fy.start).days + 1 == 366


@pytest.mark.parametrize(
    ("moment", "label"),
    [
        # 04:30 UTC on May 1 is still 23:30 on April 30 in Chicago (CDT, UTC-5).
        (datetime(2027, 5, 1, 4, 30, tzinfo=UTC), "FY 2026-27"),
        (datetime(2027, 5, 1, 4, 59, 59, tzinfo=UTC), "FY 2026-27"),
        (datetime(2027, 5, 1, 5, 0, tzinfo=UTC), "FY 2027-28"),
        (datetime(2027, 5, 1, 0, 0, tzinfo=CHICAGO), "FY 2027-28"),
        (datetime(2027, 4, 30, 23, 59, 59, tzinfo=CHICAGO), "FY 2026-27"),
    ],
)
def test_a_moment_is_placed_by_its_date_in_the_portal_time_zone(
    moment: datetime, label: str
) -> None:
    assert fiscal_year(moment).label == label


def test_the_time_zone_can_be_given_by_name_or_zone() -> None:
    moment = datetime(2027, 5, 1, 4, 30, tzinfo=UTC)
    assert fiscal_year(moment, tz="UTC").label == "FY 2027-28"
    assert fiscal_year(moment, tz=ZoneInfo("Europe/Berlin")).label == "FY 2027-28"
    assert fiscal_year(moment, tz="America/Chicago").label == "FY 2026-27"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        fiscal_year(datetime(2027, 5, 1, 4, 30))


@pytest.mark.parametrize(
    ("start", "day", "label", "span"),
    [
        ((7, 1), date(2026, 6, 30), "FY 2025-26", "July 1, 2025 \N{EN DASH} June 30, 2026"),
        ((7, 1), date(2026, 7, 1), "FY 2026-27", "July 1, 2026 \N{EN DASH} June 30, 2027"),
        ((1, 1), date(2026, 1, 1), "FY 2026", "January 1, 2026 \N{EN DASH} December 31, 2026"),
        ((1, 1), date(2026, 12, 31), "FY 2026", "January 1, 2026 \N{EN DASH} December 31, 2026"),
        ((3, 1), date(2028, 2, 29), "FY 2027-28", "March 1, 2027 \N{EN DASH} February 29, 2028"),
        (
            (12, 31),
            date(2026, 12, 30),
            "FY 2025-26",
            "December 31, 2025 \N{EN DASH} December 30, 2026",
        ),
    ],
)
def test_the_start_day_is_configurable(
    start: tuple[int, int], day: date, label: str, span: str
) -> None:
    fy = fiscal_year(day, start)
    assert fy.label == label
    assert fy.span == span


@pytest.mark.parametrize("start", [(2, 29), (2, 30), (4, 31), (13, 1), (0, 1), (5, 0)])
def test_a_start_that_not_every_year_has_is_refused(start: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="cannot start"):
        fiscal_year(date(2026, 5, 1), start)


def test_next_and_previous_step_one_year() -> None:
    fy = FiscalYear.from_key(2026, (5, 1))
    assert fy.next().label == "FY 2027-28"
    assert fy.previous().label == "FY 2025-26"
    assert fy.next().previous() == fy


def test_long_dates_have_no_leading_zeros() -> None:
    assert long_date(date(2026, 5, 1)) == "May 1, 2026"
    assert long_date(date(2027, 4, 30)) == "April 30, 2027"


@given(dates, starts)
def test_every_date_lies_inside_its_fiscal_year(day: date, start: tuple[int, int]) -> None:
    fy = fiscal_year(day, start)
    assert fy.start <= day <= fy.end
    assert fy.contains(day)
    assert (fy.start.month, fy.start.day) == start


@given(dates, starts)
def test_every_date_is_in_exactly_one_fiscal_year(day: date, start: tuple[int, int]) -> None:
    fy = fiscal_year(day, start)
    assert not fy.previous().contains(day)
    assert not fy.next().contains(day)


@given(dates, starts)
def test_consecutive_fiscal_years_tile_without_gap_or_overlap(
    day: date, start: tuple[int, int]
) -> None:
    fy = fiscal_year(day, start)
    assert fy.next().start == fy.end + timedelta(days=1)
    assert fy.previous().end == fy.start - timedelta(days=1)
    assert fiscal_year(fy.end, start) == fy
    assert fiscal_year(fy.end + timedelta(days=1), start) == fy.next()
    assert fiscal_year(fy.start - timedelta(days=1), start) == fy.previous()


@given(dates, starts)
def test_a_fiscal_year_lasts_365_or_366_days(day: date, start: tuple[int, int]) -> None:
    fy = fiscal_year(day, start)
    assert (fy.end - fy.start).days + 1 in (365, 366)


@given(dates, starts)
def test_a_key_leads_back_to_the_same_fiscal_year(day: date, start: tuple[int, int]) -> None:
    fy = fiscal_year(day, start)
    assert FiscalYear.from_key(fy.key, start) == fy


@given(st.integers(1901, 2199), st.sampled_from([(4, 30), (5, 1)]))
def test_april_30_and_may_1_fall_either_side_of_the_default_boundary(
    year: int, month_day: tuple[int, int]
) -> None:
    fy = fiscal_year(date(year, *month_day))
    expected_key = year if month_day == (5, 1) else year - 1
    assert fy.key == expected_key


@given(leap_years)
def test_a_leap_day_is_in_the_fiscal_year_that_started_the_may_before(year: int) -> None:
    fy = fiscal_year(date(year, 2, 29))
    assert fy.key == year - 1
    assert (fy.end - fy.start).days + 1 == 366


# Local wall-clock times around the spring-forward (March) and fall-back (November) changes.
dst_days = st.sampled_from(
    [date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7)]
)


@given(dst_days, st.times(), st.booleans())
def test_an_aware_moment_on_a_dst_change_day_maps_to_its_local_date(
    day: date, clock: time, fold: bool
) -> None:
    local = datetime.combine(day, clock, tzinfo=CHICAGO).replace(fold=int(fold))
    as_utc = local.astimezone(UTC)
    # Round-tripping through UTC normalises non-existent spring-forward times; take that date.
    expected_day = as_utc.astimezone(CHICAGO).date()
    assert fiscal_year(as_utc).contains(expected_day)
    assert fiscal_year(as_utc) == fiscal_year(expected_day)


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    starts,
)
def test_any_aware_moment_is_placed_by_its_chicago_date(
    moment: datetime, start: tuple[int, int]
) -> None:
    fy = fiscal_year(moment, start)
    assert fy == fiscal_year(moment.astimezone(CHICAGO).date(), start)


@given(st.integers(0, 48 * 60), st.sampled_from([date(2026, 3, 8), date(2026, 11, 1)]))
def test_every_minute_across_a_dst_change_in_utc_lands_on_the_chicago_calendar_day(
    minutes: int, day: date
) -> None:
    moment = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(minutes=minutes)
    local_day = moment.astimezone(CHICAGO).date()
    # Chicago is 5 or 6 hours behind UTC, so the local date is the UTC date or the day before.
    assert local_day in (moment.date(), moment.date() - timedelta(days=1))
    assert fiscal_year(moment) == fiscal_year(local_day)


def test_the_may_1_boundary_in_chicago_is_at_05_00_utc_during_daylight_time() -> None:
    before = datetime(2026, 5, 1, 4, 59, 59, 999999, tzinfo=UTC)
    after = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)
    assert fiscal_year(before).label == "FY 2025-26"
    assert fiscal_year(after).label == "FY 2026-27"


def test_a_january_1_boundary_in_chicago_is_at_06_00_utc_during_standard_time() -> None:
    before = datetime(2027, 1, 1, 5, 59, tzinfo=UTC)
    after = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)
    assert fiscal_year(before, (1, 1)).label == "FY 2026"
    assert fiscal_year(after, (1, 1)).label == "FY 2027"
