"""Seasonal tags (端午, 中秋, 春节 …): which festival a product sells for, and when its season runs
in a given year. Lunar festivals move every year, so their dates come from `lunardate`'s tables
(1900-2099), never from a hand-kept list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from lunardate import LunarDate

FIRST_YEAR = 1901
LAST_YEAR = 2099


class Festival(StrEnum):
    NEW_YEAR = "new_year"  # 元旦
    SPRING_FESTIVAL = "spring_festival"  # 春节
    LANTERN = "lantern"  # 元宵
    QINGMING = "qingming"  # 清明 (a solar term, taken as 4 April's week)
    DRAGON_BOAT = "dragon_boat"  # 端午
    MID_AUTUMN = "mid_autumn"  # 中秋
    NATIONAL_DAY = "national_day"  # 国庆


@dataclass(frozen=True)
class FestivalRule:
    label: str
    label_en: str
    month: int
    day: int
    lunar: bool
    # The selling season: goods for a festival sell in the weeks before it (年货, 粽子, 月饼).
    days_before: int
    days_after: int


RULES: dict[Festival, FestivalRule] = {
    Festival.NEW_YEAR: FestivalRule("元旦", "New Year's Day", 1, 1, False, 14, 2),
    Festival.SPRING_FESTIVAL: FestivalRule("春节", "Spring Festival", 1, 1, True, 45, 14),
    Festival.LANTERN: FestivalRule("元宵", "Lantern Festival", 1, 15, True, 14, 0),
    Festival.QINGMING: FestivalRule("清明", "Qingming", 4, 4, False, 14, 2),
    Festival.DRAGON_BOAT: FestivalRule("端午", "Dragon Boat Festival", 5, 5, True, 30, 0),
    Festival.MID_AUTUMN: FestivalRule("中秋", "Mid-Autumn Festival", 8, 15, True, 45, 0),
    Festival.NATIONAL_DAY: FestivalRule("国庆", "National Day", 10, 1, False, 14, 6),
}


@dataclass(frozen=True)
class Season:
    festival: Festival
    festival_day: date
    starts: date
    ends: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.starts <= day <= self.ends


def festival_day(festival: Festival, year: int) -> date:
    """The festival's Gregorian date in `year` (the lunar year for lunar festivals; 春节 and 元宵
    fall in the same Gregorian year as their lunar new year)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year must be between {FIRST_YEAR} and {LAST_YEAR}")
    rule = RULES[festival]
    if rule.lunar:
        solar: date = LunarDate(year, rule.month, rule.day).to_solar_date()
        return solar
    return date(year, rule.month, rule.day)


def season(festival: Festival, year: int) -> Season:
    rule = RULES[festival]
    day = festival_day(festival, year)
    return Season(festival, day, day - timedelta(days=rule.days_before), day + timedelta(days=rule.days_after))


def in_season(festival: Festival, day: date) -> Season | None:
    """The season of `festival` that `day` falls in, if any. A season can begin in the previous
    Gregorian year (春节's 年货 season starts in December), so the next year's is checked too."""
    for year in (day.year, day.year + 1):
        if FIRST_YEAR <= year <= LAST_YEAR and day in (current := season(festival, year)):
            return current
    return None


def seasons_on(day: date) -> list[Season]:
    """Every festival season running on `day`, soonest festival first."""
    running = [current for festival in Festival if (current := in_season(festival, day)) is not None]
    return sorted(running, key=lambda current: current.festival_day)
