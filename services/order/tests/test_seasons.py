"""Festival seasons move with the lunar calendar, year by year."""

from __future__ import annotations

from datetime import date

import pytest

from crm_order.catalogue.seasons import Festival, festival_day, in_season, season, seasons_on


@pytest.mark.parametrize(
    ("festival", "year", "expected"),
    [
        (Festival.SPRING_FESTIVAL, 2026, date(2026, 2, 17)),
        (Festival.SPRING_FESTIVAL, 2027, date(2027, 2, 6)),
        (Festival.LANTERN, 2027, date(2027, 2, 20)),
        (Festival.DRAGON_BOAT, 2026, date(2026, 6, 19)),
        (Festival.DRAGON_BOAT, 2027, date(2027, 6, 9)),
        (Festival.MID_AUTUMN, 2026, date(2026, 9, 25)),
        (Festival.MID_AUTUMN, 2028, date(2028, 10, 3)),
        (Festival.NATIONAL_DAY, 2027, date(2027, 10, 1)),
    ],
)
def test_festival_days_follow_the_lunar_calendar(festival: Festival, year: int, expected: date) -> None:
    assert festival_day(festival, year) == expected


def test_the_spring_festival_season_starts_in_the_previous_december() -> None:
    running = in_season(Festival.SPRING_FESTIVAL, date(2026, 12, 28))
    assert running is not None
    assert running.festival_day == date(2027, 2, 6)
    assert running.starts == date(2026, 12, 23)


def test_out_of_season_is_none() -> None:
    assert in_season(Festival.DRAGON_BOAT, date(2026, 8, 1)) is None
    assert date(2026, 6, 20) not in season(Festival.DRAGON_BOAT, 2026)


def test_overlapping_seasons_are_listed_soonest_festival_first() -> None:
    # Mid-Autumn 2028 falls on 3 October, inside the National Day week: both seasons run on 1 Oct.
    assert [s.festival for s in seasons_on(date(2028, 10, 1))] == [Festival.NATIONAL_DAY, Festival.MID_AUTUMN]


def test_years_outside_the_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="year"):
        festival_day(Festival.MID_AUTUMN, 2100)
