"""Injectable time source, so tests can pin or move the business clock instead of sleeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; everything we store is UTC, so say so."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def shanghai_date(value: dt.datetime) -> dt.date:
    return as_utc(value).astimezone(SHANGHAI).date()


class MovableClock:
    """Another clock (real time by default) plus an offset that only grows. A service runs on
    one when its settings allow test clock control (`crmkit.clock_control`); tests in the same
    process can use one over a fixed base. Moving it calls its listeners, so loops that wait
    for the clock (periodic jobs) look again at once instead of at their next poll."""

    def __init__(self, base: Clock = utcnow) -> None:
        self._base = base
        self._offset = dt.timedelta(0)
        self._listeners: list[Callable[[], None]] = []

    def __call__(self) -> dt.datetime:
        return self._base() + self._offset

    @property
    def offset(self) -> dt.timedelta:
        return self._offset

    def advance(self, by: dt.timedelta) -> dt.datetime:
        """Move forward by `by` and return the new time. Never backwards: leases, due times and
        event times all assume time does not run back."""
        if by <= dt.timedelta(0):
            raise ValueError(f"a clock only moves forward, not by {by}")
        self._offset += by
        for listener in list(self._listeners):
            listener()
        return self()

    def on_advance(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
